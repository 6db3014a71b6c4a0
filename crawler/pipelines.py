"""Thin Scrapy item pipelines around the pure chain.

``DocumentPipeline`` turns an article page (all its parts) or an attachment (PDF, DOC,
DOCX) into a document, or the reason it is not one, in ``DJ_WORKERS`` worker processes
(:class:`pipelines.workers.WorkerPool`): the chain costs ~40 ms of CPU a page, which
in the crawl process would hold up the event loop (downloads, list parsing, storing)
and leave the second core idle. An article under ``DJ_MIN_RELEVANCE`` makes no
document. ``StorePipeline`` keeps every fetched page in ``pages`` and the documents
through :func:`pipelines.ingest.add_documents`, a batch at a time, each batch one
transaction in a session of the file: opened for the batch and let go after it, so that
readers get in between. Both find the database through the crawl's
:class:`~crawler.extensions.StoreExtension`.
"""

from __future__ import annotations

import logging
from scrapy.utils.defer import deferred_from_coro

from pipelines.document import Document
from pipelines.errors import DjcrawlError
from pipelines.index.entry import IndexEntry
from pipelines.ingest import add_documents, is_relevant, relevance_seeds, relevance_threshold
from pipelines.page import Page
from pipelines.store import StoreLocked
from pipelines.workers import WorkerPool, WorkerStartError, job_for

from . import outcomes
from .extensions import StoreExtension
from .items import Processed
from .siteconfig import load_sites

__all__ = ["DocumentPipeline", "StorePipeline", "workers_setting", "WORKERS_FAILED"]

#: The close reason of a crawl whose document workers cannot run: no page can become a
#: document, so the crawl stops (its pages so far are kept) and exits non-zero.
WORKERS_FAILED = "workers-failed"

logger = logging.getLogger(__name__)


def workers_setting(settings) -> int:
    """``DJ_WORKERS`` as a count of processes (0 = the crawl process), or one clear error."""
    raw = settings.get("DJ_WORKERS")
    try:
        workers = int(raw)
    except (TypeError, ValueError):
        raise DjcrawlError(f"DJ_WORKERS={raw!r} is not a number of processes") from None
    if workers < 0:
        raise DjcrawlError("--workers must be 0 (this process) or more")
    return workers


