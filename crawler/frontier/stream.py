"""The result stream: what a node would have written, one entry a message, in arrival order.

An entry is ``{kind, data}``: ``kind`` one of :data:`KINDS`, ``data`` the pickled payload. Pickle,
because the payloads are the project's own dataclasses (Page with its bytes, Document with
dates and lists, IndexEntry with its fingerprint) and the loader runs the same code as the
nodes; Redis is the crawl's own, never an input from outside.

- ``start``: a node opened the run (run id, sites, mirror);
- ``result``: one handled page: the pages to keep (the page and its later parts), the
  document and its index entry if it made one;
- ``failures``: ``(url, site, reason)`` of the articles whose fetch failed in the node's run;
- ``finish``: a node ended: its status and counts (the loader sums them into the run row).
"""

from __future__ import annotations

import pickle

from crawler import outcomes
from crawler.items import Processed

from .keys import RESULTS

__all__ = ["KINDS", "send", "decode", "int_stats", "StreamPipeline"]

KINDS = ("start", "result", "failures", "finish")


def send(redis, kind: str, payload) -> bytes:
    assert kind in KINDS
    return redis.xadd(RESULTS, {b"kind": kind.encode(), b"data": pickle.dumps(payload, protocol=5)})


def decode(fields: dict) -> tuple[str, object]:
    return fields[b"kind"].decode(), pickle.loads(fields[b"data"])


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
