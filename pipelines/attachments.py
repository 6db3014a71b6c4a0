"""Re-exports of :mod:`pipelines.links`, :mod:`pipelines.extract.files` and
:func:`pipelines.documents.document_from_file` for the modules not yet switched to them
(the lead deletes this shim)."""

from .documents import document_from_file as document_from_attachment
from .extract import attachments_of
from .extract.files import AttachmentError, attachment_text
from .htmltree import parse_html
from .links import ATTACHMENT_EXTENSIONS, attachment_kind, attachment_links

__all__ = ["ATTACHMENT_EXTENSIONS", "attachment_kind", "attachment_links", "attachment_urls", "attachment_text",
           "document_from_attachment", "AttachmentError"]


def attachment_urls(html: str, base_url: str | None = None) -> list[str]:
    """``extract_html(html, base_url).attachments``, without extracting the text."""
    return attachments_of(parse_html(html), base_url)
