"""Redis key names of a crawl, and the connection from a ``redis://`` URL.

Every key of a crawl starts with ``djcrawl:``; there is one crawl at a time per Redis database.
"""

from __future__ import annotations

import os
import socket

from pipelines.errors import DjcrawlError

__all__ = ["PREFIX", "REQUESTS", "DUPEFILTER", "RUN", "SEEDED", "RESULTS", "GROUP", "STATE", "inflight_key",
           "alive_key", "crawl_keys", "connect", "node_settings", "node_id"]

PREFIX = "djcrawl:"
#: scrapy-redis's priority queue (a sorted set of requests, as JSON: crawler/frontier/codec.py) and duplicate filter (a set of fingerprints)
REQUESTS = PREFIX + "requests"
DUPEFILTER = PREFIX + "dupefilter"
#: the run id of the crawl under way; set by the loader once the state below is published
RUN = PREFIX + "run"
#: SET NX by the first node to start: only that node yields the start URLs
SEEDED = PREFIX + "seeded"
#: the stream of results (pages, documents, index entries, run messages) and its consumer group
RESULTS = PREFIX + "results"
GROUP = "loader"
#: what earlier runs left, published by the loader (hashes, sets and lists under this prefix)
STATE = PREFIX + "state:"


def inflight_key(node: str) -> str:
    """Hash of the requests ``node`` has taken from the queue and not yet finished (sha1 -> request)."""
    return f"{PREFIX}inflight:{node}"


def alive_key(node: str) -> str:
    """Set with a short expiry by the node's heartbeat: gone = the node is dead."""
    return f"{PREFIX}alive:{node}"


def crawl_keys(redis) -> list[str]:
    """Every key of the crawl but the stream (the loader deletes that one itself, once acknowledged)."""
    keys = [REQUESTS, DUPEFILTER, RUN, SEEDED]
    keys += [k.decode() if isinstance(k, bytes) else k for k in redis.scan_iter(match=STATE + "*")]
    return keys


def connect(url: str):
    """A client of ``url`` (``redis://HOST:PORT/DB``) that answered PING, or one clear error."""
    import redis

    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise DjcrawlError(f"--frontier {url!r} is not a redis:// URL (redis://HOST:PORT/DB)")
    try:
        # asked once without retries: a wrong address is said at once, not after a minute
        with redis.Redis.from_url(url, socket_connect_timeout=5, retry=None) as first:
            first.ping()
        client = redis.Redis.from_url(url, **redis_params())
    except (redis.RedisError, ValueError) as exc:
        raise DjcrawlError(f"frontier {url} not reachable: {exc}") from None
    return client


def redis_params() -> dict:
    """Client options of every connection to the frontier: a Redis restart (its data persisted)
    is waited for, up to about a minute, instead of ending the node or the loader."""
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError, TimeoutError
    from redis.retry import Retry

    return {"socket_connect_timeout": 10, "socket_timeout": 30,
            "retry": Retry(ExponentialBackoff(cap=2.0, base=0.1), 40),
            "retry_on_error": [ConnectionError, TimeoutError, ConnectionRefusedError]}


def node_id() -> str:
    """``host-pid``: unique among the nodes of a crawl."""
    return f"{socket.gethostname()}-{os.getpid()}"


def node_settings(url: str, *, idle_exit: float = 0, node: str | None = None) -> dict:
    """The Scrapy settings that make a crawl a node of the frontier at ``url``: scrapy-redis's
    scheduler (subclassed) and duplicate filter, the published state in place of the database,
    the stream in place of StorePipeline."""
    return {
        "DJ_FRONTIER_URL": url,
        "DJ_IDLE_EXIT": idle_exit,
        "DJ_FRONTIER_NODE": node or node_id(),
        "REDIS_URL": url,
        "REDIS_PARAMS": redis_params(),
        "SCHEDULER": "crawler.frontier.scheduler.FrontierScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_KEY": REQUESTS,
        # queued requests as JSON too (scrapy-redis pickles them by default): nothing read from
        # Redis is ever run as code
        "SCHEDULER_SERIALIZER": "crawler.frontier.codec",
        "SCHEDULER_DUPEFILTER_KEY": DUPEFILTER,
        # the queue outlives every node: a node that ends must not flush what the others still crawl
        "SCHEDULER_PERSIST": True,
        "SPIDER_MIDDLEWARES": {"crawler.frontier.node.SeedOnce": 10},
        "EXTENSIONS": {
            "crawler.extensions.StoreExtension": None,
            "crawler.frontier.state.PublishedStoreExtension": 100,
            "crawler.extensions.RunRecorder": 110,
            "crawler.frontier.node.FrontierNode": 120,
        },
        "ITEM_PIPELINES": {
            "crawler.pipelines.DocumentPipeline": 300,
            "crawler.pipelines.StorePipeline": None,
            "crawler.frontier.stream.StreamPipeline": 800,
        },
    }
