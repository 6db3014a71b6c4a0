"""The result stream: what a node would have written, one entry a message, in arrival order.

An entry is ``{kind, data}``: ``kind`` one of :data:`KINDS`, ``data`` the payload as JSON
(:mod:`.codec`: the project's records and plain values, never code).

- ``start``: a node opened the run (run id, sites, mirror);
- ``result``: one handled page: the pages to keep (the page and its later parts), the
  document and its index entry if it made one;
- ``failures``: ``(url, site, reason)`` of the articles whose fetch failed in the node's run;
- ``finish``: a node ended: its status and counts (the loader sums them into the run row).
"""

from __future__ import annotations

from crawler import outcomes
from crawler.items import Processed

from . import codec
from .keys import RESULTS

__all__ = ["KINDS", "send", "decode", "int_stats", "StreamPipeline"]

KINDS = ("start", "result", "failures", "finish")


def send(redis, kind: str, payload) -> bytes:
    assert kind in KINDS
    return redis.xadd(RESULTS, {b"kind": kind.encode(), b"data": codec.dumps(payload)})


def decode(fields: dict) -> tuple[str, object]:
    return fields[b"kind"].decode(), codec.loads(fields[b"data"])


def int_stats(stats) -> dict[str, int]:
    """The counters of a node's stats (its times and dates stay with it)."""
    if stats is None:
        return {}
    return {k: v for k, v in stats.get_stats().items() if isinstance(v, int) and not isinstance(v, bool)}


class StreamPipeline:
    """In place of StorePipeline on a node: each handled page goes to the stream at once.

    No batch on the node: an entry is in Redis (persisted there) when ``process_item`` returns,
    which is when the node's scheduler lets go of the request (crawler/frontier/node.py)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.redis = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        from crawler.extensions import StoreExtension

        self.redis = self.crawler.get_extension(StoreExtension).store.redis  # the node's PublishedStore

    def process_item(self, item: Processed) -> Processed:
        page = item.page
        outcomes.count(self.crawler.stats, page.site, "document" if item.document else page.reason or "unprocessed")
        pages = [page]
        for part in page.parts:
            part.doc_id = page.doc_id  # as StorePipeline keeps them: reprocess joins the article again
            pages.append(part)
        send(self.redis, "result", {"pages": pages, "document": item.document, "entry": item.entry})
        return item
