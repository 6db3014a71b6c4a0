"""Read latencies of a stored corpus: ``search``, ``similar`` and one text by id, p50/p95/max.

    .venv/bin/python benchmarks/store_latency.py DB [--n 40] [--json]

Runs against any djcrawl file (read-only), e.g. the one ``benchmarks/crawl.py --keep DIR``
leaves after a crawl: the queries are drawn from the file itself (``--seed`` fixes the
draw): for search, one or two of the stored keywords of a random document (what a user
types: a topic word, or two); for similar, random documents; for a text, random doc_ids.
Each call is timed once, wall-clock (what a user waits for) beside CPU; the first call of
each kind runs before the clock (the file's first read is the operating system's cache,
not ours). Also printed: the file's size, its documents, bytes a document.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipelines.search import search, similar  # noqa: E402
from pipelines.store import Store  # noqa: E402


def timed(calls) -> dict:
    wall, cpu = [], []
    for call in calls:
        t, c = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    wall.sort()
    return {"calls": len(wall), "p50_ms": statistics.median(wall), "p95_ms": wall[max(0, round(0.95 * len(wall)) - 1)],
            "max_ms": wall[-1], "cpu_p50_ms": statistics.median(cpu)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", type=Path)
    ap.add_argument("--n", type=int, default=40, help="calls of each kind (default 40)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with Store(args.db, read_only=True) as store:
        rows = store.query("SELECT doc_id, keywords FROM documents WHERE origin = 'crawl' AND len(keywords) >= 2")[1]
        picks = rng.sample(rows, min(len(rows), args.n + 1))
        queries = [" ".join(kw[: rng.choice((1, 2))]) for _id, kw in picks]
        ids = [doc_id for doc_id, _kw in picks]
        documents = store.document_count()
        search(store, queries[-1]), similar(store, ids[-1]), store.query("SELECT 1")  # warm
        result = {
            "file_bytes": args.db.stat().st_size, "documents": documents,
            "search": timed([lambda q=q: search(store, q, limit=10) for q in queries[:-1]]),
            "similar": timed([lambda d=d: similar(store, d, limit=10) for d in ids[:-1]]),
            "text_by_id": timed([lambda d=d: store.query("SELECT text FROM documents WHERE doc_id = ?", [d])
                                 for d in ids[:-1]]),
        }
    result["bytes_per_document"] = result["file_bytes"] / max(1, documents)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.db}: {documents:,} documents, {result['file_bytes'] / 2**20:,.0f} MiB, "
          f"{result['bytes_per_document'] / 1024:.1f} KiB a document")
    for kind in ("search", "similar", "text_by_id"):
        r = result[kind]
        print(f"{kind:<11} p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  max {r['max_ms']:7.1f} ms  "
              f"(CPU p50 {r['cpu_p50_ms']:.1f} ms, {r['calls']} calls)")


if __name__ == "__main__":
    main()
