"""Attachment files the mirror serves (PDF, DOCX), generated when the mirror is built.

Generated rather than committed so the text they hold is data in ``manifest.toml``.
The PDF is written by hand (no PDF library writes files here): a Type0 font with
Identity-H encoding, each character's CID its Unicode code point, and a ToUnicode
map saying so; readers extract the text from that map without any embedded glyphs.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

__all__ = ["pdf_bytes", "docx_bytes"]


def pdf_bytes(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer holds ``lines`` (BMP characters, Chinese included)."""
    shown = " ".join(f"<{line.encode('utf-16-be').hex().upper()}> Tj T*" for line in lines)
    content = f"BT /F1 12 Tf 14 TL 72 760 Td {shown} ET"
    cmap = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
            "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
            "1 beginbfrange <0000> <FFFF> <0000> endbfrange\n"
            "endcmap CMapName currentdict /CMap defineresource pop end end")
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /Identity-H "
        "/DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /STSong-Light /CIDToGIDMap /Identity "
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
        f"<< /Length {len(cmap)} >>\nstream\n{cmap}\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n".encode("ascii")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


#: Fixed file dates: the same manifest must give the same bytes at every build (tests compare
#: what the crawl stored with a second build's pages).
_DATE = dt.datetime(2020, 3, 16, 8, 30)


def docx_bytes(paragraphs: list[str]) -> bytes:
    """A DOCX with one paragraph per item, written by python-docx, byte-for-byte reproducible."""
    import docx

    document = docx.Document()
    document.core_properties.created = document.core_properties.modified = _DATE
    for text in paragraphs:
        document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    # python-docx stamps each zip entry with the current time; restamp them
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, _DATE.timetuple()[:6]), src.read(info.filename),
                         zipfile.ZIP_DEFLATED)
    return out.getvalue()
