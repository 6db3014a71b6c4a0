"""The crawl's database and its run row, as Scrapy extensions.

:class:`StoreExtension` owns the DuckDB file for the whole crawl: it takes the file's
writer lock and opens the file once when the crawler is built (so a locked or corrupt file
stops the crawl before any request, with the store's one-line error), and lets the lock go
when the engine has stopped, after every pipeline has written its last batch. In between
it holds the file open only inside :meth:`~StoreExtension.session` (a batch commit, a run
row, a look-up of a stored page), so readers (``djcrawl query``, pandas, the DuckDB CLI)
get in between two batches; the writer lock keeps any other writer out meanwhile. Other
components find it with ``crawler.get_extension(StoreExtension)``; it also answers what the
spider and the conditional-request middleware need to know of earlier runs.

:class:`RunRecorder` writes the run's ``crawl_runs`` row: ``running`` when the spider
opens (with ``mirror``, the ``DJ_MIRROR_URL`` it went through); when it closes, its totals,
per-site, per-reason counts and a status that says how it went: ``finished`` (every site
gave articles), ``partial`` (some sites failed, gave nothing, or lost a list page),
``failed`` (nothing reached) or ``interrupted``. It also keeps the articles whose fetch
failed (``fetch_failures``), for the next runs to ask for again.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from scrapy import signals

from pipelines.page import Page
from pipelines.store import Store, StoreError
from pipelines.store.writer import WriterLock

from . import outcomes

__all__ = ["StoreExtension", "RunRecorder", "new_run_id"]

logger = logging.getLogger(__name__)


def new_run_id() -> str:
    """Sortable by start time, unique across machines: ``20261201T183121-fbbca3``."""
    return time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


class StoreExtension:
    """The crawl's :class:`~pipelines.store.Store` (``DJ_DUCKDB_PATH``), opened for each :meth:`session`."""

    #: list page URL -> (ETag, Last-Modified) of earlier runs, read at the first list request
    _validators: dict[str, tuple[str | None, str | None]] | None = None
    #: While the engine runs, the file stays open between sessions: every opening replays the
    #: WAL (0.5-1 s once the crawl has stored a few thousand pages, when a batch of 50 takes
    #: 2-3 s to fetch). It is let go once no session came for IDLE_SECONDS, or HOLD_SECONDS
    #: after it was opened, so a reader waits that long at most before it gets in.
    HOLD_SECONDS = 10.0
    IDLE_SECONDS = 2.0
    _keep = False  # between engine_started and engine_stopped
    _depth = 0  # sessions open one inside another
    _opened_at = _used_at = 0.0
    _timer = None  # the LoopingCall of _let_go_if_due, while the engine runs

    def __init__(self, path: str, wait: float = 0.0):
        self.path = Path(path)
        self.wait = wait  # seconds a session waits for readers to let the file go
        self.lock: WriterLock | None = WriterLock(self.path)
        self._open: Store | None = None
        self._wal = False  # a session left its commits in the WAL
        try:
            with self.session():  # migrates an older file, refuses a newer or corrupt one
                pass
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler.settings.get("DJ_DUCKDB_PATH"), crawler.settings.getfloat("DJ_LOCK_WAIT", 30.0))
        # closed after spider_closed, so the run recorder can still finish the run row
        crawler.signals.connect(ext.close, signal=signals.engine_stopped)
        crawler.signals.connect(ext._engine_started, signal=signals.engine_started)
        return ext

    def _engine_started(self) -> None:
        from twisted.internet import task  # the reactor Scrapy installed

        self._keep = True
        self._timer = task.LoopingCall(self._let_go_if_due)
        self._timer.start(0.5, now=False)

    def _let_go_if_due(self) -> None:
        if self._open is None or self._depth:
            return
        now = time.monotonic()
        if now - self._used_at >= self.IDLE_SECONDS or now - self._opened_at >= self.HOLD_SECONDS:
            store, self._open = self._open, None
            store.close()  # the file let go: readers get in

    @contextlib.contextmanager
    def session(self, wait: float | None = None) -> Iterator[Store]:
        """The file open for the block (inside a session already open: that one); ``wait``
        seconds at most for readers to let it go (default: ``DJ_LOCK_WAIT``), else
        :class:`~pipelines.store.StoreLocked`."""
        opened = self._open is None
        if opened:
            if self.lock is None:
                raise RuntimeError("the crawl's store is closed")
            self._open = self._store(self.wait if wait is None else wait)
            self._opened_at = time.monotonic()
        self._depth += 1
        try:
            yield self._open
        finally:
            self._depth -= 1
            self._used_at = time.monotonic()
            if opened and not self._keep and self._open is not None:
                store, self._open = self._open, None
                store.close()  # the file let go: readers get in

    @property
    def store(self) -> Store | None:
        """The file held open until :meth:`close` (a caller outside the crawl, e.g. a test, that
        wants one store for many calls); None once closed. The crawl itself uses sessions."""
        if self.lock is None:
            return None
        if self._open is None:
            self._open = self._store(self.wait)
        return self._open

    def _store(self, wait: float) -> Store:
        # A batch's commit stays in the WAL (DuckDB checkpoints it into the file once the
        # WAL passes its threshold, as with a connection held open); a checkpoint at every
        # close made the batches cost 1.31x as much (benchmarks/README.md, "Readers during a crawl").
        store = Store(self.path, writer=self.lock, wait=wait, checkpoint_on_close=False)
        self._wal = True
        return store

    def close(self) -> None:
        self._keep = False
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        if self._open is not None:
            self._open.close()
            self._open = None
        if self.lock is not None:
            try:
                if self._wal:
                    # the crawl's last act: the file left whole, without its WAL
                    with Store(self.path, writer=self.lock, wait=self.wait) as store:
                        store.con.execute("CHECKPOINT")
            except StoreError as exc:  # readers held it all along: the WAL stays, the data is safe
                logger.warning("%s; its WAL is checkpointed by the next writer", exc)
            finally:
                self.lock.release()
                self.lock = None

    # what earlier runs left, for the spider and the middlewares

    def known_article_urls(self) -> set[str]:
        with self.session() as store:
            return store.known_article_urls()

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """ETag and Last-Modified of a list page as earlier runs stored it. Read for all list
        pages at the first call, not per request: each session opens the file, which replays
        its WAL (up to ~40 MB: 0.5-1 s on a 100,000-page crawl), and a run asks for each list
        page once, so what this run stores is not needed again in it."""
        if self._validators is None:
            with self.session() as store:
                self._validators = store.list_validators()
        return self._validators.get(url, (None, None))

    def get_page(self, url: str) -> Page | None:
        with self.session() as store:
            return store.get_page(url)

    def must_walk_whole_lists(self, site: str, run_id: str | None) -> bool:
        """Whether the site's last run left its lists unwalked: killed, interrupted, cut by
        --max-pages, or a list page failed. Then older list pages can hold articles never
        fetched, and a list must not stop at its first all-known page."""
        with self.session() as store:
            status, reasons = store.last_run_of_site(site, exclude_run=run_id)
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

    def session(self):
        return self.crawler.get_extension(StoreExtension).session()

    def spider_opened(self, spider) -> None:
        with self.session() as store:
            store.interrupt_stale_runs()  # runs left 'running' by a killed crawl
            # a run through the mirror is marked: it never shows that a real site works
            store.start_run(self.run_id, sorted(spider.configs),
                            mirror=self.crawler.settings.get("DJ_MIRROR_URL") or None)

    def articles_to_ask_again(self) -> list[tuple[str, str, int]]:
        """``(url, site, failed runs)`` of the articles earlier runs failed to fetch, still under
        ``DJ_RETRY_FAILED``."""
        if self.retry_limit <= 1:
            return []
        with self.session() as store:
            return store.failed_fetches(self.retry_limit)

    def article_failed(self, url: str, site: str, reason: str) -> None:
        self.failed_articles.append((url, site, reason))

    def spider_closed(self, spider, reason) -> None:
        # item pipelines have closed (and written their last batch) before this signal
        stats = self.crawler.stats
        with self.session() as store:
            gave_up = store.record_fetch_failures(self.failed_articles, self.run_id, max(self.retry_limit, 1))
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
        with self.session() as store:
            store.finish_run(self.run_id, status, totals, counts)
