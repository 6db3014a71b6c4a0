"""Thin Scrapy pipelines around the pure chain.

``DocumentPipeline`` turns an article page (all its parts) or an attachment (PDF, DOC,
DOCX) into a Document, or the reason it is not one, with
:func:`pipelines.parallel.make_made`, in ``DJ_WORKERS`` worker processes: the chain
costs ~40 ms of CPU a page, which in the crawl process would hold up the event loop
(downloads, list parsing, storing) and leave the second core idle. ``StorePipeline``
keeps every fetched page in ``pages``, the documents through
:func:`pipelines.corpus.add_documents`, and one ``crawl_runs`` row per run. Both take
the open :class:`~pipelines.store.Store` and the run id from the spider.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures.process import BrokenProcessPool

from scrapy import signals

from .corpus import add_documents, relevance_seeds
from .decode import decode_bytes
from .document import Document, doc_id_for_url
from .normalize import get_normalizer
from .page import Page
from .parallel import AttachmentJob, PageJob, make_made, model_of, worker_pool
from .process import NotArticle, SiteHints

__all__ = ["DocumentPipeline", "StorePipeline", "COUNT_PREFIX"]

logger = logging.getLogger(__name__)

#: stats keys ``djcrawl/count/<site>/<reason>`` become rows of crawl_run_counts
COUNT_PREFIX = "djcrawl/count/"


def _count(stats, site: str, reason: str, n: int = 1) -> None:
    stats.inc_value(f"{COUNT_PREFIX}{site}/{reason}", n)


class DocumentPipeline:
    """Article page or attachment -> ``item.outcome`` (a Document or a NotArticle) and
    ``item.index_entry`` (what the store indexes; computed beside the document)."""

    def __init__(self, crawler):
        self.crawler = crawler
        #: 0 = make documents in the crawl process itself
        self.workers = max(0, crawler.settings.getint("DJ_WORKERS", 0))
        self.pool = None
        self.seeds = None
        self.model = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        # The workers load the dictionaries now, before the first download, in parallel with
        # the first requests; in-process, loading them inside the first process_item would
        # block the event loop for a second or two, long enough for a healthy download on a
        # busy machine to time out.
        self.seeds = relevance_seeds(self.crawler.spider.store)
        if self.workers:
            self.pool = worker_pool(self.workers, self.seeds)
            for _ in range(self.workers):
                self.pool.submit(int)  # starts the workers (a pool spawns them on first use)
        else:
            get_normalizer()
            self.model = model_of(self.seeds)

    def close_spider(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    async def process_item(self, item):
        job = self._job(item)
        if job is None:
            item.outcome = NotArticle("list-page")
            return item
        try:
            made = await self._make(job)
        except Exception as exc:  # one bad page must not end the crawl; it is counted and logged
            logger.error("extraction failed for %s", item.url, exc_info=exc)
            item.outcome = NotArticle(f"extract-error-{type(exc).__name__}")
            self.crawler.stats.inc_value("djcrawl/errors")
            return item
        item.outcome, item.index_entry = made.outcome, made.entry
        if made.outcome == NotArticle("attachment-unreadable"):
            logger.warning("%s: attachment %s unreadable", item.site, item.url)
        return item

    async def _make(self, job):
        if self.pool is None:
            return make_made(job, self.model)
        for attempt in (1, 2):
            pool = self.pool
            try:
                return await asyncio.wrap_future(pool.submit(make_made, job))
            except BrokenProcessPool:
                # A worker died (killed, out of memory, a crash in a C extension) and took the
                # pool and every page in it with it. The first page to notice starts a new
                # pool; each page is tried once more there, and one that breaks that pool
                # too is counted as an error.
                if self.pool is pool:
                    logger.warning("a document worker died; starting a new one")
                    pool.shutdown(wait=False, cancel_futures=True)
                    self.pool = worker_pool(self.workers, self.seeds)
                    self.crawler.stats.inc_value("djcrawl/worker_restarts")
                if attempt == 2:
                    raise

    def _job(self, item):
        spider = self.crawler.spider
        if item.kind == "attachment":
            return AttachmentJob(url=item.url, body=item.body, content_type=item.content_type,
                                 parent_url=item.parent_url, site=item.site, fetched_at=item.fetched_at,
                                 run_id=spider.run_id)
        if item.kind != "article":
            return None
        cfg = spider.configs.get(item.site)
        ctype = cfg.content_type_for if cfg else (lambda body, ct: ct)
        hints = cfg.hints() if cfg else SiteHints(site=item.site)
        return PageJob(url=item.url, body=item.body, content_type=ctype(item.body, item.content_type),
                       hints=hints, doc_id=doc_id_for_url(item.url), fetched_at=item.fetched_at,
                       run_id=spider.run_id,
                       parts=tuple((p.body, ctype(p.body, p.content_type)) for p in item.parts))


class StorePipeline:
    """Pages, documents and the run row, written in batches on the spider's Store."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.batch_size = crawler.settings.getint("DJ_BATCH_SIZE", 50)
        self.pages: list[Page] = []
        self.docs: list[Document] = []
        self.entries = {}  # doc_id -> IndexEntry made beside the document
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @property
    def store(self):
        return self.crawler.spider.store

    def open_spider(self):
        spider = self.crawler.spider
        self.store.interrupt_stale_runs()  # runs left 'running' by a killed crawl
        self.store.start_run(spider.run_id, sorted(spider.configs))

    def process_item(self, item):
        stats = self.crawler.stats
        spider = self.crawler.spider
        outcome = item.outcome
        doc_id = doc_id_for_url(item.url) if item.kind in ("article", "attachment") else None
        if isinstance(outcome, Document):
            self.docs.append(outcome)
            if getattr(item, "index_entry", None) is not None:
                self.entries[outcome.doc_id] = item.index_entry
            _count(stats, item.site, "document")
            reason = None
        else:
            reason = outcome.reason if isinstance(outcome, NotArticle) else "unprocessed"
            _count(stats, item.site, reason)
        page_kind = item.kind
        self.pages.append(Page(
            url=item.url, final_url=item.final_url, site=item.site, status=item.status, body=item.body,
            kind=page_kind, reason=reason, fetched_at=item.fetched_at, content_type=item.content_type,
            # a PDF or Word file has no text encoding to record
            encoding=decode_bytes(item.body, item.content_type)[1] if item.body and item.kind != "attachment" else None,
            etag=item.etag, last_modified=item.last_modified, run_id=spider.run_id,
            doc_id=doc_id if isinstance(outcome, Document) else None,
        ))
        for part in item.parts:
            # kept so that `djcrawl reprocess` can join the article again without the network;
            # like every page, a part names a document only if there is one
            self.pages.append(Page(
                url=part.url, final_url=part.final_url, site=item.site, status=part.status, body=part.body,
                kind="article-part", reason=None, fetched_at=item.fetched_at, content_type=part.content_type,
                encoding=decode_bytes(part.body, part.content_type)[1] if part.body else None,
                run_id=spider.run_id, doc_id=doc_id if isinstance(outcome, Document) else None,
            ))
        if len(self.pages) >= self.batch_size or len(self.docs) >= self.batch_size:
            self.flush()
        # the raw body is stored; nothing downstream needs it in memory any more
        return item

    def flush(self) -> None:
        """Write the batch in ONE transaction: a killed crawl leaves no page naming a missing
        document and no document without its page (the re-run then fetches what is missing)."""
        if not self.pages and not self.docs:
            return
        with self.store.transaction():
            self.store.put_pages(self.pages)
            result = add_documents(self.store, self.docs, self.entries)
        self.pages, self.docs, self.entries = [], [], {}
        stats = self.crawler.stats
        stats.inc_value("djcrawl/documents_new", result.new)
        stats.inc_value("djcrawl/documents_updated", result.updated)
        stats.inc_value("djcrawl/documents_unchanged", result.unchanged)

    def close_spider(self):
        self.flush()

    def spider_closed(self, spider, reason):
        stats = self.crawler.stats
        try:
            self.flush()  # no-op unless close_spider did not run
        finally:
            totals = {
                name: stats.get_value(f"djcrawl/{name}", 0)
                for name in ("pages_fetched", "article_pages_fetched", "documents_new", "documents_updated", "errors")
            }
            counts = {}
            for key, value in stats.get_stats().items():
                if key.startswith(COUNT_PREFIX):
                    site, _, why = key[len(COUNT_PREFIX):].partition("/")
                    counts[(site, why)] = value
            status = "finished" if reason == "finished" else "interrupted"
            self.store.finish_run(spider.run_id, status, totals, counts)
