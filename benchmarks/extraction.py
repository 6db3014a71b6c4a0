"""Extraction quality and speed: djcrawl's chain against plain trafilatura, page by page.

    .venv/bin/python -m benchmarks.extraction            # table per page + means
    .venv/bin/python -m benchmarks.extraction --json     # the same as JSON
    .venv/bin/python -m benchmarks.extraction --sweep    # trafilatura settings, measured

"ours" is what users get: ``pipelines.documents.document_from_html`` (extract -> clean
-> normalize) on the decoded page; its body is ``Document.text_original`` (the clean
text before script conversion, so Traditional pages are not penalised by the
conversion). "trafilatura" is ``trafilatura.extract(html, url=url, with_metadata=True,
output_format="json")`` with its default settings: text, title, date and author in one
call. Both get the same decoded string and the page's URL when SOURCES.md records it.

Scores (``benchmarks/scoring.py``): character-bigram precision/recall/F1 of the body
after NFKC and whitespace removal; exact date (date part); title equal after dropping
whitespace and punctuation (ours: the title, or the title with its
``subtitle``, since the gold is the headline as printed); author set equal (for ours the credited people: authors,
else the editor - the gold credits whoever the byline names). Times: median of
``--repeat`` runs per page, in milliseconds; "ours ext" is extract + clean (the part
that competes with trafilatura), "ours doc" adds normalization (script conversion,
tokens, keywords); "traf" includes trafilatura's metadata, the summary also gives its
text-only time.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

from benchmarks.scoring import (
    FIXTURES, GoldPage, authors_correct, bigram_prf, date_correct, load_gold_pages, snippet_prf, title_correct,
)

__all__ = ["run", "score_ours", "page_urls"]


def page_urls(root: Path = FIXTURES) -> dict[str, str]:
    """name -> original URL from the SOURCES.md table (only rows that record one)."""
    urls = {}
    sources = root / "SOURCES.md"
    if not sources.exists():
        return urls
    for line in sources.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 6 or not cells[0].startswith("`"):
            continue
        m = re.search(r"https?://\S+", cells[5])
        if m:
            urls[cells[0].strip("`").removesuffix(".html")] = m.group(0)
    return urls


def _html(page: GoldPage) -> str:
    from pipelines.decode import decode_bytes

    return decode_bytes(page.html_path.read_bytes())[0]


def _body_scores(text: str, page: GoldPage) -> tuple[float, float, float]:
    if page.text is not None:
        return bigram_prf(text, page.text)
    return snippet_prf(text, page.with_snippets, page.without_snippets)


def score_ours(page: GoldPage, html: str, url: str | None) -> dict:
    """Our chain on one page: body scores and metadata (no timing)."""
    from pipelines.documents import NotArticle, document_from_html

    doc = document_from_html(html, url=url)
    if isinstance(doc, NotArticle):
        text, title, published, credited, prov = "", None, None, [], {"body": doc.reason}
        subtitle = None
    else:
        text, title, published = doc.text_original, doc.title, doc.published
        subtitle = doc.subtitle
        credited = list(doc.authors) or ([doc.editor] if doc.editor else [])
        prov = doc.provenance
    p, r, f = _body_scores(text, page)
    return {"p": p, "r": r, "f1": f, "title": title, "subtitle": subtitle,
            "published": published.isoformat() if published else None,
            "authors": credited, "provenance": prov, "chars": len(text)}


def score_trafilatura(page: GoldPage, html: str, url: str | None) -> dict:
    import trafilatura

    out = trafilatura.extract(html, url=url, with_metadata=True, output_format="json")
    data = json.loads(out) if out else {}
    text = data.get("text") or ""
    p, r, f = _body_scores(text, page)
    authors = [a for a in re.split(r"[;,，、\s]+", data.get("author") or "") if a]
    return {"p": p, "r": r, "f1": f, "title": data.get("title"), "published": data.get("date"),
            "authors": authors, "chars": len(text)}


def _headline_correct(res: dict, gold: str) -> bool:
    """The gold title is the headline as printed: ours is right when the title is, or the
    title with its 副题 after it or its 引题 before it (``subtitle``) is."""
    sub = res.get("subtitle")
    return (title_correct(res["title"], gold)
            or bool(sub) and (title_correct(f"{res['title']}{sub}", gold) or title_correct(f"{sub}{res['title']}", gold)))


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _time_ours_extract(html: str, url: str | None) -> None:
    from pipelines.clean import clean_text
    from pipelines.extract import extract_html

    e = extract_html(html, url)
    clean_text(e.text, e.meta)


def _time_ours_doc(html: str, url: str | None) -> None:
    from pipelines.documents import document_from_html

    document_from_html(html, url=url)


def _time_trafilatura(html: str, url: str | None) -> None:
    import trafilatura

    trafilatura.extract(html, url=url, with_metadata=True, output_format="json")


def _time_trafilatura_text(html: str, url: str | None) -> None:
    import trafilatura

    trafilatura.extract(html, url=url)


def run(repeat: int = 3, timing: bool = True, root: Path = FIXTURES) -> dict:
    """Score both systems on every gold page; returns {"pages": [...], "summary": {...}}."""
    from pipelines.normalize import get_normalizer

    get_normalizer()  # loaded once per process in the product too; not part of a page's time
    urls = page_urls(root)
    rows = []
    for page in load_gold_pages(root):
        html, url = _html(page), urls.get(page.name)
        ours, traf = score_ours(page, html, url), score_trafilatura(page, html, url)
        row = {"page": page.name, "url": url, "gold_kind": "text" if page.text is not None else "snippets",
               "ours": ours, "trafilatura": traf, "gold_date": page.date, "gold_title": page.title,
               "gold_title_source": page.title_source, "gold_authors": page.authors}
        for system in ("ours", "trafilatura"):
            res = row[system]
            res["date_ok"] = date_correct(res["published"], page.date) if page.date else None
            res["title_ok"] = _headline_correct(res, page.title) if page.title else None
            res["author_ok"] = authors_correct(res["authors"], page.authors) if page.authors is not None else None
        if timing:
            # one warm-up so that first-call costs (regex compilation, imports) are not charged to a page
            _time_ours_doc(html, url), _time_trafilatura(html, url)
            row["ms"] = {"ours_extract": _median_ms(lambda: _time_ours_extract(html, url), repeat),
                         "ours_doc": _median_ms(lambda: _time_ours_doc(html, url), repeat),
                         "trafilatura": _median_ms(lambda: _time_trafilatura(html, url), repeat),
                         "trafilatura_text": _median_ms(lambda: _time_trafilatura_text(html, url), repeat)}
        rows.append(row)
    return {"pages": rows, "summary": summarize(rows)}


def summarize(rows: list[dict]) -> dict:
    out = {"pages": len(rows)}
    text_rows = [r for r in rows if r["gold_kind"] == "text"]
    for system in ("ours", "trafilatura"):
        s = {}
        s["mean_f1"] = statistics.fmean(r[system]["f1"] for r in text_rows)
        s["mean_p"] = statistics.fmean(r[system]["p"] for r in text_rows)
        s["mean_r"] = statistics.fmean(r[system]["r"] for r in text_rows)
        s["min_f1"] = min(r[system]["f1"] for r in text_rows)
        s["mean_f1_all"] = statistics.fmean(r[system]["f1"] for r in rows)
        for key in ("date", "title", "author"):
            judged = [r[system][f"{key}_ok"] for r in rows if r[system][f"{key}_ok"] is not None]
            s[f"{key}_accuracy"] = sum(judged) / len(judged) if judged else None
            s[f"{key}_pages"] = len(judged)
        out[system] = s
    if rows and "ms" in rows[0]:
        for key in ("ours_extract", "ours_doc", "trafilatura", "trafilatura_text"):
            out[f"ms_{key}"] = statistics.fmean(r["ms"][key] for r in rows)
    return out


def _mark(ok) -> str:
    return "-" if ok is None else ("ok" if ok else "NO")


def print_table(result: dict, out=sys.stdout) -> None:
    rows, s = result["pages"], result["summary"]
    timing = bool(rows) and "ms" in rows[0]
    head = f"{'page':46} {'F1 ours':>7} {'F1 traf':>7} {'P ours':>6} {'P traf':>6} {'R ours':>6} {'R traf':>6}  date o/t  title o/t  author o/t"
    if timing:
        head += f" {'ms ext':>6} {'ms doc':>6} {'ms traf':>7}"
    print(head, file=out)
    for r in rows:
        o, t = r["ours"], r["trafilatura"]
        name = r["page"][:45] + ("*" if r["gold_kind"] == "snippets" else "")
        line = (f"{name:46} {o['f1']:7.3f} {t['f1']:7.3f} {o['p']:6.3f} {t['p']:6.3f} {o['r']:6.3f} {t['r']:6.3f}"
                f"  {_mark(o['date_ok']):>3}/{_mark(t['date_ok']):<3}  {_mark(o['title_ok']):>3}/{_mark(t['title_ok']):<4}"
                f"  {_mark(o['author_ok']):>3}/{_mark(t['author_ok']):<5}")
        if timing:
            ms = r["ms"]
            line += f" {ms['ours_extract']:6.1f} {ms['ours_doc']:6.1f} {ms['trafilatura']:7.1f}"
        print(line, file=out)
    print(file=out)
    n_text = sum(1 for r in rows if r["gold_kind"] == "text")
    print(f"{len(rows)} pages ({n_text} with gold text; * = snippet gold, scored by with/without snippets)", file=out)
    for label, key, fmt in (("mean body F1 (gold text)", "mean_f1", "{:.3f}"), ("mean precision", "mean_p", "{:.3f}"),
                            ("mean recall", "mean_r", "{:.3f}"), ("min body F1", "min_f1", "{:.3f}"),
                            ("mean F1 incl. snippet pages", "mean_f1_all", "{:.3f}")):
        print(f"  {label:32} ours {fmt.format(s['ours'][key])}   trafilatura {fmt.format(s['trafilatura'][key])}", file=out)
    for key in ("date", "title", "author"):
        o, t = s["ours"], s["trafilatura"]
        print(f"  {key + ' accuracy':32} ours {o[key + '_accuracy']:.3f}   trafilatura {t[key + '_accuracy']:.3f}"
              f"   ({o[key + '_pages']} pages with gold)", file=out)
    if timing:
        ratio = s["ms_ours_extract"] / s["ms_trafilatura"]
        print(f"  {'ms/page':32} ours extract+clean {s['ms_ours_extract']:.1f}   full document {s['ms_ours_doc']:.1f}"
              f"   trafilatura {s['ms_trafilatura']:.1f} (text only {s['ms_trafilatura_text']:.1f})"
              f"   (extract+clean / trafilatura = {ratio:.2f})", file=out)


# --- trafilatura settings sweep -------------------------------------------------------------

SWEEP = {
    "default": {},
    "favor_precision": {"favor_precision": True},
    "favor_recall": {"favor_recall": True},
    "no_tables": {"include_tables": False},
    "precision+no_tables": {"favor_precision": True, "include_tables": False},
    "deduplicate": {"deduplicate": True},
    # skips trafilatura's comparison with its readability/justext fallbacks (a third of its time)
    "fast": {"fast": True},
}


def sweep(root: Path = FIXTURES) -> list[dict]:
    """Mean F1 per trafilatura setting: alone, and as the fallback step inside our chain."""
    import trafilatura

    import pipelines.extract.body as extract  # the body cascade reads its settings at each call

    urls = page_urls(root)
    pages = [(p, _html(p), urls.get(p.name)) for p in load_gold_pages(root) if p.text is not None]
    base = dict(extract.TRAFILATURA_SETTINGS)
    results = []
    try:
        for name, change in SWEEP.items():
            settings = {"include_comments": False, "include_tables": True, "favor_precision": False,
                        "favor_recall": False, "deduplicate": False, **change}
            alone = [bigram_prf(trafilatura.extract(h, url=u, **settings) or "", p.text)[2] for p, h, u in pages]
            extract.TRAFILATURA_SETTINGS = settings
            chain = [score_ours(p, h, u)["f1"] for p, h, u in pages]
            results.append({"setting": name, "trafilatura_mean_f1": statistics.fmean(alone),
                            "trafilatura_min_f1": min(alone), "ours_mean_f1": statistics.fmean(chain),
                            "ours_min_f1": min(chain)})
    finally:
        extract.TRAFILATURA_SETTINGS = base
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per page and system (median)")
    parser.add_argument("--no-timing", action="store_true", help="scores only")
    parser.add_argument("--sweep", action="store_true", help="measure trafilatura settings instead")
    parser.add_argument("--fixtures", type=Path, default=FIXTURES, help="fixture root (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.sweep:
        results = sweep(args.fixtures)
        if args.json:
            print(json.dumps(results, ensure_ascii=False, indent=1))
        else:
            print(f"{'setting':22} {'traf mean F1':>12} {'traf min':>8} {'ours mean F1':>12} {'ours min':>8}")
            for r in results:
                print(f"{r['setting']:22} {r['trafilatura_mean_f1']:12.4f} {r['trafilatura_min_f1']:8.3f}"
                      f" {r['ours_mean_f1']:12.4f} {r['ours_min_f1']:8.3f}")
        return 0
    result = run(repeat=args.repeat, timing=not args.no_timing, root=args.fixtures)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
