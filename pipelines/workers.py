"""Pages made into documents in worker processes (the crawl and ``djcrawl reprocess``).

Turning a page into a document is pure CPU work (extraction, cleaning, normalization:
~20-25 ms of CPU a page here) and needs no database, so it runs in a pool of worker
processes while the parent, the only process holding the DuckDB file, stores the
documents. The crawl and reprocess build their jobs with the same :func:`job_for` and
make them with the same :func:`make`.

A worker also computes each document's index entry (MinHash, LSH bands, BM25 terms,
relevance: ~3 ms a document, all pure) against the relevance model of the seeds it
was given, so the parent is left with the writes (:func:`pipelines.ingest.add_documents`
takes the entries). Given the seeds rather than a model, the parent never loads the
dictionaries itself (~1 s and ~100 MB). This module never imports the store: a worker
holds no duckdb or pyarrow.

Workers are spawned, not forked: the parent holds DuckDB's threads and locks, and a
forked child can inherit a lock held by a thread that does not exist in it. Each
worker loads the normalizer once, when it starts; one that cannot (a data file missing
from a broken install) answers every job with :class:`WorkerStartError`, which names why.

Stopping is the parent's business: Ctrl-C and systemd's SIGTERM reach every process of
the group, and a worker dying on them would turn the pages under way into errors while
the parent is still finishing its run. Workers ignore both and end when the parent shuts
the pool; on Linux they are killed if the parent dies without doing so.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from .document import Document
from .documents import NotArticle, SiteHints, document_from_page
from .errors import DjcrawlError
from .index.entry import IndexEntry, index_entry
from .index.relevance import RelevanceModel
from .normalize import get_normalizer
from .page import Page

__all__ = ["Job", "Made", "Seeds", "job_for", "make", "model_of", "WorkerPool", "make_all", "WorkerStartError"]

logger = logging.getLogger(__name__)

#: ``(doc_id, tokens)`` of the seed documents: the reference set of relevance.
Seeds = Sequence[tuple[str, Sequence[str]]]

#: The relevance model of this worker process (built by the pool's initializer).
_MODEL: RelevanceModel | None = None
#: Why this worker could not load what it needs (a missing data file of a broken install):
#: every job then raises :class:`WorkerStartError` with it, rather than the pool breaking
#: again and again with the cause only on the worker's stderr.
_START_ERROR: str | None = None


class WorkerStartError(DjcrawlError):
    """The document workers cannot start: no job can be made, whatever the page."""

#: Pages that can become documents; list pages and later parts of articles cannot.
DOCUMENT_KINDS = ("article", "attachment")


@dataclass(frozen=True)
class Job:
    """One article page (with its later parts) or attachment, and what its site's config says."""

    page: Page
    hints: SiteHints | None = None


@dataclass(frozen=True)
class Made:
    """What became of one job: the document and its index entry, or why there is none."""

    document: Document | None
    entry: IndexEntry | None = None
    #: a reason of ``crawler/outcomes.py`` when there is no document
    reason: str | None = None


def job_for(page: Page, hints: SiteHints | None) -> Job | None:
    """The job of a page that can become a document; None for the others (lists, parts)."""
    return Job(page, hints) if page.kind in DOCUMENT_KINDS else None


def model_of(seeds: Seeds | None) -> RelevanceModel | None:
    return RelevanceModel.from_seeds(seeds) if seeds is not None else None


def make(job: Job, model: RelevanceModel | None = None) -> Made:
    """The crawl's chain on one job, plus the index entry when a relevance model is given
    (or this is a worker, which has its own)."""
    if _START_ERROR is not None:
        raise WorkerStartError(f"the document workers cannot start: {_START_ERROR}")
    outcome = document_from_page(job.page, job.hints)
    if isinstance(outcome, NotArticle):
        return Made(None, None, outcome.reason)
    model = model if model is not None else _MODEL
    return Made(outcome, index_entry(outcome, model) if model is not None else None)


def _call(fn: Callable, item):
    """``fn(item)`` in a worker (:meth:`WorkerPool.imap`)."""
    if _START_ERROR is not None:
        raise WorkerStartError(f"the document workers cannot start: {_START_ERROR}")
    return fn(item)


