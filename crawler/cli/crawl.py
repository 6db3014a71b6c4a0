"""``djcrawl crawl``, ``demo`` and ``sites``: crawl the configured sites, list their configs
(``sites --health``: crawler/cli/health.py).

A crawl ends with a line a site and an exit code read from its run's status
(:data:`EXIT_CODES`, documented in ``djcrawl crawl --help`` and the README), so cron and
systemd can tell a run that reached nothing from one that went well."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from pipelines.errors import DjcrawlError

from .. import outcomes
from ..progress import status
from ..run import crawl_settings, mirror, run_crawl
from ..settings import from_env
from ..siteconfig import SiteConfigError, load_site, load_sites, sites_dir
from .health import flag_lines
from .options import db_path
from .tables import format_table

__all__ = ["cmd_crawl", "cmd_demo", "cmd_sites", "summary", "EXIT_CODES", "DEMO_DB"]

#: What ``crawl`` and ``demo`` exit with, by the run's ``crawl_runs.status`` (1: an error
#: before or instead of crawling, one line on stderr; 2: a usage mistake, from argparse).
#: A run still ``running`` once the engine is back was stopped by a second Ctrl-C (Scrapy's
#: forced stop), before it could close its row; the next run marks it interrupted.
EXIT_CODES = {"finished": 0, "partial": 3, "failed": 4, "interrupted": 130, "running": 130}

#: Where the demo and other mirror runs write unless --db names a file: never the default
#: database, which holds crawls of the real sites.
DEMO_DB = "data/demo.duckdb"


def _site_line(state: outcomes.SiteState, width: int, documents: int, known: int) -> str:
    worth = ", ".join(f"{reason} {n}" for reason, n in state.reasons)
    return (f"{state.site:<{width}}  {state.state:<7}  {state.pages} pages, {documents} new or changed documents, "
            f"{known} known, {state.errors} errors" + (f" ({worth})" if worth else ""))


def summary(site_names: list[str], store, run_id: str, stats: dict) -> str:
    """What a crawl prints when it ends: one line a site (how it went, pages fetched, documents
    stored new or changed, known articles skipped, errors, and the reasons worth a look), the
    run's line, and a line for each site flagged by its health."""
    counts = store.run_counts(run_id)
    documents = store.documents_of_run(run_id)
    width = max((len(s) for s in site_names), default=4)
    run = store.get_run(run_id) or {}
    cut = EXIT_CODES.get(run.get("status")) == 130
    lines = []
    for site in site_names:
        state = outcomes.site_state(stats, site)
        if cut and state.state != "ok":  # not failed: stopped before it could say
            state = dataclasses.replace(state, state="stopped")
        lines.append(_site_line(state, width, documents.get(site, 0), counts.get((site, "skipped-known"), 0)))
    lines.append(f"run {run_id}: {run.get('status')}, {run.get('pages_fetched', 0)} pages fetched, "
                 f"{run.get('article_pages_fetched', 0)} article pages, {run.get('documents_new', 0)} new, "
                 f"{run.get('documents_updated', 0)} updated and "
                 f"{stats.get(outcomes.total_key('documents_unchanged'), 0)} unchanged documents, "
                 f"{run.get('errors', 0)} errors")
    # a site whose lists gave no article link in its last two runs: one line each
    lines += [f"flagged: {line}" for line in flag_lines(store, site_names)]
    return "\n".join(lines)


def _refuse_mixing(db, *, mirrored: bool) -> None:
    """A file holds crawls of the real sites or runs through a mirror, never both: mirror
    pages stored under the real URLs would be taken as known by a real crawl, which would
    then never fetch those articles."""
    from pipelines.store import Store

    if not db.exists():
        return
    with Store(db) as store:
        real, mirror_runs = store.run_origins()
    if mirrored and real:
        raise DjcrawlError(f"{db} holds {real} crawls of the real sites; a mirror run would store its pages under "
                           f"their URLs: give it another --db (the demo's is {DEMO_DB})")
    if not mirrored and mirror_runs:
        raise DjcrawlError(f"{db} holds {mirror_runs} runs through the offline mirror; a real crawl would take their "
                           f"pages as known: crawl into another --db")


def _crawl(db, names: list[str], *, mirror_url: str | None, refresh: bool = False,
           max_pages: int | None = None, workers: int | None = None, debug: bool = False):
    """Crawl ``names`` into ``db``; returns ``(exit code, run_id)`` after printing the summary."""
    from pipelines.store import Store

    def started():
        print(f"crawling {len(names)} sites into {db}", file=sys.stderr, flush=True)

    settings = crawl_settings(db=db, sites=names, mirror_url=mirror_url, refresh=refresh, max_pages=max_pages,
                              workers=workers)
    result = run_crawl(settings, on_started=started, debug=debug)
    with Store(db) as store:
        print(summary(names, store, result.run_id, result.stats), flush=True)
        run = store.get_run(result.run_id) or {}
    status = run.get("status") or "running"
    if EXIT_CODES.get(status) == 130:
        print(f"djcrawl: interrupted: run {result.run_id} stored {run.get('pages_fetched') or 0} pages, "
              f"{run.get('documents_new') or 0} new and {run.get('documents_updated') or 0} updated documents; "
              "the next run goes on from there", file=sys.stderr)
    return EXIT_CODES.get(status, 1), result.run_id


