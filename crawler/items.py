"""What the spider yields: raw fetched pages. Extraction happens in the pipelines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

__all__ = ["PageItem", "PagePart"]


@dataclass
class PagePart:
    """A later page of a multi-page article (``t..._1.shtml``)."""

    url: str
    final_url: str
    status: int
    body: bytes
    content_type: str | None = None


@dataclass
class PageItem:
    #: The page's identity: the URL as linked on the site (not a mirror or redirect URL).
    url: str
    final_url: str
    site: str
    status: int
    #: ``'article'`` (URL of an article pattern), ``'list'`` (a channel list page) or
    #: ``'attachment'`` (a PDF/DOC/DOCX file an article page links to).
    kind: str
    body: bytes
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: dt.datetime = field(default_factory=dt.datetime.now)
    parts: list[PagePart] = field(default_factory=list)
    #: The article page that links this attachment.
    parent_url: str | None = None
    #: Set by DocumentPipeline: a Document, or a NotArticle with the reason.
    outcome: object = None
    #: Set by DocumentPipeline with a Document: its ``pipelines.store.IndexEntry``.
    index_entry: object = None