@contextlib.contextmanager
def _stops_ignored():
    """SIGINT and SIGTERM ignored in this process while the block runs (main thread only,
    where Python allows setting handlers; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


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
    global _MODEL, _START_ERROR

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent(parent)
    try:
        get_normalizer()
        _MODEL = model_of(seeds)
    except Exception as exc:  # told to the parent with the first job (see make)
        _START_ERROR = f"{type(exc).__name__}: {exc}"


class WorkerPool:
    """``workers`` spawned processes with the dictionaries loaded and the seeds' model built;
    0 workers makes documents in this process. A pool that breaks (a worker killed, out
    of memory, a crash in a C extension) is replaced, and each job it held is tried once
    more in the new one; a job that breaks that one too raises ``BrokenProcessPool``."""

    def __init__(self, workers: int, seeds: Seeds | None = None,
                 on_restart: Callable[[], None] | None = None):
        if workers < 0:
            raise ValueError("workers must be 0 (this process) or more")
        self.workers, self.seeds, self.on_restart = workers, seeds, on_restart
        self._pool: ProcessPoolExecutor | None = None
        self._model: RelevanceModel | None = None

    def start(self) -> "WorkerPool":
        """Start the workers now (a pool spawns them on first use), so that they load the
        dictionaries while the first requests are under way; in-process, load them here."""
        if self.workers:
            self._pool = self._new_pool()
            self._spawn(self._pool)
        else:
            get_normalizer()
            self._model = model_of(self.seeds)
        return self

    def _new_pool(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(self.workers, mp_context=context, initializer=_warm_up,
                                   initargs=(self.seeds, os.getpid()))

    def _spawn(self, pool: ProcessPoolExecutor) -> None:
        """Start every worker of ``pool`` now, with Ctrl-C and SIGTERM ignored from birth: a
        worker that got one while still importing (before its initializer ignores them)
        would die printing a traceback. A spawned process keeps the ignored dispositions it
        was started with, and Python then installs no KeyboardInterrupt handler."""
        with _stops_ignored():
            for _ in range(self.workers):
                pool.submit(int)

    def _restart(self, broken: ProcessPoolExecutor) -> None:
        if self._pool is broken:  # the first job to notice starts the new pool
            logger.warning("a document worker died; starting a new one")
            broken.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            self._spawn(self._pool)
            if self.on_restart is not None:
                self.on_restart()

    async def make(self, job: Job) -> Made:
        """:func:`make` in a worker, awaited without blocking the event loop."""
        if self._pool is None:
            return make(job, self._model)
        for attempt in (1, 2):
            pool = self._pool
            try:
                return await asyncio.wrap_future(pool.submit(make, job))
            except BrokenProcessPool:
                self._restart(pool)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def map(self, jobs: Iterable[Job], window: int | None = None) -> Iterator[tuple[Job, Made]]:
        """``(job, made)`` for every job, in input order; at most ``window`` jobs in flight,
        so memory stays flat however many pages there are."""
        if self._pool is None:
            for job in jobs:
                yield job, make(job, self._model)
            return
        window = window or 16 * self.workers
        pending: deque = deque()
        for job in jobs:
            pending.append((job, self._pool.submit(make, job)))
            if len(pending) >= window:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()

    def imap(self, fn: Callable, items: Iterable, window: int | None = None) -> Iterator:
        """``fn(item)`` for every item, in input order, made by the workers (``fn`` must be a
        module-level function they can import; its answers travel back pickled); at most
        ``window`` items in flight. For work that is not a crawl job (``djcrawl clean`` of
        files). An exception ``fn`` raises is raised here, at its item."""
        if self._pool is None:
            for item in items:
                yield fn(item)
            return
        window = window or 16 * self.workers
        pending: deque = deque()
        for item in items:
            pending.append(self._pool.submit(_call, fn, item))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "WorkerPool":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def make_all(jobs: Iterable[Job], workers: int, seeds: Seeds | None = None) -> Iterator[tuple[Job, Made]]:
    """Every job made, in input order, by ``workers`` processes (0 = this one)."""
    with WorkerPool(workers, seeds) as pool:
        yield from pool.map(jobs)