class DocumentPipeline:
    """Page -> :class:`~crawler.items.Processed` (the document and its index entry, or the reason)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.workers = workers_setting(crawler.settings)
        self.threshold = relevance_threshold(crawler.settings.get("DJ_MIN_RELEVANCE"))
        self.sites_dir = crawler.settings.get("DJ_SITES_DIR") or None
        self.hints: dict = {}
        self.pool: WorkerPool | None = None
        self.workers_failed = False

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        # The workers load the dictionaries now, before the first download, in parallel with
        # the first requests; in-process, loading them inside the first process_item would
        # block the event loop for a second or two, long enough for a healthy download on a
        # busy machine to time out. The seeds are the reference set of relevance.
        with self.crawler.get_extension(StoreExtension).session() as store:
            seeds = relevance_seeds(store)
        stats = self.crawler.stats
        self.pool = WorkerPool(self.workers, seeds, on_restart=lambda: stats.inc_value("djcrawl/worker_restarts"))
        self.pool.start()

    def close_spider(self):
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    def _hints(self, site: str | None):
        if site not in self.hints:
            found = load_sites([site], self.sites_dir) if site else []
            self.hints[site] = found[0].hints() if found else None
        return self.hints[site]

    async def process_item(self, page: Page) -> Processed:
        job = job_for(page, self._hints(page.site))
        if job is None:
            page.reason = "list-page"  # later parts of an article travel inside it
            return Processed(page)
        if self.workers_failed:  # pages already under way when the crawl was told to stop
            page.reason = f"extract-error-{WorkerStartError.__name__}"
            return Processed(page)
        try:
            made = await self.pool.make(job)
        except WorkerStartError as exc:  # no page can become a document: the crawl stops
            page.reason = f"extract-error-{type(exc).__name__}"
            self._stop_for_dead_workers(exc)
            return Processed(page)
        except Exception as exc:  # one bad page must not end the crawl; it is counted and logged
            logger.error("extraction failed for %s", page.url, exc_info=exc)
            page.reason = f"extract-error-{type(exc).__name__}"
            return Processed(page)
        if made.document is None:
            page.reason = made.reason
            if made.reason == "attachment-unreadable":
                logger.warning("%s: attachment %s unreadable", page.site, page.url)
            return Processed(page)
        if not is_relevant(made.entry.relevance if made.entry else None, self.threshold):
            page.reason = "irrelevant"
            return Processed(page)
        page.doc_id = made.document.doc_id
        return Processed(page, made.document, made.entry)

    def _stop_for_dead_workers(self, exc: WorkerStartError) -> None:
        if self.workers_failed:
            return
        self.workers_failed = True
        logger.error("%s; the crawl stops", exc)
        # scheduled, not awaited: closing waits for the items under way, this one included
        self._closing = deferred_from_coro(self.crawler.engine.close_spider_async(reason=WORKERS_FAILED))


#: Seconds a batch waits for readers to let the file go before it is kept for the next try
#: (the event loop waits meanwhile: no download is read, so this stays short).
BATCH_WAIT = 2.0


class StorePipeline:
    """Pages and documents written in batches on the crawl's store."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.batch_size = crawler.settings.getint("DJ_BATCH_SIZE", 50)
        if self.batch_size < 1:  # (NotConfigured would quietly store nothing)
            raise DjcrawlError("DJ_BATCH_SIZE must be at least 1")
        self.pages: list[Page] = []
        self.docs: list[Document] = []
        self.entries: dict[str, IndexEntry] = {}
        self.ext: StoreExtension | None = None
        self.waiting = False  # a reader held the file at the last try

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        self.ext = self.crawler.get_extension(StoreExtension)

    def process_item(self, item: Processed) -> Processed:
        page = item.page
        outcomes.count(self.crawler.stats, page.site, "document" if item.document else page.reason or "unprocessed")
        if item.document is not None:
            self.docs.append(item.document)
            if item.entry is not None:
                self.entries[item.document.doc_id] = item.entry
        self.pages.append(page)
        for part in page.parts:
            # kept so that `djcrawl reprocess` can join the article again without the network;
            # like every page, a part names a document only if there is one
            part.doc_id = page.doc_id
            self.pages.append(part)
        if len(self.pages) >= self.batch_size or len(self.docs) >= self.batch_size:
            # once a reader kept the file, the next tries only look (no wait): an item
            # arriving must not hold the event loop up again and again
            self.flush(wait=0.0 if self.waiting else BATCH_WAIT)
        return item

    def flush(self, wait: float | None = None) -> None:
        """Write the batch in ONE transaction: a killed crawl leaves no page naming a missing
        document and no document without its page (the re-run then fetches what is missing).
        While a reader holds the file longer than ``wait`` seconds, the batch is kept and
        tried again with the next item (the last one waits ``DJ_LOCK_WAIT``)."""
        if not self.pages and not self.docs:
            return
        try:
            with self.ext.session(wait=wait) as store, store.transaction():
                store.put_pages(self.pages)
                result = add_documents(store, self.docs, self.entries)
        except StoreLocked as exc:
            if wait is None:
                raise
            if not self.waiting:
                logger.warning("%s; %d pages kept for the next batch", exc, len(self.pages))
            self.waiting = True
            return
        self.waiting = False
        self.pages, self.docs, self.entries = [], [], {}
        stats = self.crawler.stats
        stats.inc_value(outcomes.total_key("documents_new"), result.new)
        stats.inc_value(outcomes.total_key("documents_updated"), result.updated)
        stats.inc_value(outcomes.total_key("documents_unchanged"), result.unchanged)

    def close_spider(self):
        self.flush()
