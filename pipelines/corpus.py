"""The store stage: every document enters the corpus through :func:`add_documents`.

Load-seeds, the crawl's store pipeline and reprocess all call it, so whatever must
happen before a document is stored (reprint linking, relevance) happens once, here.
"""

from __future__ import annotations

from collections.abc import Sequence

from .document import Document
from .store import Store, UpsertResult

__all__ = ["add_documents"]


def add_documents(store: Store, docs: Sequence[Document]) -> UpsertResult:
    """Store a batch of documents in one transaction; returns new/updated/unchanged counts."""
    return store.upsert_documents(docs)
