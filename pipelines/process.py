"""Re-exports of :mod:`pipelines.documents` for the modules not yet switched to it (the
lead deletes this shim); ``join_pages`` keeps the old ``(bytes, content type)`` form."""

from .decode import decode_bytes
from .documents import MIN_ARTICLE_CHARS, NotArticle, SiteHints, document_from_html, document_from_text
from .extract.multipage import join_pages as _join_texts

__all__ = ["NotArticle", "SiteHints", "document_from_text", "document_from_html", "MIN_ARTICLE_CHARS", "join_pages"]


def join_pages(pages, body_selectors=()) -> str:
    """``pages``: ``(raw bytes, content type)`` in reading order; returns one decoded HTML page."""
    return _join_texts([decode_bytes(body, content_type)[0] for body, content_type in pages], body_selectors)
