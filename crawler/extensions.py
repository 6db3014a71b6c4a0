"""The crawl's database and its run row, as Scrapy extensions.

:class:`StoreExtension` owns the DuckDB file for the whole crawl: it opens it when the
crawler is built (so a locked or corrupt file stops the crawl before any request, with
the store's one-line error) and closes it when the engine has stopped, after every
pipeline has written its last batch. Other components find it with
``crawler.get_extension(StoreExtension)``; it also answers what the spider and the
conditional-request middleware need to know of earlier runs.

:class:`RunRecorder` writes the run's ``crawl_runs`` row: ``running`` when the spider
opens (with ``mirror``, the ``DJ_MIRROR_URL`` it went through); when it closes, its totals,
per-site, per-reason counts and a status that says how it went: ``finished`` (every site
gave articles), ``partial`` (some sites failed, gave nothing, or lost a list page),
``failed`` (nothing reached) or ``interrupted``. It also keeps the articles whose fetch
failed (``fetch_failures``), for the next runs to ask for again.
"""

from __future__ import annotations

import time
import uuid

from scrapy import signals

from pipelines.page import Page
from pipelines.store import Store

from . import outcomes

__all__ = ["StoreExtension", "RunRecorder", "new_run_id"]


def new_run_id() -> str:
    """Sortable by start time, unique across machines: ``20261201T183121-fbbca3``."""
    return time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


class StoreExtension:
    """The open :class:`~pipelines.store.Store` of the crawl (``DJ_DUCKDB_PATH``)."""

    def __init__(self, path: str):
        self.store: Store | None = Store(path)

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler.settings.get("DJ_DUCKDB_PATH"))
        # closed after spider_closed, so the run recorder can still finish the run row
        crawler.signals.connect(ext.close, signal=signals.engine_stopped)
        return ext

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    # what earlier runs left, for the spider and the middlewares

    def known_article_urls(self) -> set[str]:
        return self.store.known_article_urls()

    def validators(self, url: str) -> tuple[str | None, str | None]:
        return self.store.page_validators(url)

    def get_page(self, url: str) -> Page | None:
        return self.store.get_page(url)

    def must_walk_whole_lists(self, site: str, run_id: str | None) -> bool:
        """Whether the site's last run left its lists unwalked: killed, interrupted, cut by
        --max-pages, or a list page failed. Then older list pages can hold articles never
        fetched, and a list must not stop at its first all-known page."""
        status, reasons = self.store.last_run_of_site(site, exclude_run=run_id)
        # a 'partial' run walked this site's lists to the end unless it says otherwise below
        return status is not None and (status not in ("finished", "partial")
                                       or bool(reasons & {"max-pages-reached", "list-failed"}))


class RunRecorder:
    """One ``crawl_runs`` row per crawl, with its ``crawl_run_counts``."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.run_id = crawler.settings.get("DJ_RUN_ID") or new_run_id()
        self.retry_limit = crawler.settings.getint("DJ_RETRY_FAILED")
        #: (url, site, reason) of the articles whose fetch failed in this run
        self.failed_articles: list[tuple[str, str, str]] = []
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @property
    def store(self) -> Store:
        return self.crawler.get_extension(StoreExtension).store

    def spider_opened(self, spider) -> None:
        self.store.interrupt_stale_runs()  # runs left 'running' by a killed crawl
        # a run through the mirror is marked: it never shows that a real site works
        self.store.start_run(self.run_id, sorted(spider.configs),
                             mirror=self.crawler.settings.get("DJ_MIRROR_URL") or None)

    def articles_to_ask_again(self) -> list[tuple[str, str, int]]:
        """``(url, site, failed runs)`` of the articles earlier runs failed to fetch, still under
        ``DJ_RETRY_FAILED``."""
        return self.store.failed_fetches(self.retry_limit) if self.retry_limit > 1 else []

    def article_failed(self, url: str, site: str, reason: str) -> None:
        self.failed_articles.append((url, site, reason))

    def spider_closed(self, spider, reason) -> None:
        # item pipelines have closed (and written their last batch) before this signal
        stats = self.crawler.stats
        gave_up = self.store.record_fetch_failures(self.failed_articles, self.run_id, max(self.retry_limit, 1))
        for _url, site in gave_up:
            outcomes.count(stats, site, "gave-up")
        totals = {name: stats.get_value(outcomes.total_key(name), 0) for name in outcomes.TOTALS}
        counts = {}
        for key, value in stats.get_stats().items():
            parsed = outcomes.parse_count_key(key)
            if parsed:
                counts[parsed] = value
        if reason == "finished":
            everything = stats.get_stats()
            status = outcomes.run_status(outcomes.site_state(everything, site) for site in sorted(spider.configs))
        else:
            status = "interrupted"
        self.store.finish_run(self.run_id, status, totals, counts)
