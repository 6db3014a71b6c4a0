"""Bytes -> text, trusting the bytes over what the page declares.

Many Chinese pages declare ``gb2312`` in a meta tag while their bytes are UTF-8
(re-saved pages), and archive copies declare UTF-8 over GBK bytes. The cascade:

1. a byte-order mark decides;
2. bytes that decode as strict UTF-8 are UTF-8 (GBK text almost never does);
3. a declared charset (HTTP header, then ``<meta>``) that decodes the bytes strictly;
   GB2312 and GBK are read as GB18030, their superset;
4. strict GB18030;
5. UTF-8 with replacement characters, so that something readable always comes out.

A site's ``encoding_hint`` (``seeds/sites/*.toml``) stands in for the declaration of a
page that declares no charset at all, and only for those: it never overrides a declared
charset or UTF-8 bytes. A page decoded once keeps the encoding found
(``Page.encoding``); :func:`decode_as` decodes it again with that, the same text.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["decode_bytes", "decode_as", "declared_charset", "hinted_content_type"]

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.I)
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
              "big5": "big5hkscs", "iso-8859-1": "cp1252", "ascii": "utf-8", "us-ascii": "utf-8"}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _canonical(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    try:
        name = codecs.lookup(name).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def declared_charset(body: bytes, content_type: str | None = None) -> str | None:
    """The charset a page claims: HTTP header first, then the first ``<meta>`` in its head."""
    if content_type:
        m = _HEADER_CHARSET.search(content_type)
        if m and _canonical(m.group(1)):
            return _canonical(m.group(1))
    m = _META_CHARSET.search(body[:4096])
    if m:
        return _canonical(m.group(1).decode("ascii", "ignore"))
    return None


def hinted_content_type(body: bytes, content_type: str | None, hint: str | None) -> str | None:
    """``content_type`` with ``charset=hint`` when neither it nor the page's ``<meta>`` declares one."""
    if not hint or declared_charset(body, content_type):
        return content_type
    return f"{(content_type or 'text/html').split(';')[0]}; charset={hint}"


def decode_as(body: bytes, encoding: str) -> str:
    """``body`` decoded with the ``encoding`` :func:`decode_bytes` found for it before: the same
    text it returned then (its BOM dropped, undecodable bytes replaced as it did)."""
    if encoding == "utf-8" and body.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"  # decode_bytes names it utf-8 and drops the BOM
    return body.decode(encoding, errors="replace")


def decode_bytes(body: bytes, content_type: str | None = None, hint: str | None = None) -> tuple[str, str]:
    """Decode a page; return ``(text, encoding actually used)``. ``hint``: the site's
    ``encoding_hint``, used only when the page declares no charset."""
    content_type = hinted_content_type(body, content_type, hint)
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body.decode(name, errors="replace"), name.replace("-sig", "")
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    declared = declared_charset(body, content_type)
    if declared and declared.startswith(("utf-16", "utf-32")) and declared_charset(b"", content_type) != declared:
        # a <meta> that an ASCII search could read proves the bytes are not UTF-16/32, whatever
        # it says (copied templates do say so); decoding them so gives CJK-looking garbage
        declared = None
    for name in (declared, "gb18030"):
        if name and name != "utf-8":
            try:
                return body.decode(name), name
            except (UnicodeDecodeError, LookupError):
                continue
    return body.decode("utf-8", errors="replace"), "utf-8"
