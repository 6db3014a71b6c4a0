"""Stored pages made into documents on every core (``djcrawl reprocess``).

Turning a page into a document is pure CPU work (extraction, cleaning,
normalization: ~30 ms a page here) and needs no database, so it runs in a pool of
worker processes while the parent, the only process holding the DuckDB file, stores
the documents. Results come back in input order, and at most ``window`` pages are
in flight, so memory stays flat however many pages are stored.

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

from .document import Document
from .process import NotArticle, SiteHints, document_from_html

__all__ = ["PageJob", "make_document", "make_documents", "default_workers"]


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


def default_workers() -> int:
    """Worker processes: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _warm_up() -> None:
    from .normalize import get_normalizer

    get_normalizer()


def make_documents(jobs: Iterable[PageJob], workers: int | None = None, window: int | None = None
                   ) -> Iterator[tuple[PageJob, Document | NotArticle]]:
    """``(job, outcome)`` for every job, in input order; ``workers`` 1 runs in this process."""
    workers = default_workers() if workers is None else max(1, workers)
    if workers == 1:
        for job in jobs:
            yield job, make_document(job)
        return
    window = window or 16 * workers
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_warm_up) as pool:
        pending: deque = deque()
        for job in jobs:
            pending.append((job, pool.submit(make_document, job)))
            if len(pending) >= window:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
