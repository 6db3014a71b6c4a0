"""The whole chain for one input: (decode ->) extract -> clean -> normalize -> Document.

These are the functions every entry point calls: the Scrapy pipelines, ``djcrawl
clean``, ``djcrawl load-seeds`` and ``djcrawl reprocess``. They are pure (no
database, no network), so they are tested and benchmarked without a crawler.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .clean import Cleaned, clean_text
from .decode import decode_bytes
from .document import Document, doc_id_for_url
from .extract import extract_html
from .normalize import get_normalizer

__all__ = ["NotArticle", "SiteHints", "document_from_text", "document_from_html", "MIN_ARTICLE_CHARS"]

#: A page whose clean body is shorter than this is not an article (navigation, list or empty page).
MIN_ARTICLE_CHARS = 80


@dataclass
class NotArticle:
    """A page kept in ``pages`` but not made a document; ``reason`` is counted per run."""

    reason: str


@dataclass(frozen=True)
class SiteHints:
    """What a site config tells extraction (see ``seeds/sites/*.toml``)."""

    site: str | None = None
    body_selectors: tuple[str, ...] = ()
    prune_xpaths: tuple[str, ...] = ()
    meta_selectors: tuple[tuple[str, str], ...] = ()


def _finish(cleaned: Cleaned, *, doc_id: str, origin: str, provenance_prefix: dict[str, str] | None = None,
            **fields) -> Document:
    norm = get_normalizer()
    text, script = norm.simplify_text(cleaned.text)
    # Metadata follows the body's script: converting the names on a Simplified page would
    # change rare characters that are not Traditional at all (魏其濛 is no 魏其蒙).
    convert = norm.simplify_meta if script == "hant" else _nfkc_meta
    meta = {k: convert(v) for k, v in cleaned.meta.items()}
    tokens = norm.tokens(text)
    doc = Document(
        doc_id=doc_id,
        origin=origin,
        text=text,
        text_original=norm.nfkc(cleaned.text),
        script=script,
        title=meta.get("title"),
        original_title=meta.get("original_title"),
        published=meta.get("published"),
        source_name=meta.get("source_name"),
        authors=list(meta.get("authors") or []),
        editor=meta.get("editor"),
        summary=meta.get("summary"),
        tokens=tokens,
        keywords=norm.keywords(tokens),
        provenance={**(provenance_prefix or {}), **cleaned.provenance},
        **fields,
    )
    return doc


def _nfkc_meta(value):
    norm = get_normalizer()
    if isinstance(value, str):
        return norm.nfkc(value)
    if isinstance(value, list):
        return [norm.nfkc(v) for v in value]
    return value


def document_from_text(text: str, *, doc_id: str, origin: str = "seed", **fields) -> Document:
    """A plain-text report (a seed file, a pasted text) made into a document."""
    return _finish(clean_text(text), doc_id=doc_id, origin=origin, **fields)


def document_from_html(
    html: str | bytes,
    *,
    url: str | None = None,
    hints: SiteHints | None = None,
    origin: str = "crawl",
    content_type: str | None = None,
    doc_id: str | None = None,
    fetched_at: dt.datetime | None = None,
    run_id: str | None = None,
) -> Document | NotArticle:
    """One HTML page made into a document, or the reason it is not an article."""
    if isinstance(html, bytes):
        html, _encoding = decode_bytes(html, content_type)
    if not html.strip():
        return NotArticle("empty")
    hints = hints or SiteHints()
    extracted = extract_html(
        html, url, body_selectors=hints.body_selectors, prune_xpaths=hints.prune_xpaths,
        meta_selectors=dict(hints.meta_selectors) or None,
    )
    cleaned = clean_text(extracted.text, html_meta=extracted.meta, html_provenance=extracted.provenance)
    if len(cleaned.text) < MIN_ARTICLE_CHARS:
        return NotArticle("too-short" if cleaned.text else "no-body")
    return _finish(
        cleaned,
        doc_id=doc_id or doc_id_for_url(url or html[:200]),
        origin=origin,
        # which step of the extraction cascade produced the body (container, trafilatura, fallback)
        provenance_prefix={"body": extracted.provenance["body"]} if "body" in extracted.provenance else None,
        site=hints.site,
        url=url,
        fetched_at=fetched_at,
        run_id=run_id,
    )
