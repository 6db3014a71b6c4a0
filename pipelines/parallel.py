"""Pages made into documents in worker processes (``djcrawl reprocess`` and the crawl).

Turning a page into a document is pure CPU work (extraction, cleaning, normalization:
~20-25 ms of CPU a page here) and needs no database, so it runs in a pool of worker processes
while the parent, the only process holding the DuckDB file, stores the documents.

A worker also computes each document's index entry (MinHash, LSH bands, BM25 terms,
relevance: ~3 ms a document, all pure) against the relevance model of the seeds it
was given, so the parent is left with the writes (:func:`pipelines.corpus.add_documents`
takes the entries). Given the seeds rather than a model, the parent never loads the
dictionaries itself (~1 s and ~100 MB).

Workers are spawned, not forked: the parent holds DuckDB's threads and locks, and a
forked child can inherit a lock held by a thread that does not exist in it. Each
worker loads the normalizer once, when it starts.

Stopping is the parent's business: Ctrl-C and systemd's SIGTERM reach every process of
the group, and a worker dying on them would turn the pages under way into errors while
the parent is still finishing its run. Workers ignore both and end when the parent shuts
the pool; on Linux they are killed if the parent dies without doing so.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from .attachments import AttachmentError, document_from_attachment
from .document import Document
from .process import NotArticle, SiteHints, document_from_html
from .index.entry import IndexEntry, index_entry
from .index.relevance import RelevanceModel

__all__ = ["PageJob", "AttachmentJob", "Made", "make_document", "make_made", "make_documents",
           "default_workers", "worker_pool", "Seeds"]

#: ``(doc_id, tokens)`` of the seed documents: the reference set of relevance.
Seeds = Sequence[tuple[str, Sequence[str]]]

#: The relevance model of this worker process (built by the pool's initializer).
_MODEL: RelevanceModel | None = None


@dataclass(frozen=True)
class PageJob:
    """One article page (and its later parts) to make into a document."""

    url: str
    body: bytes
    content_type: str | None
    hints: SiteHints
    doc_id: str
    fetched_at: dt.datetime | None = None
    run_id: str | None = None
    #: ``(raw bytes, content type)`` of the article's later pages, in reading order.
    parts: tuple[tuple[bytes, str | None], ...] = ()


@dataclass(frozen=True)
class AttachmentJob:
    """One PDF, DOC or DOCX file an article links to."""

    url: str
    body: bytes
    content_type: str | None
    parent_url: str | None
    site: str | None = None
    fetched_at: dt.datetime | None = None
    run_id: str | None = None


def make_document(job: PageJob | AttachmentJob) -> Document | NotArticle:
    """The crawl's chain on one page or file: exactly what the crawl stores."""
    if isinstance(job, AttachmentJob):
        try:
            return document_from_attachment(job.body, url=job.url, parent_url=job.parent_url,
                                            content_type=job.content_type, site=job.site,
                                            fetched_at=job.fetched_at, run_id=job.run_id)
        except AttachmentError:  # broken, encrypted or not a PDF/DOC/DOCX at all: kept, counted
            return NotArticle("attachment-unreadable")
    html: str | bytes = job.body
    if job.parts:
        from .process import join_pages

        html = join_pages([(job.body, job.content_type), *job.parts], job.hints.body_selectors)
    return document_from_html(html, url=job.url, hints=job.hints, origin="crawl", content_type=job.content_type,
                              doc_id=job.doc_id, fetched_at=job.fetched_at, run_id=job.run_id)


@dataclass(frozen=True)
class Made:
    """What became of one job: the document (or why there is none) and its index entry."""

    outcome: Document | NotArticle
    entry: IndexEntry | None = None


def make_made(job: PageJob | AttachmentJob, model: RelevanceModel | None = None) -> Made:
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


def model_of(seeds: Seeds | None) -> RelevanceModel | None:
    return RelevanceModel.from_seeds(seeds) if seeds is not None else None


def _die_with_parent(parent: int | None) -> None:
    if sys.platform.startswith("linux"):
        try:
            PR_SET_PDEATHSIG = 1
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # no prctl: the worker then ends when its queue closes
            pass
    if parent is not None and os.getppid() != parent:
        os._exit(1)  # the parent died before the line above could take effect


def _warm_up(seeds: Seeds | None = None, parent: int | None = None) -> None:
    global _MODEL
    from .normalize import get_normalizer

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent(parent)
    get_normalizer()
    _MODEL = model_of(seeds)


def worker_pool(workers: int, seeds: Seeds | None = None) -> ProcessPoolExecutor:
    """Spawned workers with the dictionaries loaded and the seeds' model built; submit :func:`make_made`."""
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_warm_up, initargs=(seeds, os.getpid()))


def make_documents(jobs: Iterable[PageJob | AttachmentJob], workers: int | None = None, window: int | None = None,
                   seeds: Seeds | None = None) -> Iterator[tuple[PageJob | AttachmentJob, Made]]:
    """``(job, made)`` for every job, in input order; ``workers`` 1 runs in this process.

    With ``seeds`` (:func:`pipelines.corpus.relevance_seeds` of the store) each document
    comes with its index entry. At most ``window`` jobs are in flight, so memory stays
    flat however many pages are stored.
    """
    workers = default_workers() if workers is None else max(1, workers)
    if workers == 1:
        model = model_of(seeds)
        for job in jobs:
            yield job, make_made(job, model)
        return
    window = window or 16 * workers
    with worker_pool(workers, seeds) as pool:
        pending: deque = deque()
        for job in jobs:
            pending.append((job, pool.submit(make_made, job)))
            if len(pending) >= window:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
