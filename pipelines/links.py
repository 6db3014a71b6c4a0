"""Attachments (附件) a page links to: which links are files of the report.

Government reports are often published as a PDF, DOC or DOCX linked from a short
page. This module only finds the links and names a file's kind; reading a file is
:mod:`pipelines.extract.files`, making it a document :func:`pipelines.documents.document_from_file`.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote, urljoin, urlsplit

__all__ = ["ATTACHMENT_EXTENSIONS", "attachment_kind", "attachment_links"]

#: File extensions read as attachments (lower case, without the dot).
ATTACHMENT_EXTENSIONS = ("pdf", "docx", "doc")

_CONTENT_TYPES = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/msword": "doc",
}


def attachment_kind(url: str | None, content_type: str | None = None, body: bytes | None = None) -> str | None:
    """'pdf', 'docx' or 'doc' from the bytes' signature, the content type, then the URL's extension."""
    if body:
        if body.startswith(b"%PDF"):
            return "pdf"
        if body.startswith(b"PK\x03\x04"):
            return "docx"
        if body.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE2 compound file (Word 97-2003)
            return "doc"
    if content_type:
        kind = _CONTENT_TYPES.get(content_type.split(";")[0].strip().lower())
        if kind:
            return kind
    path = unquote(urlsplit(url or "").path).lower()
    ext = posixpath.splitext(path)[1].lstrip(".")
    return ext if ext in ATTACHMENT_EXTENSIONS else None


#: Words around a link that make it an attachment of the report rather than, say, the PDF of a
#: whole newspaper page in an e-paper's navigation.
_ATTACH_HINT = re.compile(r"附件|附表|下载|attach|fujian|appendix|download|(?:^|[\s_-])fj(?:$|[\s_-])", re.I)


def attachment_links(tree, base_url: str | None = None, body=None) -> list[str]:
    """Absolute URLs of the PDF/DOC/DOCX files a report links to, in page order, without repeats.

    A file link counts when it sits in the report's body container (``body``), or when
    it or a nearby enclosing block says it is an attachment (附件, 下载, class ``attach``...).
    """
    base = base_url or ""
    for b in tree.iter("base"):
        if b.get("href"):
            base = urljoin(base, b.get("href"))
            break
    inside = set(body.iter("a")) if body is not None else set()
    seen: dict[str, None] = {}
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")) or attachment_kind(href) is None:
            continue
        if a in inside or _hinted(a):
            seen.setdefault(urljoin(base, href) if base else href, None)
    return list(seen)


def _hinted(a) -> bool:
    if _ATTACH_HINT.search(a.text_content() or "") or _ATTACH_HINT.search(a.get("title") or ""):
        return True
    node = a.getparent()
    for _ in range(3):  # the link's block, its list, the attachment box
        if node is None:
            return False
        if _ATTACH_HINT.search(f"{node.get('class') or ''} {node.get('id') or ''}"):
            return True
        own = (node.text or "") + "".join(child.tail or "" for child in node)
        if _ATTACH_HINT.search(own):
            return True
        node = node.getparent()
    return False
