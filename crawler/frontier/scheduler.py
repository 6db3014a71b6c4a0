"""scrapy-redis's scheduler, made to lose nothing when a node dies.

scrapy-redis pops a request off the shared queue and forgets it: a node killed while fetching
it loses it for every node. Here a pop moves the request, in one Lua script, into the node's
*in-flight* hash; it leaves that hash only once the response has been handled to the end
(callback, pipelines, the result in the stream: :meth:`FrontierScheduler.finished`), or once a
retry or redirect copy of it is back in the queue. A node whose heartbeat key expired is dead:
the first idle node moves its in-flight requests back to the queue (:meth:`reclaim_dead`).
A request handled twice that way (killed after its result was sent) is harmless: the loader's
writes are upserts.
"""

from __future__ import annotations

import hashlib

from scrapy_redis.scheduler import Scheduler

from .keys import PREFIX, alive_key, inflight_key

__all__ = ["FrontierScheduler", "INFLIGHT_META"]

#: request.meta key of the in-flight entry a request was popped as (a copy carries it too)
INFLIGHT_META = "dj_inflight"

# pop the best request and keep it in the node's in-flight hash, atomically
_POP = """
local top = redis.call('ZRANGE', KEYS[1], 0, 0)
if #top == 0 then return false end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
redis.call('HSET', KEYS[2], redis.sha1hex(top[1]), top[1])
return top[1]
"""

# a dead node's in-flight requests back into the queue, atomically (score 0: the default priority)
_RECLAIM = """
local entries = redis.call('HVALS', KEYS[2])
for _, data in ipairs(entries) do redis.call('ZADD', KEYS[1], 0, data) end
redis.call('DEL', KEYS[2])
return #entries
"""


class FrontierScheduler(Scheduler):
    """Requests in Redis, shared by every node; what this node fetches kept until it is done."""

    def __init__(self, server, *, node: str, **kwargs):
        super().__init__(server, **kwargs)
        self.node = node
        self.inflight = inflight_key(node)
        self._pop = server.register_script(_POP)
        self._reclaim = server.register_script(_RECLAIM)

    @classmethod
    def from_crawler(cls, crawler):
        # scrapy-redis builds from settings only; the node's name comes from the same settings
        base = Scheduler.from_settings(crawler.settings)
        instance = cls(base.server, node=crawler.settings.get("DJ_FRONTIER_NODE"), persist=True,
                       queue_key=base.queue_key, queue_cls=base.queue_cls, dupefilter=base.df,
                       dupefilter_key=base.dupefilter_key, dupefilter_cls=base.dupefilter_cls,
                       serializer=base.serializer)
        instance.stats = crawler.stats
        return instance

    def enqueue_request(self, request) -> bool:
        taken_as = request.meta.pop(INFLIGHT_META, None)
        queued = self._enqueue(request)
        if taken_as is not None:
            # a retry or a redirect of a request this node took: the copy is queued (or, being
            # a duplicate, needs no fetch), so the original is no longer this node's to finish
            self.server.hdel(self.inflight, taken_as)
        return queued

    def _enqueue(self, request) -> bool:
        # scrapy-redis's, with the stats call of Scrapy 2.13+ (no spider argument)
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self):
        data = self._pop(keys=[self.queue.key, self.inflight])
        if not data:
            return None
        request = self.queue._decode_request(data)
        request.meta[INFLIGHT_META] = hashlib.sha1(data).hexdigest()
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def finished(self, request) -> None:
        """``request``'s response (or failure) has been handled to the end."""
        taken_as = request.meta.get(INFLIGHT_META)
        if taken_as is not None:
            self.server.hdel(self.inflight, taken_as)

    def reclaim_dead(self) -> int:
        """Move the in-flight requests of dead nodes back to the queue; how many."""
        moved = 0
        for key in self.server.scan_iter(match=PREFIX + "inflight:*"):
            node = (key.decode() if isinstance(key, bytes) else key).split(":", 2)[2]
            if node != self.node and not self.server.exists(alive_key(node)):
                moved += self._reclaim(keys=[self.queue.key, key])
        return moved

    def frontier_empty(self) -> bool:
        """No request queued and none in flight on any node."""
        return len(self.queue) == 0 and next(iter(self.server.scan_iter(match=PREFIX + "inflight:*")), None) is None
