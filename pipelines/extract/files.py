"""Text of an attachment file: PDF via pypdf, DOCX via python-docx, legacy DOC via
olefile's WordDocument stream. Paragraphs come out one a line, as from HTML.
"""

from __future__ import annotations

import io
import re
import zipfile

from ..errors import DjcrawlError

__all__ = ["AttachmentError", "attachment_text"]


class AttachmentError(DjcrawlError):
    """A file that is not a readable PDF/DOC/DOCX (broken, encrypted, or another format)."""


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
