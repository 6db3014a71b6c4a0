"""``djcrawl clean`` over many real pages against the straightforward chain, whole processes.

    .venv/bin/python -m benchmarks.clean_speed                 # 252 pages, best of 3
    .venv/bin/python -m benchmarks.clean_speed --pages 504 --repeat 5 --json

The pages are the article pages of ``tests/fixtures/real_sites`` (byte-exact copies of
real news and government pages; the list pages are left out), repeated to ``--pages``
files in a temporary directory. Each contender runs as a fresh process over all the
files, so start-up (imports, dictionaries, the IDF table) counts as a user pays it:

- **ours**: ``python -m crawler.cli clean --format jsonl FILES...`` (``--workers`` as
  given, default one per core), and the same with ``--workers 0`` (one process);
- **straightforward**: the named libraries chained in one process:
  ``trafilatura.extract(html, with_metadata=True, output_format="json")`` ->
  opencc-python-reimplemented ``t2s`` -> ``jieba.lcut`` -> ``jieba.analyse.extract_tags``
  (top 10), one JSON line per page.

Wall seconds, best of ``--repeat`` runs of each, interleaved so that both see the same
load on this shared machine; the ratio is straightforward / ours. Then per-stage CPU ms a
page of our chain in this process (one page at a time, after a warm-up), which says
where the time goes: parse, metadata, container search, widget pruning, trafilatura
itself, the rest of body extraction, cleaning, normalization; and the normalizer's load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "real_sites"

STRAIGHTFORWARD = r"""
import json, sys
import trafilatura, jieba, jieba.analyse
from opencc import OpenCC
cc = OpenCC("t2s")
out = sys.stdout
for name in sys.argv[1:]:
    with open(name, "rb") as fh:
        data = fh.read()
    got = trafilatura.extract(data, with_metadata=True, output_format="json")
    if not got:
        continue
    doc = json.loads(got)
    text = cc.convert(doc.get("text") or "")
    tokens = jieba.lcut(text)
    keywords = jieba.analyse.extract_tags(text, topK=10)
    out.write(json.dumps({"file": name, "title": doc.get("title"), "text": text, "tokens": tokens,
                          "keywords": keywords}, ensure_ascii=False) + "\n")
