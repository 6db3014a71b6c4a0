"""TEMPORARY stand-in until the extraction layers land (rd-extract provides the real one)."""

from __future__ import annotations

from .attachments import AttachmentError, document_from_attachment as document_from_file
from .decode import decode_bytes
from .page import Page
from dataclasses import dataclass

from . import process
from .process import MIN_ARTICLE_CHARS, NotArticle, document_from_html, document_from_text

__all__ = ["NotArticle", "SiteHints", "MIN_ARTICLE_CHARS", "document_from_html", "document_from_text",
           "document_from_file", "document_from_page"]


@dataclass(frozen=True)
class SiteHints(process.SiteHints):
    encoding_hint: str | None = None


def document_from_page(page: Page, hints: SiteHints | None = None):
    from .document import doc_id_for_url
    from .multipage import join_pages

    hints = hints or SiteHints(site=page.site)
    if page.kind == "attachment":
        try:
            return document_from_file(page.body, url=page.url, parent_url=page.parent_url,
                                      content_type=page.content_type, site=page.site,
                                      fetched_at=page.fetched_at, run_id=page.run_id)
        except AttachmentError:
            return NotArticle("attachment-unreadable")
    ctype = _ctype(page.body, page.content_type, hints.encoding_hint)
    html = page.body
    if page.parts:
        html = join_pages([(page.body, ctype), *[(p.body, _ctype(p.body, p.content_type, hints.encoding_hint)) for p in page.parts]],
                          hints.body_selectors)
    return document_from_html(html, url=page.url, hints=hints, origin="crawl", content_type=ctype,
                              doc_id=doc_id_for_url(page.url), fetched_at=page.fetched_at, run_id=page.run_id)


def _ctype(body, content_type, hint):
    from .decode import declared_charset

    if not hint or declared_charset(body, content_type):
        return content_type
    return f"{(content_type or 'text/html').split(';')[0]}; charset={hint}"
