"""What the spider yields, and what the document pipeline hands on to the store pipeline.

The spider yields :class:`pipelines.page.Page`: raw fetched pages, the record the
workers read and ``pages`` keeps. The document pipeline wraps each in a
:class:`Processed` with the document it made, if any.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.document import Document
from pipelines.index.entry import IndexEntry
from pipelines.page import Page

__all__ = ["Page", "Processed"]


@dataclass
class Processed:
    """A page after the document pipeline: ``page.reason`` says why there is no document."""

    page: Page
    document: Document | None = None
    #: what the store indexes about the document, computed beside it in a worker
    entry: IndexEntry | None = None

    def __repr__(self) -> str:  # Scrapy logs every item: the page's bytes and text stay out
        made = f"doc_id={self.document.doc_id}" if self.document else f"reason={self.page.reason}"
        return f"Processed({self.page.kind} {self.page.url} {made})"
