"""Stored pages made into documents on every core (``djcrawl reprocess``).

Turning a page into a document is pure CPU work (extraction, cleaning,
normalization: ~30 ms a page here) and needs no database, so it runs in a pool of
worker processes while the parent, the only process holding the DuckDB file, stores
the documents. Results come back in input order, and at most ``window`` pages are
in flight, so memory stays flat however many pages are stored.

Given the relevance model of the store, a worker also computes each document's index
entry (MinHash, LSH bands, BM25 terms, relevance: ~10 ms a document, all pure), so the
parent is left with the writes (:func:`pipelines.corpus.add_documents` takes the entries).

Workers are spawned, not forked: the parent holds DuckDB's threads and locks, and a
forked child can inherit a lock held by a thread that does not exist in it. Each
worker loads the normalizer (dictionaries, about a second) once, when it starts.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from .corpus import index_entry
from .document import Document
from .process import NotArticle, SiteHints, document_from_html
from .relevance import RelevanceModel
from .store import IndexEntry

__all__ = ["PageJob", "Made", "make_document", "make_documents", "default_workers", "worker_pool"]

#: The relevance model of this worker process (set by the pool's initializer).
_MODEL: RelevanceModel | None = None


@dataclass(frozen=True)
class PageJob:
    """One stored article page (and its later parts) to make into a document."""

    url: str
    body: bytes
    content_type: str | None
    hints: SiteHints
    doc_id: str
    fetched_at: dt.datetime | None = None
    run_id: str | None = None
    #: ``(raw bytes, content type)`` of the article's later pages, in reading order.
    parts: tuple[tuple[bytes, str | None], ...] = ()


def make_document(job: PageJob) -> Document | NotArticle:
    """The crawl's chain on one stored page: exactly what the crawl would have stored."""
    html: str | bytes = job.body
    if job.parts:
        from .multipage import join_pages

        html = join_pages([(job.body, job.content_type), *job.parts], job.hints.body_selectors)
    return document_from_html(html, url=job.url, hints=job.hints, origin="crawl", content_type=job.content_type,
                              doc_id=job.doc_id, fetched_at=job.fetched_at, run_id=job.run_id)


@dataclass(frozen=True)
class Made:
    """What became of one job: the document (or why there is none) and its index entry."""

    outcome: Document | NotArticle
    entry: IndexEntry | None = None


def make_made(job: PageJob, model: RelevanceModel | None = None) -> Made:
    """:func:`make_document`, plus the index entry when a relevance model is given (or set)."""
    outcome = make_document(job)
    model = model if model is not None else _MODEL
    entry = index_entry(outcome, model) if model is not None and isinstance(outcome, Document) else None
    return Made(outcome, entry)


def default_workers() -> int:
    """Worker processes: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _warm_up(model: RelevanceModel | None = None) -> None:
    global _MODEL
    from .normalize import get_normalizer

    get_normalizer()
    _MODEL = model


def worker_pool(workers: int, model: RelevanceModel | None = None) -> ProcessPoolExecutor:
    """Spawned workers with the dictionaries loaded and ``model`` set; submit :func:`make_made`."""
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_warm_up, initargs=(model,))


def make_documents(jobs: Iterable[PageJob], workers: int | None = None, window: int | None = None,
                   model: RelevanceModel | None = None) -> Iterator[tuple[PageJob, Made]]:
    """``(job, made)`` for every job, in input order; ``workers`` 1 runs in this process.

    With ``model`` (the store's :func:`pipelines.corpus.relevance_model`) each document
    comes with its index entry.
    """
    workers = default_workers() if workers is None else max(1, workers)
    if workers == 1:
        for job in jobs:
            yield job, make_made(job, model)
        return
    window = window or 16 * workers
    with worker_pool(workers, model) as pool:
        pending: deque = deque()
        for job in jobs:
            pending.append((job, pool.submit(make_made, job)))
            if len(pending) >= window:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