def _check(args, *, every: bool = False) -> list[str]:
    """Validate before anything starts: site names and configs, numbers. Without names: the
    default crawl (sites whose evidence status allows it), or every site (``every``: the demo)."""
    named = list(getattr(args, "sites", None) or []) or None
    names = [c.name for c in load_sites(named, every=every)]
    if not names:
        everything = ", ".join(c.name for c in load_sites(every=True))
        raise SiteConfigError(f"no site in {sites_dir()} is in the default crawl (every one is unconfirmed); "
                              f"name the sites to crawl: {everything}")
    if getattr(args, "max_pages", None) is not None and args.max_pages < 1:
        raise DjcrawlError("--max-pages must be at least 1")
    workers = getattr(args, "workers", None)
    if workers is not None and workers < 0:
        raise DjcrawlError("--workers must be 0 (this process) or more")
    return names


def _mirrored(names: list[str]) -> list[str]:
    """The sites of ``names`` the offline mirror serves (crawler/mirror/manifest.toml): a site
    configured from public evidence alone has no mirror pages, and would only be answered 404."""
    from ..mirror.pages import served_sites

    served = served_sites()
    left_out = [n for n in names if n not in served]
    if left_out:
        print(f"mirror: not served, left out: {', '.join(left_out)}")
    return [n for n in names if n in served]


def cmd_crawl(args) -> int:
    names = _check(args)
    if getattr(args, "frontier", None) or from_env("DJ_FRONTIER_URL"):
        from .load import cmd_node  # one node of a shared crawl: no database here

        return cmd_node(args, names if getattr(args, "sites", None) or not args.mirror else _mirrored(names))
    mirrored = bool(getattr(args, "mirror", False) or from_env("DJ_MIRROR_URL"))
    # a mirror run never writes the default database (the real crawls' file) unless told to
    db = Path(args.db) if args.db else Path(DEMO_DB) if mirrored else db_path()
    _refuse_mixing(db, mirrored=mirrored)
    debug = getattr(args, "debug", False)
    if getattr(args, "mirror", False):
        if not getattr(args, "sites", None):  # the default crawl through the mirror: the sites it serves
            names = _mirrored(names)
        with mirror(len(names)) as mirror_url:
            return _crawl(db, names, mirror_url=mirror_url, refresh=args.refresh, max_pages=args.max_pages,
                          workers=args.workers, debug=debug)[0]
    return _crawl(db, names, mirror_url=None, refresh=args.refresh, max_pages=args.max_pages,
                  workers=args.workers, debug=debug)[0]


DEMO_QUERY = """SELECT site, count(*) AS documents, count(published) AS dated, min(published) AS earliest,
       max(published) AS latest
FROM documents GROUP BY site ORDER BY site NULLS FIRST"""


def cmd_demo(args) -> int:
    """Crawl every site the offline mirror serves, load the seeds, show what is stored."""
    from pipelines.seeds import load_seed_dir
    from pipelines.store import Store

    # the demo crawls every site the mirror serves, unconfirmed ones too: the mirror shows the whole chain
    names = _mirrored(_check(args, every=True))
    # --db, else data/demo.duckdb: never $DJ_DUCKDB_PATH nor the default database
    db = Path(args.db or DEMO_DB)
    _refuse_mixing(db, mirrored=True)
    with mirror(len(names)) as mirror_url:
        code, _run_id = _crawl(db, names, mirror_url=mirror_url, debug=getattr(args, "debug", False))
    if code == EXIT_CODES["interrupted"]:
        return code  # Ctrl-C stops the demo, not only its crawl
    with Store(db) as store, status("loading the seed reports"):
        seeds = load_seed_dir(store)  # the packaged seed reports
        r = seeds.result
        print(f"seeds: {seeds.files} files, {r.new} new, {r.updated} updated, {r.unchanged} unchanged documents")
        columns, rows = store.query(DEMO_QUERY)
    print(f"\n$ djcrawl query --db {db} \"{' '.join(DEMO_QUERY.split())}\"")
    print(format_table(columns, rows))
    return code


def cmd_sites(args) -> int:
    if getattr(args, "check", None):
        from .sitecheck import cmd_check

        return cmd_check(args)
    if getattr(args, "health", False):
        from .health import cmd_health

        return cmd_health(args)
    directory = sites_dir()
    paths = sorted(directory.glob("*.toml"))
    if not paths:
        raise SiteConfigError(f"no site configs in {directory}")
    rows, bad = [], 0
    for path in paths:
        try:
            cfg = load_site(path)
        except SiteConfigError as exc:
            bad += 1
            print(f"invalid: {exc}", file=sys.stderr)
            continue
        kind = f"html ({cfg.list.pagination})" if cfg.list.kind == "html" else cfg.list.kind
        rows.append((cfg.name, cfg.title, kind, cfg.status, len(cfg.cited),
                     "yes" if cfg.in_default_crawl else "no", len(cfg.start_urls)))
    print(format_table(("site", "title", "list kind", "evidence", "cited fields", "default crawl", "channels"),
                       rows, max_cell=50))
    default = sum(1 for r in rows if r[5] == "yes")
    print(f"{len(rows)} valid, {bad} invalid site configs in {directory}; {default} in the default crawl "
          "(unconfirmed sites are crawled only when named)")
    return 1 if bad else 0
