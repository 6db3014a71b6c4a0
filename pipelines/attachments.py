"""Attachments (附件) of a page: find their links, read their text, make them documents.

Government reports are often published as a PDF, DOC or DOCX linked from a short
page. Three pure steps, so the crawler only fetches bytes:

1. :func:`attachment_links` - absolute URLs of attachment files linked from a page
   (``Extracted.attachments`` holds them);
2. :func:`attachment_text` - the text of a fetched file (PDF via pypdf, DOCX via
   python-docx, legacy DOC via olefile's WordDocument stream);
3. :func:`document_from_attachment` - a ``Document(origin='attachment', url=file URL,
   parent_url=page URL)`` through the same clean -> normalize chain as pages.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from urllib.parse import unquote, urljoin, urlsplit

from .errors import DjcrawlError

__all__ = ["ATTACHMENT_EXTENSIONS", "attachment_kind", "attachment_links", "attachment_urls", "attachment_text",
           "document_from_attachment", "AttachmentError"]

#: File extensions read as attachments (lower case, without the dot).
ATTACHMENT_EXTENSIONS = ("pdf", "docx", "doc")

_CONTENT_TYPES = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/msword": "doc",
}


class AttachmentError(DjcrawlError):
    """A file that is not a readable PDF/DOC/DOCX (broken, encrypted, or another format)."""


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


def attachment_urls(html: str, base_url: str | None = None) -> list[str]:
    """:func:`attachment_links` of an HTML string (what ``Extracted.attachments`` holds)."""
    from .extract import extract_html

    return extract_html(html, base_url).attachments


def attachment_text(body: bytes, kind: str) -> str:
    """Plain text of an attachment, paragraphs separated by "\\n"."""
    try:
        if kind == "pdf":
            return _pdf_text(body)
        if kind == "docx":
            return _docx_text(body)
        if kind == "doc":
            return _doc_text(body)
    except AttachmentError:
        raise
    except Exception as exc:  # the readers raise many types on broken files; one line for the user
        raise AttachmentError(f"cannot read {kind} attachment: {type(exc).__name__}: {exc}") from None
    raise AttachmentError(f"unsupported attachment type: {kind!r}")


def _pdf_text(body: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(body))
    if reader.is_encrypted:
        try:
            reader.decrypt("")  # many gov PDFs are "encrypted" with an empty user password
        except Exception:
            raise AttachmentError("cannot read pdf attachment: encrypted") from None
    pages = [(page.extract_text() or "").strip() for page in reader.pages]
    return "\n".join(p for p in pages if p)


def _docx_text(body: bytes) -> str:
    import docx

    try:
        document = docx.Document(io.BytesIO(body))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise AttachmentError(f"cannot read docx attachment: {exc}") from None
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" ".join(cell.text.strip() for cell in row.cells))
    return "\n".join(line.strip() for line in lines if line.strip())


def _doc_text(body: bytes) -> str:
    """Text of a Word 97-2003 file: the piece table of its WordDocument stream.

    Word stores the text in pieces, each either 8-bit (cp1252) or UTF-16LE; the piece
    table in the table stream (0Table/1Table) says where each one is.
    """
    import struct

    import olefile

    if not olefile.isOleFile(io.BytesIO(body)):
        raise AttachmentError("cannot read doc attachment: not an OLE2 file")
    ole = olefile.OleFileIO(io.BytesIO(body))
    try:
        word = ole.openstream("WordDocument").read()
        flags = struct.unpack_from("<H", word, 0x0A)[0]
        table_name = "1Table" if flags & 0x0200 else "0Table"
        if not ole.exists(table_name):
            raise AttachmentError("cannot read doc attachment: no table stream")
        table = ole.openstream(table_name).read()
    finally:
        ole.close()
    fc_clx, lcb_clx = struct.unpack_from("<II", word, 0x01A2)
    clx = table[fc_clx: fc_clx + lcb_clx]
    pos = 0
    while pos < len(clx) and clx[pos] == 0x01:  # skip Prc (property) blocks
        pos += 3 + struct.unpack_from("<H", clx, pos + 1)[0]
    if pos >= len(clx) or clx[pos] != 0x02:
        raise AttachmentError("cannot read doc attachment: no piece table")
    size = struct.unpack_from("<I", clx, pos + 1)[0]
    plc = clx[pos + 5: pos + 5 + size]
    n = (size - 4) // 12
    cps = struct.unpack_from(f"<{n + 1}I", plc, 0)
    out = []
    for i in range(n):
        fc = struct.unpack_from("<I", plc, 4 * (n + 1) + 8 * i + 2)[0]
        count = cps[i + 1] - cps[i]
        if fc & 0x40000000:  # compressed: 8-bit characters at fc/2
            start = (fc & ~0x40000000) // 2
            out.append(word[start: start + count].decode("cp1252", errors="replace"))
        else:
            out.append(word[fc: fc + 2 * count].decode("utf-16-le", errors="replace"))
    text = "".join(out)
    # Word marks: \r paragraph, \x07 cell/row end, \x0b line break, \x0c page break; fields \x13..\x15
    text = re.sub(r"\x13[^\x14\x15]*\x14?", "", text).replace("\x15", "")
    text = re.sub(r"[\r\x07\x0b\x0c]", "\n", text)
    text = re.sub(r"[\x00-\x08\x0e-\x1f]", "", text)
    return "\n".join(line.strip() for line in text.split("\n") if line.strip())


def document_from_attachment(body: bytes, *, url: str, parent_url: str | None, content_type: str | None = None,
                             title: str | None = None, site: str | None = None, fetched_at=None, run_id=None):
    """A fetched attachment as a ``Document(origin='attachment')``, or ``NotArticle`` when its
    text is too short to be a report (scanned PDFs without a text layer)."""
    from .document import doc_id_for_url
    from .process import MIN_ARTICLE_CHARS, NotArticle, document_from_text

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
