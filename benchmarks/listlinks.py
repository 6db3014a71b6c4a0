"""Article links of list pages without selectors: ``pipelines.listlinks`` against gold.

    .venv/bin/python -m benchmarks.listlinks           # table per page + means
    .venv/bin/python -m benchmarks.listlinks --json    # the same as JSON

Pages: ``tests/fixtures/list_pages/<name>.html`` (byte-for-byte copies of real pages), each
with ``<name>.gold.json``: where the page came from, the URL its links are made absolute
against, how the gold was made, and the article URLs of its main list in page order.

Methods, each given the same decoded page and URL:

- ``listlinks``: :func:`pipelines.listlinks.article_links`;
- ``all-links``: every same-site http(s) link of the page, fragment-stripped, once each
  (what a crawler without a selector would follow);
- ``gerapy``: ``gerapy_auto_extractor.extract_list`` (if installed: ``pip install
  gerapy-auto-extractor``; not a dependency of djcrawl), its ``url`` values made absolute.

Precision, recall and F1 are over sets of URLs per page; the means are over pages.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

from pipelines.decode import decode_bytes
from pipelines.htmltree import parse_html
from pipelines.listlinks import article_links, same_site

PAGES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "list_pages"

__all__ = ["load_pages", "prf", "run"]


def load_pages() -> list[tuple[str, str, dict]]:
    """(name, decoded html, gold) of every page with a gold file."""
    out = []
    for gold_path in sorted(PAGES.glob("*.gold.json")):
        name = gold_path.name[: -len(".gold.json")]
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        # a page kept among the other fixtures already is named by the gold's "page"
        page = (PAGES / gold["page"]).resolve() if "page" in gold else PAGES / f"{name}.html"
        html, _ = decode_bytes(page.read_bytes())
        out.append((name, html, gold))
    return out


def prf(found: list[str], gold: list[str]) -> tuple[float, float, float]:
    f, g = set(found), set(gold)
    hit = len(f & g)
    p = hit / len(f) if f else 0.0
    r = hit / len(g) if g else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def all_links(tree, url: str) -> list[str]:
    out = {}
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        if not href:
            continue
        link = urldefrag(urljoin(url, href))[0]
        if urlsplit(link).scheme in ("http", "https") and same_site(link, url):
            out.setdefault(link, None)
    return list(out)


def _gerapy():
    try:
        from gerapy_auto_extractor import extract_list
    except ImportError:
        return None

    def run(html: str, url: str) -> list[str]:
        found = extract_list(html) or []
        return list(dict.fromkeys(urldefrag(urljoin(url, item.get("url") or ""))[0] for item in found
                                  if item.get("url")))
    return run


def run() -> dict:
    gerapy = _gerapy()
    rows = []
    for name, html, gold in load_pages():
        url = gold["url"]
        row = {"page": name, "gold": len(gold["links"])}
        t0 = time.perf_counter()
        tree = parse_html(html)
        ours = article_links(tree, url)
        row["ms"] = (time.perf_counter() - t0) * 1000
        methods = {"listlinks": ours, "all-links": all_links(tree, url)}
        if gerapy is not None:
            try:
                methods["gerapy"] = gerapy(html, url)
            except Exception as exc:  # a failure of the other library is a result, not a crash
                print(f"gerapy failed on {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
                methods["gerapy"] = []
        for method, found in methods.items():
            row[method] = dict(zip(("p", "r", "f1"), prf(found, gold["links"])), n=len(found))
        rows.append(row)
    methods = [m for m in ("listlinks", "all-links", "gerapy") if rows and m in rows[0]]
    means = {m: {k: statistics.mean(r[m][k] for r in rows) for k in ("p", "r", "f1")} for m in methods}
    return {"pages": rows, "means": means, "gerapy_installed": gerapy is not None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args(argv)
    res = run()
    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=1))
        return 0
    methods = list(res["means"])
    head = "| page | gold | " + " | ".join(f"{m} P / R / F1 (n)" for m in methods) + " |"
    print(head)
    print("|" + "---|" * (2 + len(methods)))
    for r in res["pages"]:
        cells = [f"{r[m]['p']:.2f} / {r[m]['r']:.2f} / {r[m]['f1']:.2f} ({r[m]['n']})" for m in methods]
        print(f"| {r['page']} | {r['gold']} | " + " | ".join(cells) + " |")
    cells = [f"**{res['means'][m]['p']:.3f} / {res['means'][m]['r']:.3f} / {res['means'][m]['f1']:.3f}**"
             for m in methods]
    print(f"| mean ({len(res['pages'])} pages) | | " + " | ".join(cells) + " |")
    print(f"\nlistlinks: {statistics.mean(r['ms'] for r in res['pages']):.0f} ms a page on average "
          "(parse + links, one run, this shared machine)")
    if not res["gerapy_installed"]:
        print("\ngerapy-auto-extractor is not installed: its column is missing", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
