"""One fetched page or file: what the spider yields, the document workers read and
``pages`` keeps. One record for all of them, so nothing the crawl knew about a page
(the article it belongs to, its part number, its encoding) is lost on the way.

Pure data and picklable (it travels to worker processes); no Scrapy, no database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

__all__ = ["Page", "PAGE_KINDS"]

#: What a page is to the crawl: a channel list page, an article page (its first page for
#: a multi-page article), a later page of an article, or a PDF/DOC/DOCX file an article links.
PAGE_KINDS = ("list", "article", "article-part", "attachment")


@dataclass
class Page:
    #: The page's identity: the URL as linked on the site (not a mirror or redirect URL).
    url: str
    site: str | None
    #: one of :data:`PAGE_KINDS`
    kind: str
    status: int
    #: the raw bytes as received (stored compressed)
    body: bytes = field(repr=False)
    #: where the page was answered from after redirects
    final_url: str | None = None
    content_type: str | None = None
    #: the encoding the body was decoded with (:func:`pipelines.decode.decode_bytes`),
    #: found once, when the page is first decoded; ``None`` for files and bodiless answers
    encoding: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: dt.datetime = field(default_factory=dt.datetime.now)
    run_id: str | None = None
    #: an attachment: the article page that links it
    parent_url: str | None = None
    #: an article part: the URL of the article's first page, and its number (1 = second page)
    part_of: str | None = None
    part_no: int | None = None
    #: an article: its later pages (kind ``article-part``) in reading order; stored as rows
    #: of their own, never as a column
    parts: list[Page] = field(default_factory=list, repr=False)
    #: why the page made no document (``list-page``, ``too-short``, ``irrelevant``, ...)
    reason: str | None = None
    #: the document the page made, if any
    doc_id: str | None = None
