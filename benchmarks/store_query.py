"""Load rate into DuckDB and query times as the corpus grows (1k -> 10k -> 100k documents).

    .venv/bin/python benchmarks/store_query.py [--sizes 1000,10000] [--json]
    .venv/bin/python benchmarks/store_query.py --sizes 1000,10000,100000   # the 100k run takes long
    .venv/bin/python benchmarks/store_query.py --queries-only   # the queries again, on the file left

One DuckDB file (in ``benchmarks/out/``) holding the seed reports grows to each size
in turn; the documents are the generated corpus's report texts (``benchmarks/corpus.py``)
made into documents by ``pipelines.documents.document_from_text`` in a process pool
before any clock starts (turning pages into documents is ``benchmarks/pipeline.py``'s
subject). Measured at each size:

- **load**: documents/s of ``pipelines.ingest.add_documents`` in batches of 500 (the
  store stage as crawl, load-seeds and reprocess run it: Arrow upsert, MinHash, LSH
  bands, BM25 postings, relevance, reprint links), and of ``Store.upsert_documents``
  alone (the Arrow batch write); beside them, the same rows written with DuckDB
  ``executemany`` into a table of the same columns (a 1,000-document sample);
- **queries**: wall ms of the README's example queries, ``pipelines.search.search``
  (three queries) and ``pipelines.search.similar`` (three documents), median of 3 runs.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
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

BATCH = 500
CHUNK = 5000

#: The README's example queries ("Example queries"), as users run them.
README_QUERIES = {
    "1 seeds": "select doc_id, script, title, published, source_name, authors, editor, length(text) from documents",
    "2 by month": "select date_trunc('month', published) as month, count(*) from documents where published is not null group by 1 order by 1",
    "3 三会一课": "select title, published, site from documents where doc_id in (select doc_id from doc_terms where term = '三会一课') order by published desc nulls last",
    "3 三会一课 (token lists)": "select title, published, site from documents where list_contains(tokens, '三会一课') order by published desc nulls last",
    "4 keywords": "select kw, count(*) as n from (select unnest(keywords) as kw from documents) group by kw order by n desc limit 20",
    "5 provenance": "select doc_id, title, provenance->>'published' as date_from, provenance->>'authors' as authors_from from documents",
}
SEARCHES = ("党建引领", "检察工作 高质量发展", "黨風廉政建設")


def _documents(numbers: range) -> list:
    """Documents of generated pages ``numbers`` (run in a worker process)."""
    from pipelines.documents import document_from_text

    out = []
    for i in numbers:
        paragraphs, _script, title, date = corpus._body_of(i)
        text = f"{title}\n发布时间：{date}\n" + "\n".join(paragraphs)
        p = corpus.page(i)
        out.append(document_from_text(text, doc_id=f"b_{i:07d}", origin="crawl", url=p.url,
                                      site=f"bench{i % 8}"))
    return out


def documents(start: int, stop: int, workers: int) -> list:
    chunks = [range(a, min(stop, a + BATCH)) for a in range(start, stop, BATCH)]
    if workers <= 1:
        return [d for c in chunks for d in _documents(c)]
    # spawn, not fork: the parent holds an open DuckDB connection and its threads
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return [d for part in pool.map(_documents, chunks) for d in part]


def load(store, docs: list) -> dict:
    from pipelines.ingest import add_documents

    t, c = time.perf_counter(), time.process_time()
    for a in range(0, len(docs), BATCH):
        add_documents(store, docs[a:a + BATCH])
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    return {"documents": len(docs), "seconds": seconds, "cpu_seconds": cpu,
            "docs_per_s": len(docs) / seconds if docs else None, "docs_per_cpu_s": len(docs) / cpu if docs else None}


def arrow_vs_executemany(directory: Path, docs: list) -> dict:
    """The same rows into ``documents``: the Arrow batch upsert against executemany."""
    import duckdb

    from pipelines.document import content_hash
    from pipelines.store import Store
    from pipelines.store.documents import _DOC_COLUMNS

    with Store(directory / "arrow.duckdb") as store:
        t = time.process_time()
        for a in range(0, len(docs), BATCH):
            store.upsert_documents(docs[a:a + BATCH])
        arrow = time.process_time() - t
    rows = [(d.doc_id, d.origin, d.site, d.url, d.seed_file, d.parent_url, d.title, d.original_title,
             d.published, d.source_name, d.authors, d.editor, d.summary, d.text, d.text_original,
             d.script, d.tokens, d.keywords, json.dumps(d.provenance, ensure_ascii=False), content_hash(d),
             d.fetched_at, d.run_id, None) for d in docs]
    con = duckdb.connect(str(directory / "executemany.duckdb"))
    con.execute("""CREATE TABLE documents (doc_id VARCHAR PRIMARY KEY, origin VARCHAR, site VARCHAR, url VARCHAR,
        seed_file VARCHAR, parent_url VARCHAR, title VARCHAR, original_title VARCHAR, published DATE,
        source_name VARCHAR, authors VARCHAR[], editor VARCHAR, summary VARCHAR, text VARCHAR,
        text_original VARCHAR, script VARCHAR, tokens VARCHAR[], keywords VARCHAR[], provenance JSON,
        content_hash VARCHAR, fetched_at TIMESTAMP, run_id VARCHAR, loaded_at TIMESTAMP)""")
    placeholders = ", ".join("?" * len(_DOC_COLUMNS))
    t = time.process_time()
    for a in range(0, len(rows), BATCH):
        con.execute("BEGIN")
        con.executemany(f"INSERT INTO documents VALUES ({placeholders})", rows[a:a + BATCH])
        con.execute("COMMIT")
    many = time.process_time() - t
    # Without the token list: how much of executemany's time the ~1,000-token column takes.
    con.execute("DELETE FROM documents")
    t = time.process_time()
    for a in range(0, len(rows), BATCH):
        con.execute("BEGIN")
        con.executemany(f"INSERT INTO documents VALUES ({placeholders})",
                        [r[:16] + ([],) + r[17:] for r in rows[a:a + BATCH]])
        con.execute("COMMIT")
    many_no_tokens = time.process_time() - t
    con.close()
    n = len(docs)
    return {"documents": n, "arrow_docs_per_s": n / arrow, "executemany_docs_per_s": n / many,
            "executemany_without_tokens_docs_per_s": n / many_no_tokens, "arrow_speedup": many / arrow,
            "token_column_share_of_executemany": 1 - many_no_tokens / many}


def median_ms(fn, repeat: int = 3) -> dict:
    """Median wall and CPU ms (CPU counts DuckDB's threads too; wall suffers from other work)."""
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return {"wall": statistics.median(wall), "cpu": statistics.median(cpu)}


def queries(store, doc_ids: dict[str, str]) -> dict:
    from pipelines.search import search, similar

    out = {}
    for name, sql in README_QUERIES.items():
        out[f"query {name}"] = median_ms(lambda: store.query(sql))
    for q in SEARCHES:
        out[f"search {q}"] = median_ms(lambda: search(store, q, limit=10))
    for label, doc_id in doc_ids.items():
        out[f"similar ({label} document)"] = median_ms(lambda: similar(store, doc_id, limit=10))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000", help="corpus sizes, comma-separated, ascending")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="processes that prepare the documents (not timed)")
    ap.add_argument("--executemany-sample", type=int, default=1000)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--queries-only", action="store_true",
                    help="time the queries again on the file the last run left (no load)")
    args = ap.parse_args()
    from pipelines.seeds import load_seed_dir
    from pipelines.store import Store

    if args.queries_only:
        with Store(corpus.OUT / "store_query" / "corpus.duckdb") as store:
            n = store.document_count("crawl")
            row = {"size": n, "queries_ms": queries(store, {"first": "b_0000000", "middle": f"b_{n // 2:07d}",
                                                            "last": f"b_{n - 1:07d}"})}
        if args.json:
            print(json.dumps(row, indent=2, default=str))
        else:
            print(f"query ms on {n:,} documents, median of 3: wall / CPU\n")
            print(table(["query", "ms"], [[k, f"{v['wall']:,.1f} / {v['cpu']:,.1f}"] for k, v in row["queries_ms"].items()]))
        return

    sizes = sorted(int(s) for s in args.sizes.split(","))
    corpus.OUT.mkdir(parents=True, exist_ok=True)
    directory = corpus.OUT / "store_query"
    directory.mkdir(exist_ok=True)
    for f in directory.glob("*.duckdb*"):
        f.unlink()
    results = []
    with Store(directory / "corpus.duckdb") as store:
        load_seed_dir(store, corpus.SEEDS)
        have = 0
        for n in sizes:
            # in chunks, so that 100,000 documents (tokens and all) never sit in memory at once
            parts = [load(store, documents(a, min(n, a + CHUNK), args.workers)) for a in range(have, n, CHUNK)]
            secs, cpu = sum(p["seconds"] for p in parts), sum(p["cpu_seconds"] for p in parts)
            row = {"size": n, "load": {"documents": n - have, "seconds": secs, "cpu_seconds": cpu,
                                       "docs_per_s": (n - have) / secs, "docs_per_cpu_s": (n - have) / cpu}}
            have = n
            row["queries_ms"] = queries(store, {"first": "b_0000000", "middle": f"b_{n // 2:07d}",
                                                "last": f"b_{n - 1:07d}"})
            row["file_mb"] = (directory / "corpus.duckdb").stat().st_size / 1e6
            results.append(row)
            # each size's figures as soon as they exist: a long run cut short keeps what it measured
            print(f"... {n:,} documents done: {json.dumps(row, default=str)}", file=sys.stderr, flush=True)
    sample = documents(0, min(args.executemany_sample, sizes[-1]), args.workers)
    batch_write = arrow_vs_executemany(directory, sample)
    if args.json:
        print(json.dumps({"results": results, "arrow_vs_executemany": batch_write}, indent=2, default=str))
        return
    print("load into DuckDB: add_documents (Arrow upsert + fingerprints + BM25 + reprint links), batches of 500\n")
    print(table(["documents", "added", "docs/s (CPU)", "docs/s (wall)", "seconds", "file MB"],
                [[r["size"], r["load"]["documents"], r["load"]["docs_per_cpu_s"], r["load"]["docs_per_s"],
                  r["load"]["seconds"], r["file_mb"]] for r in results]))
    print("\nquery ms, median of 3: wall / CPU (CPU includes DuckDB's threads)\n")
    names = list(results[0]["queries_ms"])
    print(table(["query", *(f"{r['size']:,} docs" for r in results)],
                [[name, *(f"{r['queries_ms'][name]['wall']:,.1f} / {r['queries_ms'][name]['cpu']:,.1f}" for r in results)]
                 for name in names]))
    b = batch_write
    print(f"\nthe documents table alone, {b['documents']:,} documents, CPU time: Arrow batches {b['arrow_docs_per_s']:,.0f} docs/s, "
          f"executemany {b['executemany_docs_per_s']:,.0f} docs/s ({b['arrow_speedup']:.1f}x slower); "
          f"executemany without the token list {b['executemany_without_tokens_docs_per_s']:,.0f} docs/s "
          f"(the token column is {b['token_column_share_of_executemany']:.0%} of its time)")


if __name__ == "__main__":
    main()
