"""The loader: the one writer of the DuckDB file, storing what the nodes send.

1. Take the file's writer lock (no other writer; the file itself is open only while a batch
   is written, as in a one-process crawl), join the stream's consumer group.
2. Start a run, or go on with the one under way (``djcrawl:run``): a new run first publishes
   what earlier runs left (:func:`crawler.frontier.state.publish`), then names itself, so a
   node never reads half a publication.
3. Read a batch: first the entries read before and never acknowledged (a loader killed
   mid-batch: its own pending entries, then any other consumer's, by XAUTOCLAIM), then new ones.
4. Write the batch in ONE transaction (pages, documents and index entries, failed fetches,
   the run row), then XACK it: a loader killed before the commit reads the batch again; the
   writes are upserts keyed by URL and doc_id, so one read twice is stored once.
5. With ``idle_exit``: once nothing came for that long, no node lives and the frontier is
   empty (and some node seeded it), finish the run row from the nodes' counts and clear the crawl's keys.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

from pipelines.ingest import add_documents
from pipelines.store import Store

from crawler import outcomes
from crawler.extensions import StoreExtension, new_run_id

from . import state, stream
from .keys import GROUP, PREFIX, RESULTS, RUN, SEEDED, connect, crawl_keys

__all__ = ["Loader", "LoadResult"]

logger = logging.getLogger(__name__)

#: how long a batch of new entries may wait to fill up
GATHER_SECONDS = 0.5
#: per node: its ``finish`` message (status, counts), kept in Redis so a restarted loader has them
FINISHED = PREFIX + "state:finished"
#: documents new / updated / unchanged, as the loader's commits counted them
TOTALS = PREFIX + "state:totals"


@dataclass
class LoadResult:
    run_id: str
    entries: int = 0
    documents: int = 0
    seconds: float = 0.0
    #: of which spent decoding, writing and acknowledging batches
    busy: float = 0.0
    status: str | None = None
    sites: list[str] = field(default_factory=list)


class Loader:
    def __init__(self, url: str, db, *, idle_exit: float = 0, batch_size: int = 200, retry_limit: int = 3,
                 lock_wait: float = 30.0, consumer: str = "loader"):
        self.redis = connect(url)
        self.db, self.idle_exit, self.batch_size, self.lock_wait = db, idle_exit, batch_size, lock_wait
        self.retry_limit, self.consumer = retry_limit, consumer

    def run(self) -> LoadResult:
        import redis as redis_lib

        # the crawl's own hold on the file: the writer lock for the whole load, the file open
        # only for each batch, so readers (djcrawl query, the DuckDB CLI) get in between
        ext = StoreExtension(self.db, self.lock_wait)
        try:
            try:
                self.redis.xgroup_create(RESULTS, GROUP, id="0", mkstream=True)
            except redis_lib.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            with ext.session() as store:
                run_id = self._run_id(store)
            result = LoadResult(run_id)
            began = time.monotonic()
            last = time.monotonic()
            while True:
                entries = self._next_batch()
                if entries:
                    t0 = time.monotonic()
                    with ext.session() as store:
                        self._store(store, run_id, entries, result)
                    self.redis.xack(RESULTS, GROUP, *[eid for eid, _ in entries])
                    result.busy += time.monotonic() - t0
                    result.entries += len(entries)
                    last = time.monotonic()
                    continue
                if self.idle_exit and time.monotonic() - last >= self.idle_exit and self._crawl_over():
                    break
            result.seconds = time.monotonic() - began
            with ext.session() as store:
                self._finish(store, run_id, result)
        finally:
            ext.close()
        return result

    def _run_id(self, store: Store) -> str:
        current = self.redis.get(RUN)
        if current:
            return current.decode()
        store.interrupt_stale_runs()
        run_id = new_run_id()
        state.publish(store, self.redis, run_id, self.retry_limit)
        self.redis.set(RUN, run_id)
        return run_id

    def _next_batch(self) -> list[tuple[bytes, dict]]:
        # own entries read before a kill, never acknowledged
        got = self.redis.xreadgroup(GROUP, self.consumer, {RESULTS: "0"}, count=self.batch_size)
        entries = [(eid, f) for eid, f in got[0][1] if f] if got else []
        if entries:
            return entries
        # another consumer's (a loader that ran under another name)
        _next, claimed, _deleted = self.redis.xautoclaim(RESULTS, GROUP, self.consumer, min_idle_time=0,
                                                         count=self.batch_size)
        if claimed:
            return [(eid, f) for eid, f in claimed if f]
        # new ones: a batch fills for up to GATHER_SECONDS, since a commit costs about the
        # same for 1 document as for 50 (the nodes send each result as it is made)
        entries = []
        started = time.monotonic()
        while len(entries) < self.batch_size:
            block = 1000 if not entries else max(1, int((GATHER_SECONDS - (time.monotonic() - started)) * 1000))
            got = self.redis.xreadgroup(GROUP, self.consumer, {RESULTS: ">"}, count=self.batch_size - len(entries),
                                        block=block)
            if not got or not got[0][1]:
                break
            entries += list(got[0][1])
            if time.monotonic() - started >= GATHER_SECONDS:
                break
        return entries

    def _store(self, store: Store, run_id: str, entries, result: LoadResult) -> None:
        pages, docs, index, failures, finished = [], {}, {}, [], {}
        starts = []
        for _eid, fields in entries:
            kind, data = stream.decode(fields)
            if kind == "result":
                pages += data["pages"]
                if data["document"] is not None:
                    docs[data["document"].doc_id] = data["document"]
                    if data["entry"] is not None:
                        index[data["document"].doc_id] = data["entry"]
            elif kind == "start":
                starts.append(data)
            elif kind == "failures":
                failures += data["failures"]
            elif kind == "finish":
                finished[data["node"]] = data
        with store.transaction():
            # the first node's start opens the row (query: every row fetched, no result left open)
            if starts and not store.query("SELECT 1 FROM crawl_runs WHERE run_id = ?", [run_id])[1]:
                store.start_run(run_id, starts[0]["sites"], mirror=starts[0]["mirror"])
            store.put_pages(pages)
            done = add_documents(store, list(docs.values()), index)
            gave_up = store.record_fetch_failures(failures, run_id, max(self.retry_limit, 1)) if failures else []
        for url, site in gave_up:
            logger.info("%s: %s failed in %d runs, not asked again", site, url, self.retry_limit)
        for _url, site in gave_up:
            self.redis.hincrby(TOTALS, outcomes.count_key(site, "gave-up"), 1)
        for name, n in (("documents_new", done.new), ("documents_updated", done.updated),
                        ("documents_unchanged", done.unchanged)):
            if n:
                self.redis.hincrby(TOTALS, name, n)
        for node, data in finished.items():
            self.redis.hset(FINISHED, node, json.dumps(data))
        result.documents += len(docs)

    def _crawl_over(self) -> bool:
        """A node started (the start URLs are seeded), none lives, nothing is queued nor in
        flight: nothing more can come."""
        if not self.redis.exists(SEEDED):
            return False
        for pattern in (PREFIX + "alive:*", PREFIX + "inflight:*"):
            if next(iter(self.redis.scan_iter(match=pattern)), None) is not None:
                return False
        if self.redis.zcard(PREFIX + "requests"):
            return False
        # and every entry of the stream read and acknowledged: a loader stopped for a while (or
        # slow) may find the nodes gone and entries it has not read yet
        group = next(g for g in self.redis.xinfo_groups(RESULTS) if g["name"] == GROUP.encode())
        last = self.redis.xinfo_stream(RESULTS)["last-generated-id"]
        return group["pending"] == 0 and group["last-delivered-id"] == last

    def _finish(self, store: Store, run_id: str, result: LoadResult) -> None:
        """The run row from the nodes' counts summed; then the crawl's keys go."""
        stats: dict[str, int] = {}
        nodes = [json.loads(v) for v in self.redis.hvals(FINISHED)]
        for node in nodes:
            for key, value in node["stats"].items():
                stats[key] = stats.get(key, 0) + value
        for key, value in self.redis.hgetall(TOTALS).items():
            name = key.decode()  # documents_* as committed here, gave-up counts as recorded here
            stats[outcomes.total_key(name) if name.startswith("documents_") else name] = int(value)
        run = store.get_run(run_id)
        if run is not None:
            sites = list(run.get("sites") or [])
            totals = {name: stats.get(outcomes.total_key(name), 0) for name in outcomes.TOTALS}
            counts = {parsed: v for k, v in stats.items() if (parsed := outcomes.parse_count_key(k))}
            statuses = {n["status"] for n in nodes}
            status = (outcomes.run_status(outcomes.site_state(stats, s) for s in sites)
                      if nodes and statuses <= {"finished", "partial", "failed"} else "interrupted")
            store.finish_run(run_id, status, totals, counts)
            result.status, result.sites = status, sites
        self.redis.delete(*crawl_keys(self.redis), FINISHED, TOTALS, RESULTS)
