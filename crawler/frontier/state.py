"""What earlier runs left, for every node: published into Redis by the loader, read by the nodes.

DuckDB has one writer and a file held for writing cannot be opened by another process, not
even to read; the nodes may also run on other machines. So the loader, which holds the file,
publishes once, before any node starts, what the spider and its middlewares ask a database
(:func:`publish`): known article URLs, the list pages with their validators (a 304 is read
from the stored copy), the articles to ask for again, each site's last run, the seed texts
(the reference set of relevance). A node reads them through :class:`PublishedStore`, shaped
as the part of :class:`~pipelines.store.Store` the spider, the middlewares, the document
pipeline and the run recorder call; what those write goes to the result stream instead.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

from crawler.extensions import StoreExtension
from pipelines.errors import DjcrawlError

from . import codec, stream
from .keys import STATE, connect

__all__ = ["publish", "PublishedStore", "PublishedStoreExtension", "refuse_mixing"]

KNOWN, PAGES, VALIDATORS, FAILED, LAST_RUNS, SEEDS, ORIGINS = (STATE + n for n in (
    "known", "pages", "validators", "failed", "last_runs", "seeds", "origins"))


def publish(store, redis, run_id: str, retry_limit: int) -> None:
    """Write what ``store`` holds of earlier runs into ``redis`` (replacing an earlier publication)."""
    pipe = redis.pipeline(transaction=True)
    pipe.delete(KNOWN, PAGES, VALIDATORS, FAILED, LAST_RUNS, SEEDS, ORIGINS)
    # crawls of the real sites and runs through a mirror: a node refuses the kind the file does not hold
    pipe.set(ORIGINS, json.dumps(list(store.run_origins())))
    known = sorted(store.known_article_urls())
    for i in range(0, len(known), 1000):
        pipe.sadd(KNOWN, *known[i:i + 1000])
    for page in store.iter_pages(kind="list"):
        if page.etag or page.last_modified:
            pipe.hset(VALIDATORS, page.url, json.dumps([page.etag, page.last_modified]))
            pipe.hset(PAGES, page.url, codec.dumps(page))
    failed = store.failed_fetches(retry_limit) if retry_limit > 1 else []
    pipe.set(FAILED, json.dumps(failed))
    for site in store.crawled_sites():
        status, reasons = store.last_run_of_site(site, exclude_run=run_id)
        pipe.hset(LAST_RUNS, site, json.dumps([status, sorted(reasons)]))
    pipe.set(SEEDS, codec.dumps(store.seed_texts()))
    pipe.execute()


def refuse_mixing(redis, *, mirrored: bool) -> None:
    """The loader's file holds crawls of the real sites or runs through a mirror, never both
    (crawler/cli/crawl.py): a node of the other kind stops before it fetches anything."""
    real, mirror_runs = PublishedStore(redis, "").run_origins()
    if mirrored and real:
        raise DjcrawlError(f"the loader's database holds {real} crawls of the real sites; a mirror run would store "
                           "its pages under their URLs: load it into another --db")
    if not mirrored and mirror_runs:
        raise DjcrawlError(f"the loader's database holds {mirror_runs} runs through the offline mirror; a real crawl "
                           "would take their pages as known: load it into another --db")


class PublishedStore:
    """The Store as a node sees it: reads from the publication, writes into the stream."""

    def __init__(self, redis, node: str):
        self.redis = redis
        self.node = node

    # -- read: what the loader published

    def known_article_urls(self) -> set[str]:
        return {u.decode() for u in self.redis.smembers(KNOWN)}

    def list_validators(self) -> dict[str, tuple[str | None, str | None]]:
        return {url.decode(): tuple(json.loads(raw)) for url, raw in self.redis.hgetall(VALIDATORS).items()}

    def get_page(self, url: str):
        raw = self.redis.hget(PAGES, url)
        return codec.loads(raw) if raw else None

    def failed_fetches(self, limit: int) -> list[tuple[str, str, int]]:
        # the loader's DJ_RETRY_FAILED chose them; the limit asked here is the same setting
        return [tuple(r) for r in json.loads(self.redis.get(FAILED) or b"[]")]

    def last_run_of_site(self, site: str, exclude_run: str | None = None) -> tuple[str | None, set[str]]:
        raw = self.redis.hget(LAST_RUNS, site)
        if not raw:
            return None, set()
        status, reasons = json.loads(raw)
        return status, set(reasons)

    def run_origins(self) -> tuple[int, int]:
        return tuple(json.loads(self.redis.get(ORIGINS) or b"[0, 0]"))

    def seed_texts(self) -> list[tuple[str, list[str], str]]:
        raw = self.redis.get(SEEDS)
        return codec.loads(raw) if raw else []

    # -- write: messages to the loader

    def interrupt_stale_runs(self) -> int:
        return 0  # the loader's, when it opens the file

    def start_run(self, run_id: str, sites, mirror: str | None = None) -> None:
        stream.send(self.redis, "start", {"run_id": run_id, "sites": list(sites), "mirror": mirror,
                                          "node": self.node})

    def record_fetch_failures(self, failures, run_id, limit) -> list:
        if failures:
            stream.send(self.redis, "failures", {"run_id": run_id, "failures": list(failures), "limit": limit})
        return []  # which gave up is known once the loader counted them: it counts them there

    def finish_run(self, run_id: str, status: str, totals: dict, counts: dict) -> None:
        stream.send(self.redis, "finish", {"run_id": run_id, "node": self.node, "status": status,
                                           "stats": stream.int_stats(self.stats)})

    stats = None  # the node's Scrapy stats, set by the extension

    def close(self) -> None:
        self.redis.close()


class PublishedStoreExtension(StoreExtension):
    """StoreExtension of a node: its sessions are the publication; no DuckDB file is opened."""

    def __init__(self, url: str, node: str):
        self._published = PublishedStore(connect(url), node)

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler.settings.get("DJ_FRONTIER_URL"), crawler.settings.get("DJ_FRONTIER_NODE"))
        ext._published.stats = crawler.stats
        return ext

    @contextlib.contextmanager
    def session(self, wait: float | None = None) -> Iterator[PublishedStore]:
        yield self._published

    @property
    def store(self) -> PublishedStore:
        return self._published

    def close(self) -> None:
        pass  # the connection lives as long as the process (the node's last messages use it)
