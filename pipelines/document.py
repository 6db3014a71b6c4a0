"""The document record that flows through the pipelines and lands in DuckDB.

One dataclass, one row of ``documents``. Each field says its format; raw values
and where each metadata value came from are kept in ``provenance`` (field name ->
"how it was found", e.g. ``"title": "body:first-line"``), the way
zyte-common-items keeps ``datePublishedRaw`` beside ``datePublished``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

__all__ = ["Document", "doc_id_for_url", "content_hash"]


def doc_id_for_url(url: str) -> str:
    """Stable id of a crawled document: 16 hex digits of the canonical URL's SHA-256."""
    return "u_" + hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


@dataclass
class Document:
    #: Seed file stem (``003_a1f4537977f397c3``) or :func:`doc_id_for_url` of the canonical URL.
    doc_id: str
    #: ``'seed'``, ``'crawl'`` or ``'attachment'``.
    origin: str
    #: Clean body text, Simplified script, NFKC, paragraphs separated by one ``\n``.
    text: str
    #: Clean body text in the script and characters it was published in (full-width ``，：；``
    #: kept; its NFKC form, converted to Simplified, is ``text``).
    text_original: str
    #: ``'hans'`` (Simplified) or ``'hant'`` (Traditional) - the script of ``text_original``.
    script: str
    title: str | None = None
    #: 引题 / 副题 printed with the headline (``热烈祝贺市政协五届一次会议开幕``), without dashes.
    subtitle: str | None = None
    #: Original title (``原标题``) when the report was reprinted under another one.
    original_title: str | None = None
    published: dt.date | None = None
    #: Publishing organisation or outlet (``来源``), Simplified.
    source_name: str | None = None
    #: Reporters, correspondents and writers, Simplified, in order of appearance.
    authors: list[str] = field(default_factory=list)
    #: Responsible editor (``责任编辑``), Simplified.
    editor: str | None = None
    summary: str | None = None
    #: Site key of ``seeds/sites/<site>.toml`` (``None`` for seeds of unknown origin).
    site: str | None = None
    url: str | None = None
    seed_file: str | None = None
    #: Segmented tokens of ``text`` (punctuation and whitespace dropped).
    tokens: list[str] = field(default_factory=list)
    #: Top keywords of ``text`` by TF-IDF, best first.
    keywords: list[str] = field(default_factory=list)
    #: field name -> where its value came from.
    provenance: dict[str, str] = field(default_factory=dict)
    fetched_at: dt.datetime | None = None
    run_id: str | None = None
    #: For attachments: URL of the page that links to the file.
    parent_url: str | None = None


def content_hash(doc: Document) -> str:
    """Hash of everything a reader sees; a reload that changes nothing keeps the row as is."""
    h = hashlib.sha256()
    for value in (doc.title, doc.original_title, doc.published, doc.source_name, doc.authors,
                  doc.editor, doc.summary, doc.text, doc.text_original, doc.site, doc.url,
                  doc.keywords):
        h.update(repr(value).encode("utf-8"))
        h.update(b"\0")
    if doc.subtitle:  # only when there is one: rows stored without the field keep their hash
        h.update(b"subtitle\0" + doc.subtitle.encode("utf-8"))
    return h.hexdigest()[:32]
