"""Keyword search (BM25) with snippets, and "more like this" similar documents.

The ranking itself is SQL in the store (the ``bm25_terms`` and ``similar_to`` macros
made by the schema-2 migration), so the command line and a user's own SQL rank alike.
This module segments the query the same way documents were segmented (the
normalizer: Traditional -> Simplified, jieba with the domain words), leaves out the
function words of ``data/query_stopwords.txt`` and cuts a snippet around the hits.

A query is always converted to Simplified: the script detection that decides it for a
document needs a few changed characters, which a query of two (黨建) does not have.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from .errors import DjcrawlError
from .normalize import DATA_DIR, get_normalizer
from .store import Store

__all__ = ["Hit", "query_terms", "query_stopwords", "search", "similar", "snippet", "HIT_OPEN", "HIT_CLOSE"]

#: Markers around a query word in a snippet.
HIT_OPEN, HIT_CLOSE = "【", "】"


@dataclass
class Hit:
    doc_id: str
    title: str | None
    published: dt.date | None
    site: str | None
    score: float
    snippet: str
    duplicate_of: str | None
    matched_terms: int = 0
    jaccard: float | None = None


@functools.lru_cache(maxsize=1)
def query_stopwords() -> frozenset[str]:
    """The function words a query leaves out (``data/query_stopwords.txt``)."""
    lines = (DATA_DIR / "query_stopwords.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


def _words(query: str) -> list[str]:
    norm = get_normalizer()
    return list(dict.fromkeys(t.lower() for t in norm.tokens(norm.simplify_meta(query))))


def query_terms(query: str) -> list[str]:
    """The query's words as the index holds them (Simplified, lower case, in order, unique),
    without its function words."""
    stop = query_stopwords()
    return [t for t in _words(query) if t not in stop]


def _resolve(store: Store, terms: list[str]) -> list[str]:
    # The segmenter may keep a compound whole (足球比赛) that documents split differently;
    # such a word is searched as the indexed words inside it.
    known = store.known_terms(terms)
    stop = query_stopwords()
    out: list[str] = []
    for term in terms:
        out.extend([term] if term in known else [t for t in store.terms_within(term) if t not in stop])
    return list(dict.fromkeys(out))


def snippet(text: str, terms: list[str], width: int = 80) -> str:
    """A window of about ``width`` characters holding the most distinct query words, marked."""
    flat = " ".join(text.split())
    if not flat:
        return ""
    low = flat.lower()
    hits: list[tuple[int, str]] = []
    for term in terms:
        start = low.find(term)
        while start != -1:
            hits.append((start, term))
            start = low.find(term, start + len(term))
    if not hits:
        return flat[:width] + ("…" if len(flat) > width else "")
    hits.sort()
    best_start, best_count = 0, -1
    for pos, _ in hits:
        start = max(0, pos - width // 4)
        count = len({t for p, t in hits if start <= p and p + len(t) <= start + width})
        if count > best_count:
            best_start, best_count = start, count
    end = min(len(flat), best_start + width)
    # Marks go in from the longest word so a word inside another is not marked twice.
    window = flat[best_start:end]
    marked, i, low_w = [], 0, window.lower()
    ordered = sorted(set(terms), key=len, reverse=True)
    while i < len(window):
        for term in ordered:
            if term and low_w.startswith(term, i):
                marked.append(HIT_OPEN + window[i:i + len(term)] + HIT_CLOSE)
                i += len(term)
                break
        else:
            marked.append(window[i])
            i += 1
    return ("…" if best_start > 0 else "") + "".join(marked) + ("…" if end < len(flat) else "")


def search(store: Store, query: str, *, limit: int = 10, site: str | None = None,
           since: dt.date | None = None, snippet_chars: int = 80) -> list[Hit]:
    """Documents ranked by BM25 for ``query``, best first."""
    if not query.strip():
        raise DjcrawlError("empty query: give one or more words to search for")
    if limit < 1:
        raise DjcrawlError(f"--limit must be at least 1, not {limit}")
    words = _words(query)
    if not words:
        raise DjcrawlError(f"query {query!r} has no words to search for (only punctuation or spaces)")
    terms = query_terms(query)
    if not terms:
        raise DjcrawlError(f"query {query!r} holds only words too common to search for ({', '.join(words)})")
    terms = _resolve(store, terms)
    rows = store.bm25_search(terms, limit=limit, site=site, since=since)
    return [
        Hit(doc_id=r["doc_id"], title=r["title"], published=r["published"], site=r["site"],
            score=float(r["score"]), snippet=snippet(r["text"], terms, snippet_chars),
            duplicate_of=r["duplicate_of"], matched_terms=r["matched_terms"])
        for r in rows
    ]


def similar(store: Store, doc_id: str, *, limit: int = 10) -> list[Hit]:
    """Documents nearest to ``doc_id`` (shared heavy terms, BM25-weighted), best first."""
    if limit < 1:
        raise DjcrawlError(f"--limit must be at least 1, not {limit}")
    if not store.document_exists(doc_id):
        raise DjcrawlError(f"no document {doc_id!r} in {store.path}")
    return [
        Hit(doc_id=r["doc_id"], title=r["title"], published=r["published"], site=r["site"],
            score=float(r["score"]), snippet="", duplicate_of=r["duplicate_of"],
            jaccard=None if r["jaccard"] is None else float(r["jaccard"]))
        for r in store.similar_documents(doc_id, limit=limit)
    ]
