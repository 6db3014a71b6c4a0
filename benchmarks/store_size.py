"""Bytes on disk a document, where they go, and the reads they cost, in one run.

    .venv/bin/python benchmarks/store_size.py [--sizes 2000] [--json]

A fresh DuckDB file (in ``benchmarks/out/store_size/``) gets, for each size in turn, the
generated corpus's documents (as ``benchmarks/store_query.py`` makes and loads them:
``pipelines.ingest.add_documents`` in batches of 500) and, beside each document, its raw
page in ``pages`` (the generated HTML, stored as the crawl stores it). Measured at each
size, after a CHECKPOINT:

- the file: its size, ``pragma_database_size()`` (used and free blocks), bytes a document;
- per table and column: the blocks its segments and their overflow blocks (long strings,
  lists) take, the bytes they hold (a segment runs to the next one in its block), and the
  compression DuckDB chose;
- read latencies, median and p95 over ~50 calls each: one document's ``text`` by
  ``doc_id``; ``pipelines.search.search`` over three queries; ``pipelines.search.similar``
  of three documents.

Run it on two checkouts one after the other to compare a change (same corpus, same machine).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import corpus  # noqa: E402
from benchmarks.pipeline import table  # noqa: E402
from benchmarks.store_query import BATCH, SEARCHES, _documents  # noqa: E402

CALLS = 48
BIG = 64 * 1024  # a column under this many bytes is folded into its table's "other columns"


def _documents_and_pages(numbers: range) -> tuple[list, list]:
    """Documents of generated pages ``numbers`` and the pages themselves (a worker process)."""
    from pipelines.page import Page

    docs = _documents(numbers)
    pages = []
    for i, d in zip(numbers, docs):
        p = corpus.page(i)
        pages.append(Page(url=p.url, site=d.site, kind="article", status=200, body=p.body,
                          content_type=p.content_type, encoding="utf-8", doc_id=d.doc_id))
    return docs, pages


def corpus_part(start: int, stop: int, workers: int) -> tuple[list, list]:
    chunks = [range(a, min(stop, a + BATCH)) for a in range(start, stop, BATCH)]
    if workers <= 1:
        parts = [_documents_and_pages(c) for c in chunks]
    else:  # spawn, not fork: the parent holds an open DuckDB connection and its threads
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            parts = list(pool.map(_documents_and_pages, chunks))
    return [d for p in parts for d in p[0]], [pg for p in parts for pg in p[1]]


def load(store, docs: list, pages: list) -> float:
    from pipelines.ingest import add_documents

    t = time.perf_counter()
    for a in range(0, len(docs), BATCH):
        with store.transaction():  # as the crawl commits a batch: pages and documents together
            store.put_pages(pages[a:a + BATCH])
            add_documents(store, docs[a:a + BATCH])
    return time.perf_counter() - t


def storage(con) -> dict:
    """Per table and column: blocks, bytes and compression of its stored segments."""
    block = con.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0]
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY 1").fetchall()]
    segments = []  # (table, column, block_id, offset, extra blocks, compression)
    for t in tables:
        for col, block_id, offset, extra, comp in con.execute(
                f"SELECT column_name, block_id, block_offset, additional_block_ids, compression "
                f"FROM pragma_storage_info('{t}') WHERE persistent AND block_id >= 0").fetchall():
            segments.append((t, col, block_id, offset, list(extra or []), comp))
    by_block: dict[int, list[int]] = {}
    for s in segments:
        by_block.setdefault(s[2], []).append(s[3])
    for offsets in by_block.values():
        offsets.sort()
    out: dict = {}
    for t, col, block_id, offset, extra, comp in segments:
        offsets = by_block[block_id]
        nxt = next((o for o in offsets if o > offset), block)
        c = out.setdefault(t, {}).setdefault(col, {"bytes": 0, "blocks": set(), "compression": set()})
        c["bytes"] += (nxt - offset) + block * len(extra)
        c["blocks"].update([block_id, *extra])
        c["compression"].add(comp)
    for cols in out.values():
        for c in cols.values():
            c["blocks"] = len(c["blocks"])
            c["compression"] = ",".join(sorted(c["compression"]))
    return out


def _stats(samples: list[float]) -> dict:
    s = sorted(samples)
    return {"median": statistics.median(s), "p95": s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]}


def latencies(store, n: int) -> dict:
    from pipelines.search import search, similar

    rng = random.Random(15)
    ids = [f"b_{rng.randrange(n):07d}" for _ in range(CALLS)]
    sources = ["b_0000000", f"b_{n // 2:07d}", f"b_{n - 1:07d}"]

    def timed(fn, args) -> dict:
        ms = []
        for a in args:
            t = time.perf_counter()
            fn(a)
            ms.append((time.perf_counter() - t) * 1000)
        return _stats(ms)

    return {
        "text by doc_id": timed(lambda d: store.con.execute(
            "SELECT text FROM documents WHERE doc_id = ?", [d]).fetchone(), ids),
        "search (3 queries)": timed(lambda q: search(store, q, limit=10),
                                    [SEARCHES[i % 3] for i in range(CALLS)]),
        "similar (3 documents)": timed(lambda d: similar(store, d, limit=10),
                                       [sources[i % 3] for i in range(CALLS)]),
    }


def measure(store, path: Path, n: int, seconds: float) -> dict:
    store.con.execute("CHECKPOINT")
    size = store.con.execute("SELECT * FROM pragma_database_size()").fetchone()
    cols = [d[0] for d in store.con.description]
    db = dict(zip(cols, size))
    file_bytes = path.stat().st_size
    return {"documents": n, "load_seconds": seconds, "file_bytes": file_bytes,
            "bytes_per_document": file_bytes / n,
            "used_blocks": db["used_blocks"], "free_blocks": db["free_blocks"], "block_size": db["block_size"],
            "used_bytes_per_document": db["used_blocks"] * db["block_size"] / n,
            "storage": storage(store.con), "latency_ms": latencies(store, n)}


def report(row: dict) -> str:
    n = row["documents"]
    lines = [f"{n:,} documents: file {row['file_bytes'] / 1e6:,.1f} MB = {row['bytes_per_document'] / 1e3:,.1f} KB "
             f"a document; {row['used_blocks']} used + {row['free_blocks']} free blocks of "
             f"{row['block_size'] // 1024} KB (used: {row['used_bytes_per_document'] / 1e3:,.1f} KB a document); "
             f"load {n / row['load_seconds']:,.1f} docs/s\n"]
    rows = []
    for t, cols in sorted(row["storage"].items(), key=lambda kv: -sum(c["bytes"] for c in kv[1].values())):
        small = {"bytes": 0, "blocks": 0}
        for col, c in sorted(cols.items(), key=lambda kv: -kv[1]["bytes"]):
            if c["bytes"] >= BIG:
                rows.append([t, col, c["blocks"], f"{c['bytes'] / 1e6:,.2f}", f"{c['bytes'] / n / 1e3:,.2f}",
                             c["compression"]])
            else:
                small["bytes"] += c["bytes"]
                small["blocks"] += c["blocks"]
        if small["bytes"]:
            rows.append([t, "(other columns)", small["blocks"], f"{small['bytes'] / 1e6:,.2f}",
                         f"{small['bytes'] / n / 1e3:,.2f}", ""])
    lines.append(table(["table", "column", "blocks", "MB", "KB/doc", "compression"], rows))
    lines.append("\nread latency, ms over ~50 calls\n")
    lines.append(table(["read", "median", "p95"],
                       [[k, f"{v['median']:,.2f}", f"{v['p95']:,.2f}"] for k, v in row["latency_ms"].items()]))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2000", help="corpus sizes, comma-separated, ascending")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="processes that prepare the documents (not timed)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from pipelines.seeds import load_seed_dir
    from pipelines.store import Store

    sizes = sorted(int(s) for s in args.sizes.split(","))
    directory = corpus.OUT / "store_size"
    directory.mkdir(parents=True, exist_ok=True)
    for f in directory.glob("*.duckdb*"):
        f.unlink()
    path = directory / "corpus.duckdb"
    results = []
    with Store(path) as store:
        load_seed_dir(store, corpus.SEEDS)
        have, seconds = 0, 0.0
        for n in sizes:
            for a in range(have, n, 5000):  # never 100,000 documents in memory at once
                docs, pages = corpus_part(a, min(n, a + 5000), args.workers)
                seconds += load(store, docs, pages)
            have = n
            row = measure(store, path, n, seconds)
            results.append(row)
            if not args.json:
                print(report(row) + "\n", flush=True)
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
