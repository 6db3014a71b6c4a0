"""What letting readers in during a crawl costs the crawl's batch commits.

    .venv/bin/python benchmarks/store_readers.py [--base 2000] [--batches 12] [--json]

DuckDB lets no other process open a file while one holds it for writing, so a crawl
holding its file from start to end locks every reader out for hours. The ways to let
readers in, timed here in the same run against the file held open:

- **held**: the connection stays open for the whole crawl (what the crawl did; readers
  locked out), the reference;
- **reopen + checkpoint**: the file opened for each batch, the batch committed, the file
  closed, DuckDB checkpointing on close; readers get in between batches;
- **reopen, WAL kept**: the same, but the close leaves the commit in the WAL (which DuckDB
  1.5 and 2.0 readers read) and DuckDB checkpoints once the WAL passes its threshold, as a
  held connection does: what the crawl does;
- **snapshot**: the connection held, and after each batch a checkpoint and a copy of the
  file that readers would open instead (they would not read the file they were told of).

Each way starts from a copy of the same file and commits the same batches, one way after
the other. A batch is what the crawl's store stage commits: 50 article pages (compressed bodies)
and their 50 documents through ``pipelines.ingest.add_documents`` (index entries made
beforehand, as the crawl's workers make them). The base file holds ``--base`` generated
documents and their pages first (``benchmarks/corpus.py``; made in a process pool before
any clock starts). Also timed: an open and close with no write, the WAL left by the
batches before (what a look-up of a stored page or its validators costs the crawl between
batches, and about what a reader's open costs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import corpus  # noqa: E402
from benchmarks.store_query import documents  # noqa: E402

BATCH = 50


def pages_of(docs) -> list:
    from pipelines.page import Page

    out = []
    for d in docs:
        number = int(d.doc_id[2:])
        p = corpus.page(number)
        out.append(Page(url=d.url, site=d.site, kind="article", status=200, body=p.body,
                        content_type=p.content_type, doc_id=d.doc_id))
    return out


def entries_of(store, docs) -> dict:
    from pipelines.index.entry import index_entry
    from pipelines.ingest import relevance_model

    model = relevance_model(store)
    return {d.doc_id: index_entry(d, model) for d in docs}


def commit(store, pages, docs, entries) -> None:
    from pipelines.ingest import add_documents

    with store.transaction():
        store.put_pages(pages)
        add_documents(store, docs, entries)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=int, default=2000, help="documents in the file before the timed batches")
    ap.add_argument("--batches", type=int, default=12, help="timed batches of each kind")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from pipelines.seeds import load_seed_dir
    from pipelines.store import Store

    total = args.base + args.batches * BATCH
    print(f"making {total} documents ...", file=sys.stderr, flush=True)
    docs = documents(0, total, args.workers)
    pages = pages_of(docs)
    tmp = Path(tempfile.mkdtemp(prefix="djcrawl-readers-"))
    db, snap = tmp / "bench.duckdb", tmp / "readers-copy.duckdb"
    try:
        with Store(db) as store:
            load_seed_dir(store, ROOT / "seeds" / "documents")
            entries = entries_of(store, docs)
            for a in range(0, args.base, 500):
                commit(store, pages[a:a + 500], docs[a:a + 500], entries)
        kinds = ("held", "reopen_checkpoint", "reopen_wal", "snapshot")
        times = {k: [] for k in (*kinds, "open_close_only")}
        # each way on its own copy of the base file, with the same batches, one after the other
        for kind in kinds:
            file = tmp / f"{kind}.duckdb"
            shutil.copyfile(db, file)
            held = Store(file) if kind in ("held", "snapshot") else None
            for b in range(args.batches):
                part = slice(args.base + b * BATCH, args.base + (b + 1) * BATCH)
                t = time.perf_counter()
                if held is not None:
                    commit(held, pages[part], docs[part], entries)
                    if kind == "snapshot":
                        held.con.execute("CHECKPOINT")
                        shutil.copyfile(file, snap)
                else:
                    with Store(file, checkpoint_on_close=kind == "reopen_checkpoint") as store:
                        commit(store, pages[part], docs[part], entries)
                times[kind].append(time.perf_counter() - t)
                if kind == "reopen_wal":
                    t = time.perf_counter()
                    Store(file, checkpoint_on_close=False).close()
                    times["open_close_only"].append(time.perf_counter() - t)
            if held is not None:
                held.close()
            print(f"{kind}: {sum(times[kind]):.1f} s", file=sys.stderr, flush=True)
        db = tmp / "reopen_wal.duckdb"
        size = db.stat().st_size
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    result = {"base_documents": args.base, "batch": BATCH, "batches_each": args.batches,
              "file_mb": round(size / 1e6, 1),
              "ms_per_batch": {k: round(v, 1) for k, v in med.items()},
              "total_s": {k: round(sum(v), 1) for k, v in times.items()},
              "ratio_to_held": {k: round(sum(times[k]) / sum(times["held"]), 2) for k in kinds}}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"file: {args.base} documents + {args.batches * BATCH} in batches of {BATCH}, {result['file_mb']} MB at the end")
    print(f"{'commit of one batch':<44}{'median ms':>10}{'total s':>9}{'total vs held':>15}")
    for kind, label in (("held", "held: file open for the whole crawl"),
                        ("reopen_checkpoint", "reopen + checkpoint on close"),
                        ("reopen_wal", "reopen, WAL kept (used)"),
                        ("snapshot", "snapshot: commit, checkpoint, copy file")):
        print(f"{label:<44}{med[kind]:>10.1f}{sum(times[kind]):>9.1f}{result['ratio_to_held'][kind]:>14.2f}x")
    print(f"{'open + close, no write (a look-up)':<44}{med['open_close_only']:>10.1f}")


if __name__ == "__main__":
    main()
