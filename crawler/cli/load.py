"""``djcrawl crawl --frontier``: one node of a crawl shared through Redis; ``djcrawl load``: its loader.

The nodes and the loader are crawler/frontier/; here, their command lines: what they check,
what they print, what they exit with."""

from __future__ import annotations

import sys
import time

from pipelines.errors import DjcrawlError

from ..run import crawl_settings, mirror, run_crawl
from ..settings import from_env
from .options import db_path

__all__ = ["cmd_node", "cmd_load"]


def _frontier(args) -> str:
    url = getattr(args, "frontier", None) or from_env("DJ_FRONTIER_URL")
    if not url:
        raise DjcrawlError("no frontier: give --frontier redis://HOST:PORT/DB (or set DJ_FRONTIER_URL)")
    return url


def _idle_exit(args) -> float:
    value = getattr(args, "idle_exit", None)
    value = float(from_env("DJ_IDLE_EXIT", 0)) if value is None else value
    if value < 0:
        raise DjcrawlError("--idle-exit must be 0 (wait for work) or more seconds")
    return value


def _wait_for_run(redis, url: str) -> str:
    """The run id the loader set once it published what earlier runs left."""
    from ..frontier.keys import RUN

    told = False
    while True:
        run_id = redis.get(RUN)
        if run_id:
            return run_id.decode()
        if not told:
            print(f"waiting for the loader (djcrawl load --frontier {url}) to start the run", file=sys.stderr,
                  flush=True)
            told = True
        time.sleep(0.5)


def cmd_node(args, names: list[str]) -> int:
    from ..frontier import connect, node_settings
    from ..frontier.state import refuse_mixing

    url, idle_exit = _frontier(args), _idle_exit(args)
    if getattr(args, "db", None):
        raise DjcrawlError("a node writes no database: --db is the loader's (djcrawl load --db PATH)")
    redis = connect(url)
    run_id = _wait_for_run(redis, url)
    refuse_mixing(redis, mirrored=bool(getattr(args, "mirror", False) or from_env("DJ_MIRROR_URL")))
    redis.close()

    def crawl(mirror_url):
        settings = crawl_settings(db="(none: results go to the loader)", sites=names, run_id=run_id,
                                  mirror_url=mirror_url, refresh=args.refresh, max_pages=args.max_pages,
                                  workers=args.workers, extra=node_settings(url, idle_exit=idle_exit))
        node = settings.get("DJ_FRONTIER_NODE")

        def started():
            print(f"node {node}: crawling {len(names)} sites of run {run_id} from {url}", file=sys.stderr, flush=True)

        result = run_crawl(settings, on_started=started, debug=getattr(args, "debug", False))
        stats = result.stats
        reason = stats.get("finish_reason")
        print(f"node {node}: {stats.get('djcrawl/pages_fetched', 0)} pages, "
              f"{sum(v for k, v in stats.items() if k.startswith('djcrawl/count/') and k.endswith('/document'))} "
              f"documents sent to the loader ({reason})", flush=True)
        return 0 if reason == "finished" else 130 if reason == "shutdown" else 1

    if getattr(args, "mirror", False):
        with mirror(len(names)) as mirror_url:
            return crawl(mirror_url)
    return crawl(from_env("DJ_MIRROR_URL") or None)


def cmd_load(args) -> int:
    from pathlib import Path

    from ..frontier.loader import Loader
    from ..settings import DJ_BATCH_SIZE, DJ_LOCK_WAIT, DJ_RETRY_FAILED

    db = Path(args.db) if args.db else db_path()
    loader = Loader(_frontier(args), db, idle_exit=_idle_exit(args), batch_size=max(int(DJ_BATCH_SIZE), 1),
                    retry_limit=int(DJ_RETRY_FAILED), lock_wait=float(DJ_LOCK_WAIT))
    print(f"loading the frontier's results into {db}", file=sys.stderr, flush=True)
    result = loader.run()
    rate = result.documents / result.busy if result.busy else 0.0
    print(f"run {result.run_id}: {result.entries} entries, {result.documents} documents stored into {db} "
          f"in {result.seconds:.1f} s ({rate:.1f} documents/s of writing); status {result.status}", flush=True)
    return 0
