"""The whole chain for one input: (decode ->) extract -> clean -> normalize -> Document.

These are the functions every entry point calls: the crawl's workers
(:func:`document_from_page`), ``djcrawl clean``, ``djcrawl load-seeds`` and ``djcrawl
reprocess``. They are pure (no database, no network), so they are tested and
benchmarked without a crawler.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .clean import Cleaned, clean_text
from .decode import decode_as, decode_bytes
from .document import Document, doc_id_for_url
from .extract import extract_html
from .extract.files import AttachmentError, attachment_text
from .extract.multipage import join_pages
from .links import attachment_kind
from .normalize import get_normalizer
from .page import Page

__all__ = ["NotArticle", "SiteHints", "MIN_ARTICLE_CHARS", "document_from_html", "document_from_text",
           "document_from_file", "document_from_page"]

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
    #: the charset of the site's pages that declare none (:func:`pipelines.decode.decode_bytes`)
    encoding_hint: str | None = None


def _finish(cleaned: Cleaned, *, doc_id: str, origin: str, body_from: str | None = None, **fields) -> Document:
    norm = get_normalizer()
    text, script = norm.simplify_text(cleaned.text)
    # Metadata follows the body's script: converting the names on a Simplified page would
    # change rare characters that are not Traditional at all (魏其濛 is no 魏其蒙).
    meta = cleaned.meta.map(norm.simplify_meta if script == "hant" else norm.nfkc)
    tokens = norm.tokens(text)
    return Document(
        doc_id=doc_id,
        origin=origin,
        text=text,
        # the page's own characters (full-width punctuation kept); `text` is the NFKC form
        text_original=cleaned.original if cleaned.original is not None else norm.nfkc(cleaned.text),
        script=script,
        title=meta.title,
        subtitle=meta.subtitle,
        original_title=meta.original_title,
        published=meta.published,
        source_name=meta.source_name,
        authors=list(meta.authors),
        editor=meta.editor,
        summary=meta.summary,
        tokens=tokens,
        keywords=norm.keywords(tokens),
        # which step of the extraction cascade produced the body (container, trafilatura, fallback)
        provenance={**({"body": body_from} if body_from else {}), **meta.provenance},
        **fields,
    )


def document_from_text(text: str, *, doc_id: str, origin: str = "seed", **fields) -> Document:
    """A plain-text report (a seed file, a pasted text) made into a document."""
    return _finish(clean_text(text, fetched=fields.get("fetched_at")), doc_id=doc_id, origin=origin, **fields)


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
    hints = hints or SiteHints()
    if isinstance(html, bytes):
        html, _encoding = decode_bytes(html, content_type, hint=hints.encoding_hint)
    if not html.strip():
        return NotArticle("empty")
    extracted = extract_html(
        html, url, body_selectors=hints.body_selectors, prune_xpaths=hints.prune_xpaths,
        meta_selectors=dict(hints.meta_selectors) or None, fetched_at=fetched_at, with_attachments=False,
    )
    cleaned = clean_text(extracted.text, extracted.meta, fetched=fetched_at)
    if len(cleaned.text) < MIN_ARTICLE_CHARS:
        return NotArticle("too-short" if cleaned.text else "no-body")
    return _finish(
        cleaned,
        doc_id=doc_id or doc_id_for_url(url or html[:200]),
        origin=origin,
        body_from=extracted.body_from,
        site=hints.site,
        url=url,
        fetched_at=fetched_at,
        run_id=run_id,
    )


def document_from_file(body: bytes, *, url: str, parent_url: str | None, content_type: str | None = None,
                       title: str | None = None, site: str | None = None, fetched_at=None, run_id=None):
    """A fetched attachment (PDF, DOC, DOCX) as a ``Document(origin='attachment')``, or
    ``NotArticle`` when its text is too short to be a report (scanned PDFs without a text
    layer). Raises :class:`AttachmentError` for a file it cannot read."""
    kind = attachment_kind(url, content_type, body)
    if kind is None:
        raise AttachmentError(f"not a PDF/DOC/DOCX attachment: {url}")
    text = attachment_text(body, kind)
    if len(re.sub(r"\s+", "", text)) < MIN_ARTICLE_CHARS:
        return NotArticle("attachment-no-text")
    doc = document_from_text(
        text, doc_id=doc_id_for_url(url), origin="attachment", url=url, parent_url=parent_url, site=site,
        fetched_at=fetched_at, run_id=run_id,
    )
    if title and not doc.title:
        doc.title = title
        doc.provenance["title"] = "link-text"
    doc.provenance.setdefault("attachment", kind)
    return doc


def _page_text(page: Page, hint: str | None) -> str:
    """The page decoded as the crawl decoded it (``page.encoding``), else by the decode cascade."""
    if page.encoding:
        try:
            return decode_as(page.body, page.encoding)
        except LookupError:  # an encoding name this Python does not know: find it again
            pass
    return decode_bytes(page.body, page.content_type, hint=hint)[0]


def document_from_page(page: Page, hints: SiteHints | None = None) -> Document | NotArticle:
    """The crawl's chain on one fetched page: exactly what the crawl and reprocess store.

    An article page is joined with its ``parts`` (later pages, in reading order) and
    extracted; an attachment is read (a file that cannot be read is
    ``NotArticle("attachment-unreadable")``); a list page is ``NotArticle("list-page")``.
    An article part alone is an error: it is read with its article.
    """
    hints = hints or SiteHints(site=page.site)
    if page.kind == "attachment":
        try:
            return document_from_file(page.body, url=page.url, parent_url=page.parent_url,
                                      content_type=page.content_type, site=page.site,
                                      fetched_at=page.fetched_at, run_id=page.run_id)
        except AttachmentError:  # broken, encrypted or not a PDF/DOC/DOCX at all: kept, counted
            return NotArticle("attachment-unreadable")
    if page.kind == "list":
        return NotArticle("list-page")
    if page.kind != "article":
        raise ValueError(f"{page.url}: a page of kind {page.kind!r} is made a document with its article")
    texts = [_page_text(p, hints.encoding_hint) for p in (page, *page.parts)]
    return document_from_html(join_pages(texts, hints.body_selectors), url=page.url, hints=hints, origin="crawl",
                              content_type=page.content_type, doc_id=doc_id_for_url(page.url),
                              fetched_at=page.fetched_at, run_id=page.run_id)
