"""A document's index entry: everything the store keeps about it besides its row.

Pure and picklable, so document workers compute it beside the document and the crawl
process only writes it (:func:`pipelines.ingest.add_documents` takes the entries).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..document import Document
from .fingerprint import lsh_buckets, text_signature
from .relevance import RelevanceModel

__all__ = ["IndexEntry", "index_entry"]


@dataclass
class IndexEntry:
    """MinHash signature, LSH bands, BM25 term counts and relevance of one document."""

    doc_id: str
    fingerprint: list[int] | None
    bands: list[tuple[int, int]]
    #: lower-cased token -> count in the document
    terms: dict[str, int]
    #: number of tokens (BM25's document length)
    length: int
    relevance: float | None


def index_entry(doc: Document, model: RelevanceModel) -> IndexEntry:
    """The entry of ``doc``, its relevance scored against ``model``."""
    signature = text_signature(doc.text)
    terms = Counter(t.lower() for t in doc.tokens)
    return IndexEntry(
        doc_id=doc.doc_id,
        fingerprint=signature,
        bands=lsh_buckets(signature) if signature else [],
        terms=dict(terms),
        length=sum(terms.values()),
        relevance=model.score(doc.tokens, doc.text, doc.doc_id, counts=terms),
    )
