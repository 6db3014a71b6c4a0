"""Scoring of extracted text and metadata against gold files (no djcrawl imports).

Kept apart from ``benchmarks/extraction.py`` so that the evaluation gate in the
test suite (``tests/test_eval_gate.py``) scores exactly the way the benchmark
does, without importing the benchmark's command line.

Gold files beside ``<name>.html`` in ``tests/fixtures/real_sites``:

- ``<name>.gold.txt``: the human-made main text;
- ``<name>.gold_date.txt``: ``YYYY-MM-DD[ HH-MM-SS]`` or ``UNKNOWN``;
- ``<name>.gold_author.txt``: names separated by spaces, or ``UNKNOWN``;
- ``<name>.gold_snippets.json``: trafilatura eval entry (title, date, author,
  ``with`` strings the text must hold, ``without`` strings it must not).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "GoldPage", "load_gold_pages", "bigram_prf", "snippet_prf", "gold_date", "date_correct",
    "title_key", "title_correct", "authors_correct", "FIXTURES",
]

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "real_sites"

_WS = re.compile(r"\s+")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})")


@dataclass
class GoldPage:
    name: str  # path relative to the fixture root, without ".html"
    html_path: Path
    text: str | None = None  # gold main text
    date: str | None = None  # "YYYY-MM-DD"; None when the gold has none (or an unusable one)
    authors: list[str] | None = None  # None: no author gold; []: gold says UNKNOWN
    title: str | None = None  # from snippets json, else the page's <h1> (see title_from_h1)
    title_source: str | None = None
    with_snippets: list[str] = field(default_factory=list)
    without_snippets: list[str] = field(default_factory=list)


def _norm(text: str) -> str:
    """NFKC, whitespace removed: the form bodies are compared in."""
    return _WS.sub("", unicodedata.normalize("NFKC", text or ""))


def _bigrams(text: str) -> Counter:
    s = _norm(text)
    return Counter(s[i:i + 2] for i in range(len(s) - 1))


def bigram_prf(predicted: str, gold: str) -> tuple[float, float, float]:
    """Character-bigram precision, recall and F1 (multiset overlap, after NFKC and whitespace removal).

    Bigrams rather than words because Chinese has no spaces and segmenters disagree;
    a multiset so that a paragraph extracted twice costs precision.
    """
    p, g = _bigrams(predicted), _bigrams(gold)
    if not p or not g:
        return (0.0, 0.0, 0.0) if (p or g) else (1.0, 1.0, 1.0)
    overlap = sum((p & g).values())
    precision, recall = overlap / sum(p.values()), overlap / sum(g.values())
    f1 = 2 * precision * recall / (precision + recall) if overlap else 0.0
    return precision, recall, f1


def snippet_prf(predicted: str, with_: list[str], without: list[str]) -> tuple[float, float, float]:
    """trafilatura's own evaluation for pages with only snippets: recall = share of ``with`` found,
    precision = share of ``without`` absent; F1 from the two."""
    text = _norm(predicted)
    recall = sum(_norm(s) in text for s in with_) / len(with_) if with_ else 1.0
    precision = sum(_norm(s) not in text for s in without) / len(without) if without else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def gold_date(raw: str | None) -> str | None:
    """``YYYY-MM-DD`` of a gold date, or None for UNKNOWN and for values that are not dates
    (one CWCED file holds an author's name in its date file)."""
    m = _DATE.match((raw or "").strip())
    if not m:
        return None
    y, mo, d = (int(x) for x in m.groups())
    return f"{y:04d}-{mo:02d}-{d:02d}"


def date_correct(predicted, gold: str) -> bool:
    """Exact date-part match; ``predicted`` may be a date, a datetime or an ISO string."""
    if predicted is None:
        return False
    if hasattr(predicted, "isoformat"):
        predicted = predicted.isoformat()
    return str(predicted)[:10] == gold


_TITLE_DROP = re.compile(r"[\s\u3000·•\-—_|｜:：,，。!！?？、\"“”'‘’《》〈〉()（）\[\]【】]")


def title_key(title: str | None) -> str:
    """Title compared in NFKC without whitespace and punctuation (pages and gold differ in quote
    style, full-width spaces and trailing spaces)."""
    return _TITLE_DROP.sub("", unicodedata.normalize("NFKC", title or ""))


def title_correct(predicted: str | None, gold: str) -> bool:
    """Correct means equal to the gold title after :func:`title_key`: no site suffix left, nothing
    cut off."""
    return bool(predicted) and title_key(predicted) == title_key(gold)


def authors_correct(predicted: list[str] | None, gold: list[str]) -> bool:
    """Same set of names (order ignored); gold ``UNKNOWN`` means we must find none."""
    return {_norm(a) for a in (predicted or []) if _norm(a)} == {_norm(a) for a in gold}


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def title_from_h1(html_path: Path) -> str | None:
    """The page's single <h1> (its visible headline), when it has exactly one non-empty h1.

    The CWCED and magic-html gold has no title, so the headline the reader sees is the
    reference; pages with zero or several h1 get no title gold rather than a guessed one.
    """
    import lxml.html  # local import: only title gold needs a parser

    raw = html_path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("gb18030", errors="replace")
    tree = lxml.html.fromstring(text)
    h1s = [" ".join(h.text_content().split()) for h in tree.iter("h1")]
    h1s = list(dict.fromkeys(h for h in h1s if h))  # a headline printed twice (desktop + mobile) counts once
    return h1s[0] if len(h1s) == 1 else None


def load_gold_pages(root: Path = FIXTURES, title_overrides: dict[str, str] | None = None) -> list[GoldPage]:
    """Every page under ``root`` with a ``.gold.txt`` or ``.gold_snippets.json``, sorted by name.

    ``title_overrides`` (name -> title) supplies the title gold for pages whose <h1>
    is missing or is not the headline (see ``benchmarks/title_gold.json``).
    """
    overrides = title_overrides if title_overrides is not None else _title_overrides(root)
    pages = []
    for html_path in sorted(root.rglob("*.html")):
        stem = html_path.with_suffix("")
        name = str(stem.relative_to(root))
        text = _read(stem.with_name(stem.name + ".gold.txt"))
        snippets = _read(stem.with_name(stem.name + ".gold_snippets.json"))
        if text is None and snippets is None:
            continue
        page = GoldPage(name=name, html_path=html_path, text=text)
        page.date = gold_date(_read(stem.with_name(stem.name + ".gold_date.txt")))
        raw_author = _read(stem.with_name(stem.name + ".gold_author.txt"))
        if raw_author is not None:
            raw_author = raw_author.strip()
            page.authors = [] if raw_author == "UNKNOWN" else raw_author.split()
        if snippets is not None:
            entry = json.loads(snippets)
            page.with_snippets, page.without_snippets = entry.get("with", []), entry.get("without", [])
            page.date = gold_date(entry.get("date")) or page.date
            page.title, page.title_source = (entry.get("title") or "").strip() or None, "snippets"
            # An empty author in trafilatura's eval data means "not annotated", not "none".
            page.authors = [a for a in re.split(r"[;,，、\s]+", entry.get("author") or "") if a] or None
        if name in overrides:
            page.title, page.title_source = overrides[name], "title_gold.json"
        elif page.title is None:
            page.title, page.title_source = title_from_h1(html_path), "h1"
        if page.title is None:
            page.title_source = None
        pages.append(page)
    return pages


def _title_overrides(root: Path) -> dict[str, str]:
    path = Path(__file__).resolve().parent / "title_gold.json"
    if not path.exists():
        return {}
    entries = json.loads(path.read_text(encoding="utf-8"))
    return {name: entry["title"] for name, entry in entries.items() if not name.startswith("_")}