"""


def article_pages() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*.html") if "list_pages" not in p.parts)


def make_files(directory: Path, n: int) -> list[str]:
    pages = article_pages()
    files = []
    for i in range(n):
        src = pages[i % len(pages)]
        dst = directory / f"{i:04d}_{src.name}"
        shutil.copyfile(src, dst)
        files.append(str(dst))
    return files


def timed(cmd: list[str], root: Path = ROOT) -> float:
    env = {**os.environ, "PYTHONPATH": str(root)}
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode not in (0, 1):  # 1: some file was not an article (told on stderr)
        raise SystemExit(f"{cmd[:4]} failed: {proc.stderr.strip().splitlines()[-1:]}")
    return elapsed


def whole_processes(files: list[str], repeat: int, workers: int | None, before: Path | None = None) -> dict:
    py = sys.executable
    ours = [py, "-m", "crawler.cli", "clean", "--format", "jsonl"]
    runs = {
        "ours": (ours + (["--workers", str(workers)] if workers is not None else []) + files, ROOT),
        "ours, 1 process": (ours + ["--workers", "0"] + files, ROOT),
        "straightforward": ([py, "-c", STRAIGHTFORWARD, *files], ROOT),
    }
    if before is not None:  # another checkout's `clean` (its code, this venv), e.g. the code before a change
        runs["before (--before)"] = (ours + files, before)
    best = {k: float("inf") for k in runs}
    for _ in range(repeat):
        for name, (cmd, root) in runs.items():
            best[name] = min(best[name], timed(cmd, root))
    base = best["straightforward"]
    return {name: {"seconds": s, "pages_per_s": len(files) / s, "ratio": base / s} for name, s in best.items()}


def stage_times(repeat: int) -> dict:
    """CPU ms a page of each stage of our chain, in this process, over the fixture pages
    (trafilatura and widget pruning are counted by wrapping them; the best of ``repeat`` runs)."""
    import trafilatura

    from pipelines import documents as docs_mod
    from pipelines.clean import clean_text
    from pipelines.decode import decode_bytes
    from pipelines.extract import body as body_mod
    from pipelines.extract.body import body_text, find_container
    from pipelines.extract.meta import extract_meta
    from pipelines.htmltree import parse_html
    from pipelines import normalize

    clock = time.process_time
    t = clock()
    normalize.get_normalizer()
    load_ms = (clock() - t) * 1000
    spent = {"trafilatura": 0.0, "widget pruning": 0.0}
    real_extract, real_prune = trafilatura.extract, body_mod._prune_widgets

    def counted(store, fn):
        def wrapper(*a, **kw):
            t0 = clock()
            try:
                return fn(*a, **kw)
            finally:
                spent[store] += clock() - t0
        return wrapper

    stages = dict.fromkeys(["decode", "parse", "metadata", "containers", "widget pruning",
                            "trafilatura", "rest of body", "clean", "normalize"], 0.0)
    pages = [p.read_bytes() for p in article_pages()]
    body_mod.trafilatura.extract = counted("trafilatura", real_extract)
    body_mod._prune_widgets = counted("widget pruning", real_prune)
    try:
        for run in range(repeat + 1):  # the first run warms up (compiled selectors, memos)
            lap = dict.fromkeys(stages, 0.0)
            spent["trafilatura"] = spent["widget pruning"] = 0.0
            for data in pages:
                t0 = clock()
                html, _ = decode_bytes(data, None)
                t1 = clock()
                tree = parse_html(html)
                t2 = clock()
                meta = extract_meta(tree, None)
                t3 = clock()
                found = find_container(tree, ())  # (a document needs no attachment links)
                t4 = clock()
                text, _ = body_text(html, tree, found, None, ())
                t5 = clock()
                cleaned = clean_text(text, meta)
                t6 = clock()
                if len(cleaned.text) >= docs_mod.MIN_ARTICLE_CHARS:
                    docs_mod._finish(cleaned, doc_id="x", origin="crawl")
                t7 = clock()
                for k, v in zip(("decode", "parse", "metadata", "containers", "rest of body",
                                 "clean", "normalize"),
                                (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t7 - t6)):
                    lap[k] += v
            lap["rest of body"] -= spent["trafilatura"] + spent["widget pruning"]
            lap["trafilatura"], lap["widget pruning"] = spent["trafilatura"], spent["widget pruning"]
            if run:  # the best run of each stage: other jobs on the machine only add time
                for k in stages:
                    stages[k] = min(stages[k], lap[k]) if run > 1 else lap[k]
    finally:
        body_mod.trafilatura.extract, body_mod._prune_widgets = real_extract, real_prune
    ms = {k: v * 1000 / len(pages) for k, v in stages.items()}
    # Our extraction work besides trafilatura's own: metadata, containers, pruning, the rest of
    # the cascade. The parse is apart: trafilatura would parse the page itself; it is handed ours.
    around = sum(ms[k] for k in ("metadata", "containers", "widget pruning", "rest of body"))
    traf = ms["trafilatura"]
    return {"pages": len(pages), "ms_per_page": ms, "normalizer_load_ms": load_ms,
            "extraction_around_trafilatura_ms": around,
            "around_over_trafilatura": around / traf if traf else None,
            "around_with_parse_over_trafilatura": (around + ms["parse"]) / traf if traf else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=252, help="files to clean (the fixture pages repeated)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each contender; the best counts")
    ap.add_argument("--workers", type=int, default=None, help="ours: --workers N (default: the command's own)")
    ap.add_argument("--before", type=Path, metavar="DIR",
                    help="also time `clean` of the checkout in DIR (e.g. `git archive` of an older commit)")
    ap.add_argument("--no-stages", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="clean-speed-") as tmp:
        files = make_files(Path(tmp), args.pages)
        whole = whole_processes(files, args.repeat, args.workers, args.before)
    stages = None if args.no_stages else stage_times(args.repeat)
    result = {"pages": args.pages, "distinct_pages": len(article_pages()), "cores": os.cpu_count(),
              "whole_process": whole, "stages": stages}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.pages} files ({result['distinct_pages']} distinct real pages), best of {args.repeat}, "
          f"{result['cores']} cores\n")
    print(f"{'':24} {'seconds':>8} {'pages/s':>8} {'x straightforward':>18}")
    for name, r in whole.items():
        print(f"{name:24} {r['seconds']:8.2f} {r['pages_per_s']:8.1f} {r['ratio']:18.2f}")
    if stages:
        print(f"\nper-stage CPU ms a page ({stages['pages']} pages, one process); "
              f"normalizer load {stages['normalizer_load_ms']:.0f} ms\n")
        for k, v in stages["ms_per_page"].items():
            print(f"{k:26} {v:7.2f}")
        print(f"\nour extraction work around trafilatura: {stages['extraction_around_trafilatura_ms']:.2f} ms "
              f"= {stages['around_over_trafilatura']:.2f}x trafilatura's own time "
              f"({stages['around_with_parse_over_trafilatura']:.2f}x with the parse)")


if __name__ == "__main__":
    main()
