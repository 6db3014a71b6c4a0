"""Thin Scrapy pipelines around the pure chain.

``DocumentPipeline`` turns an article page into a Document (or the reason it is
not one) with :func:`pipelines.process.document_from_html`, an attachment (PDF,
DOC, DOCX) with :func:`pipelines.attachments.document_from_attachment`; ``StorePipeline``
keeps every fetched page in ``pages``, the documents through
:func:`pipelines.corpus.add_documents`, and one ``crawl_runs`` row per run. Both
take the open :class:`~pipelines.store.Store` and the run id from the spider.
"""

from __future__ import annotations

import logging

from scrapy import signals

from .attachments import AttachmentError, document_from_attachment
from .corpus import add_documents
from .decode import decode_bytes
from .document import Document, doc_id_for_url
from .multipage import join_pages
from .normalize import get_normalizer
from .process import NotArticle, document_from_html
from .store import PageRecord

__all__ = ["DocumentPipeline", "StorePipeline", "COUNT_PREFIX"]

logger = logging.getLogger(__name__)

#: stats keys ``djcrawl/count/<site>/<reason>`` become rows of crawl_run_counts
COUNT_PREFIX = "djcrawl/count/"


def _count(stats, site: str, reason: str, n: int = 1) -> None:
    stats.inc_value(f"{COUNT_PREFIX}{site}/{reason}", n)


class DocumentPipeline:
    """Article page (all its parts) -> ``item.outcome``: a Document or a NotArticle."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        # Load the dictionaries now, before the first download: loading them inside the
        # first process_item blocks the event loop for a second or two, long enough for a
        # healthy download on a busy machine to time out.
        get_normalizer()

    def process_item(self, item):
        spider = self.crawler.spider
        if item.kind == "attachment":
            return self._attachment(item)
        if item.kind != "article":
            item.outcome = NotArticle("list-page")
            return item
        cfg = spider.configs.get(item.site)
        hints = cfg.hints() if cfg else None
        ctype = (lambda body, ct: cfg.content_type_for(body, ct)) if cfg else (lambda body, ct: ct)
        try:
            if item.parts:
                html = join_pages(
                    [(item.body, ctype(item.body, item.content_type)),
                     *((p.body, ctype(p.body, p.content_type)) for p in item.parts)],
                    cfg.article.body_selectors if cfg else (),
                )
            else:
                html = item.body
            item.outcome = document_from_html(
                html, url=item.url, hints=hints, origin="crawl", content_type=ctype(item.body, item.content_type),
                doc_id=doc_id_for_url(item.url), fetched_at=item.fetched_at, run_id=spider.run_id,
            )
        except Exception as exc:  # one bad page must not end the crawl; it is counted and logged
            logger.exception("extraction failed for %s", item.url)
            item.outcome = NotArticle(f"extract-error-{type(exc).__name__}")
            self.crawler.stats.inc_value("djcrawl/errors")
        return item

    def _attachment(self, item):
        try:
            item.outcome = document_from_attachment(
                item.body, url=item.url, parent_url=item.parent_url, content_type=item.content_type,
                site=item.site, fetched_at=item.fetched_at, run_id=self.crawler.spider.run_id,
            )
        except AttachmentError as exc:  # broken, encrypted or not a PDF/DOC/DOCX at all: kept, counted
            logger.warning("%s: attachment %s unreadable: %s", item.site, item.url, exc)
            item.outcome = NotArticle("attachment-unreadable")
        except Exception as exc:  # one bad file must not end the crawl
            logger.exception("attachment extraction failed for %s", item.url)
            item.outcome = NotArticle(f"extract-error-{type(exc).__name__}")
            self.crawler.stats.inc_value("djcrawl/errors")
        return item


class StorePipeline:
    """Pages, documents and the run row, written in batches on the spider's Store."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.batch_size = crawler.settings.getint("DJ_BATCH_SIZE", 50)
        self.pages: list[PageRecord] = []
        self.docs: list[Document] = []
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
            _count(stats, item.site, "document")
            reason = None
        else:
            reason = outcome.reason if isinstance(outcome, NotArticle) else "unprocessed"
            _count(stats, item.site, reason)
        page_kind = item.kind
        self.pages.append(PageRecord(
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
            self.pages.append(PageRecord(
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
            result = add_documents(self.store, self.docs)
        self.pages, self.docs = [], []
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
