"""A crawl node's life on the frontier: its heartbeat, its finished requests, its idle exit.

The heartbeat (a key that expires :data:`ALIVE_MS` after its last renewal) tells the other
nodes this one lives; once it is gone they take back its in-flight requests. A request is
finished when Scrapy's scraper has handled its response to the end: its callback's requests
queued and its items through every pipeline (the result in the stream). Without
``DJ_IDLE_EXIT`` a node waits for work as scrapy-redis nodes do; with it, it ends once the
frontier (the queue, and every node's in-flight requests) has been empty that many seconds.
"""

from __future__ import annotations

import functools
import logging
import time

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from twisted.internet import task

from .keys import SEEDED, alive_key
from .scheduler import FrontierScheduler

__all__ = ["FrontierNode", "SeedOnce", "ALIVE_MS"]

#: a node whose heartbeat was not renewed for this long is taken as dead
ALIVE_MS = 5000
#: how often the heartbeat is renewed, and the queue looked at while idle
BEAT_SECONDS = 1.0

logger = logging.getLogger(__name__)


class FrontierNode:
    def __init__(self, crawler):
        self.crawler = crawler
        self.node = crawler.settings.get("DJ_FRONTIER_NODE")
        self.idle_exit = crawler.settings.getfloat("DJ_IDLE_EXIT")
        self.idle_since: float | None = None
        self.beat = task.LoopingCall(self._beat)
        crawler.signals.connect(self.engine_started, signal=signals.engine_started)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("DJ_FRONTIER_URL"):
            raise NotConfigured("no DJ_FRONTIER_URL: a one-process crawl")
        return cls(crawler)

    @property
    def scheduler(self) -> FrontierScheduler:
        return self.crawler.engine._slot.scheduler

    def _beat(self) -> None:
        self.server.set(alive_key(self.node), b"1", px=ALIVE_MS)

    def engine_started(self) -> None:
        self.server = self.scheduler.server
        self._beat()
        self.beat.start(BEAT_SECONDS, now=False)
        scraper = self.crawler.engine.scraper
        handle = scraper._scrape

        # Scraper._scrape (Scrapy 2.19, pinned) returns once the callback's output is handled,
        # every item awaited through the pipelines: the one point where a request is done.
        @functools.wraps(handle)
        async def scrape_then_finish(result, request):
            try:
                await handle(result, request)
            finally:
                self.scheduler.finished(request)

        scraper._scrape = scrape_then_finish

    def spider_idle(self) -> None:
        scheduler = self.scheduler
        if scheduler.reclaim_dead():
            logger.warning("took back the requests of a dead node")
        if not scheduler.frontier_empty():
            self.idle_since = None
            # the engine looks at the scheduler again on its next call, not only every 5 s
            self.crawler.engine._slot.nextcall.schedule(BEAT_SECONDS)
            raise DontCloseSpider
        now = time.monotonic()
        self.idle_since = self.idle_since or now
        if self.idle_exit and now - self.idle_since >= self.idle_exit:
            return  # the spider closes: 'finished'
        self.crawler.engine._slot.nextcall.schedule(BEAT_SECONDS)
        raise DontCloseSpider

    def engine_stopped(self) -> None:
        if self.beat.running:
            self.beat.stop()
        if getattr(self, "server", None) is not None:
            self.server.delete(alive_key(self.node))


class SeedOnce:
    """Spider middleware: of all the nodes of a crawl, only the first to start yields the start
    requests (SET NX of :data:`~crawler.frontier.keys.SEEDED`); the others run the spider's
    ``start()`` for what it learns (known articles, lists to walk whole) and drop its requests."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("DJ_FRONTIER_URL"):
            raise NotConfigured("no DJ_FRONTIER_URL: a one-process crawl")
        return cls(crawler)

    async def process_start(self, start):
        scheduler = self.crawler.engine._slot.scheduler
        seeder = scheduler.server.set(SEEDED, self.crawler.settings.get("DJ_FRONTIER_NODE"), nx=True)
        async for request in start:
            if seeder:
                yield request
        if not seeder:
            logger.info("start URLs already seeded by another node")
