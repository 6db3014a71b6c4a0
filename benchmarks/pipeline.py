"""Documents per second of djcrawl's chain beside the straightforward chain, with per-stage ms.

    .venv/bin/python benchmarks/pipeline.py [--sizes 1000,10000] [--json]
    .venv/bin/python benchmarks/pipeline.py --sizes 1000,10000,100000   # the 100k run takes long

For each corpus size N (generated pages, ``benchmarks/corpus.py``), in one process:

- **ours**: ``pipelines.documents.document_from_html`` on every page, then
  ``pipelines.ingest.add_documents`` in batches of 500 into a fresh DuckDB file that
  holds the seed reports (as a real load or ``reprocess`` does): pages per second;
- **straightforward**: the chain of the libraries the user named, one call each:
  ``trafilatura.bare_extraction`` (text and metadata), ``opencc`` (the reimplemented
  package) t2s, ``jieba.lcut``, ``jieba.analyse.extract_tags`` and DuckDB
  ``executemany`` in batches of 500; models are loaded before the clock starts, as ours;
- **stages**: the stage functions called one by one on the same pages (the first
  ``--stage-pages`` of them), in ms a page: decode, extract (body; the metadata part
  taken out), metadata (``pipelines.extract.meta.extract_meta`` on the parsed page + Simplified
  metadata), clean, convert (NFKC + script + t2s), segment, keywords, fingerprint
  (MinHash + LSH + BM25 terms + relevance, i.e. ``corpus.index_entry``), store (the
  ``add_documents`` batch minus the fingerprint part it contains).

The straightforward chain costs the same per page at any size, so above
``--baseline-pages`` pages (default 2,000) it runs on that many pages only; the
report says so. The default run (1k and 10k) takes about 25 minutes of CPU here. Pages that are not articles (too short after cleaning) count as
processed pages in both chains.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import corpus  # noqa: E402

BATCH = 500
STAGES = ("decode", "extract", "metadata", "clean", "convert", "segment", "keywords", "fingerprint", "store")


# --------------------------------------------------------------------------- ours

def _fresh_store(directory: Path, name: str):
    from pipelines.seeds import load_seed_dir
    from pipelines.store import Store

    store = Store(directory / name)
    load_seed_dir(store, corpus.SEEDS)
    return store


def run_ours(n: int, directory: Path) -> dict:
    """The real chain end to end: pages per second, documents made and stored."""
    from pipelines.ingest import add_documents
    from pipelines.normalize import get_normalizer
    from pipelines.documents import NotArticle, document_from_html

    get_normalizer()
    store = _fresh_store(directory, f"ours-{n}.duckdb")
    docs, not_articles, elapsed, cpu, batch = 0, 0, 0.0, 0.0, []
    for start in range(0, n, BATCH):
        pages = list(corpus.pages(min(n, start + BATCH), start))  # generation is not timed
        t, c = time.perf_counter(), time.process_time()
        for p in pages:
            out = document_from_html(p.body, url=p.url, content_type=p.content_type)
            if isinstance(out, NotArticle):
                not_articles += 1
            else:
                batch.append(out)
        add_documents(store, batch)
        elapsed += time.perf_counter() - t
        cpu += time.process_time() - c
        docs += len(batch)
        batch.clear()
    stored = store.document_count(origin="crawl")
    store.close()
    return {"pages": n, "seconds": elapsed, "cpu_seconds": cpu, "docs_per_s": n / elapsed,
            "docs_per_cpu_s": n / cpu, "documents": docs, "not_articles": not_articles, "stored": stored}


# --------------------------------------------------------------------------- straightforward

_BASELINE_TABLE = """CREATE TABLE docs (
    url VARCHAR PRIMARY KEY, title VARCHAR, author VARCHAR, published VARCHAR,
    text VARCHAR, text_original VARCHAR, tokens VARCHAR[], keywords VARCHAR[])"""


def run_straightforward(n: int, directory: Path) -> dict:
    """trafilatura + opencc-python-reimplemented + jieba + DuckDB executemany, nothing else."""
    import duckdb
    import jieba
    import jieba.analyse
    import trafilatura
    from opencc import OpenCC

    t0 = time.perf_counter()
    cc = OpenCC("t2s")
    jieba.initialize()
    jieba.analyse.extract_tags("党建", topK=1)  # loads the IDF table
    load_s = time.perf_counter() - t0
    con = duckdb.connect(str(directory / f"straightforward-{n}.duckdb"))
    con.execute(_BASELINE_TABLE)
    docs, elapsed, cpu, rows = 0, 0.0, 0.0, []
    for start in range(0, n, BATCH):
        pages = list(corpus.pages(min(n, start + BATCH), start))
        t, c = time.perf_counter(), time.process_time()
        for p in pages:
            got = trafilatura.bare_extraction(p.body, url=p.url, with_metadata=True)
            if got is None or not got.text:
                continue
            text = cc.convert(got.text)
            tokens = jieba.lcut(text)
            keywords = jieba.analyse.extract_tags(text, topK=10)
            rows.append((p.url, got.title, got.author, got.date, text, got.text, tokens, keywords))
        con.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        elapsed += time.perf_counter() - t
        cpu += time.process_time() - c
        docs += len(rows)
        rows.clear()
    con.close()
    return {"pages": n, "seconds": elapsed, "cpu_seconds": cpu, "docs_per_s": n / elapsed,
            "docs_per_cpu_s": n / cpu, "documents": docs, "model_load_s": load_s}


# --------------------------------------------------------------------------- stages

def run_stages(n: int, directory: Path) -> dict:
    """Per-stage ms a page: each stage function timed alone on the output of the one before."""
    from trafilatura.utils import load_html

    from pipelines.clean import clean_text
    from pipelines.ingest import add_documents, relevance_model
    from pipelines.index.entry import index_entry
    from pipelines.decode import decode_bytes
    from pipelines.document import Document, doc_id_for_url
    from pipelines.extract import extract_html
    from pipelines.extract.meta import extract_meta
    from pipelines.normalize import get_normalizer
    from pipelines.documents import MIN_ARTICLE_CHARS

    norm = get_normalizer()
    store = _fresh_store(directory, f"stages-{n}.duckdb")
    model = relevance_model(store)
    total = dict.fromkeys(STAGES, 0.0)
    clock = time.process_time  # CPU time: other work on the machine does not count
    for start in range(0, n, BATCH):
        batch = []
        for p in corpus.pages(min(n, start + BATCH), start):
            t = clock()
            html, _ = decode_bytes(p.body, p.content_type)
            t1 = clock()
            extracted = extract_html(html, p.url)
            t2 = clock()
            tree = load_html(html)
            t3 = clock()
            extract_meta(tree, p.url)
            t4 = clock()
            cleaned = clean_text(extracted.text, extracted.meta)
            t5 = clock()
            total["decode"] += t1 - t
            total["extract"] += (t2 - t1) - (t4 - t3)  # extract_html runs extract_meta inside
            total["metadata"] += t4 - t3
            total["clean"] += t5 - t4
            if len(cleaned.text) < MIN_ARTICLE_CHARS:
                continue
            t = clock()
            meta = cleaned.meta.map(norm.simplify_meta)
            t1 = clock()
            text, script = norm.simplify_text(cleaned.text)
            original = norm.nfkc(cleaned.text)
            t2 = clock()
            tokens = norm.tokens(text)
            t3 = clock()
            keywords = norm.keywords(tokens)
            t4 = clock()
            doc = Document(doc_id=doc_id_for_url(p.url), origin="crawl", text=text, text_original=original,
                           script=script, title=meta.title, published=meta.published,
                           source_name=meta.source_name, authors=list(meta.authors),
                           editor=meta.editor, tokens=tokens, keywords=keywords, url=p.url)
            t5 = clock()
            index_entry(doc, model)
            t6 = clock()
            total["metadata"] += t1 - t
            total["convert"] += t2 - t1
            total["segment"] += t3 - t2
            total["keywords"] += t4 - t3
            total["fingerprint"] += t6 - t5
            batch.append(doc)
        t = clock()
        add_documents(store, batch)
        total["store"] += clock() - t
    # add_documents fingerprints every new document inside: that part is already counted
    total["store"] = max(0.0, total["store"] - total["fingerprint"])
    store.close()
    ms = {k: v * 1000 / n for k, v in total.items()}
    whole = sum(ms.values())
    return {"pages": n, "ms_per_page": ms, "total_ms": whole,
            "extraction_share": (ms["decode"] + ms["extract"] + ms["metadata"]) / whole}


# --------------------------------------------------------------------------- reprocess

def run_reprocess(n: int, directory: Path) -> dict:
    """``djcrawl reprocess`` over ``n`` stored article pages, as a user runs it (a subprocess).

    The pages are stored first (not timed). Reported: wall seconds, pages/s, and the
    CPU seconds of the command and its worker processes over its wall time (the cores used).
    """
    import os
    import resource
    import subprocess

    from pipelines.document import doc_id_for_url
    from pipelines.page import Page
    from pipelines.store import Store

    db = directory / f"reprocess-{n}.duckdb"
    with Store(db) as store:
        for start in range(0, n, BATCH):
            store.put_pages([Page(url=p.url, site="bench", status=200, body=p.body, kind="article",
                                  content_type=p.content_type, doc_id=doc_id_for_url(p.url))
                             for p in corpus.pages(min(n, start + BATCH), start)])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "crawler.cli", "reprocess", "--db", str(db)], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"reprocess failed: {proc.stderr.strip().splitlines()[-1:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with Store(db, read_only=True) as store:
        documents = store.document_count()
    return {"pages": n, "seconds": wall, "pages_per_s": n / wall, "cpu_seconds": cpu, "cores_used": cpu / wall,
            "documents": documents, "peak_rss_mb_largest_process": after.ru_maxrss / 1024,
            "output": proc.stdout.strip().splitlines()[:1]}


# --------------------------------------------------------------------------- report

def fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def table(columns: list[str], rows: list[list]) -> str:
    cells = [[fmt(c) for c in r] for r in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in cells]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000", help="corpus sizes, comma-separated (default 1000,10000)")
    ap.add_argument("--baseline-pages", type=int, default=2000,
                    help="run the straightforward chain on at most this many pages (default 2000)")
    ap.add_argument("--stage-pages", type=int, default=1000,
                    help="time the stages one by one on at most this many pages (default 1000)")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--reprocess", type=int, default=0, metavar="N",
                    help="also time `djcrawl reprocess` over N stored pages (e.g. 100000)")
    ap.add_argument("--only-reprocess", action="store_true", help="skip the chain comparison")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    out = corpus.OUT
    out.mkdir(parents=True, exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory(dir=out, prefix="pipeline-") as tmp:
        directory = Path(tmp)
        reprocess = run_reprocess(args.reprocess, directory) if args.reprocess else None
        for n in ([] if args.only_reprocess else sizes):
            gc.collect()
            ours = run_ours(n, directory)
            base = None if args.skip_baseline else run_straightforward(min(n, args.baseline_pages), directory)
            stages = run_stages(min(n, args.stage_pages), directory)
            results.append({"size": n, "ours": ours, "straightforward": base, "stages": stages,
                            "ratio": ours["docs_per_cpu_s"] / base["docs_per_cpu_s"] if base else None,
                            "ratio_wall": ours["docs_per_s"] / base["docs_per_s"] if base else None})
            for f in directory.iterdir():
                f.unlink()
            if not args.json:
                print(f"... {n:,} pages done", file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({"results": results, "reprocess": reprocess}, indent=2, default=str))
        return
    if reprocess:
        r = reprocess
        print(f"djcrawl reprocess of {r['pages']:,} stored pages: {r['seconds']:,.0f} s ({r['pages_per_s']:.1f} pages/s), "
              f"{r['cores_used']:.2f} cores used on average, {r['documents']:,} documents\n")
    if not results:
        return
    sf = lambda r, k: r["straightforward"][k] if r["straightforward"] else None  # noqa: E731
    print("documents/s: pages through the whole chain per CPU second (one process, one core;\n"
          "wall-clock docs/s beside it, which other work on the machine lowers)\n")
    print(table(["pages", "ours docs/s", "straightforward docs/s", "ratio", "ours wall docs/s",
                 "straightforward wall docs/s", "wall ratio", "straightforward on", "documents", "not articles"],
                [[r["size"], r["ours"]["docs_per_cpu_s"], sf(r, "docs_per_cpu_s"), r["ratio"],
                  r["ours"]["docs_per_s"], sf(r, "docs_per_s"), r["ratio_wall"], sf(r, "pages"),
                  r["ours"]["documents"], r["ours"]["not_articles"]] for r in results]))
    print("\nper-stage CPU ms a page (stage functions called one by one)\n")
    print(table(["pages", *STAGES, "total", "extraction share"],
                [[r["stages"]["pages"], *(r["stages"]["ms_per_page"][s] for s in STAGES),
                  r["stages"]["total_ms"], f"{r['stages']['extraction_share']:.0%}"] for r in results]))


if __name__ == "__main__":
    main()
