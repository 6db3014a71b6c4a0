"""``djcrawl crawl``, ``demo`` and ``sites``: crawl the configured sites, list their configs
(``sites --health``: crawler/cli/health.py)."""

from __future__ import annotations

import sys

from pipelines.errors import DjcrawlError

from .. import outcomes
from ..run import crawl_settings, mirror, run_crawl
from ..siteconfig import SiteConfigError, load_site, load_sites, sites_dir
from .health import flag_lines
from .options import db_path
from .tables import format_table

__all__ = ["cmd_crawl", "cmd_demo", "cmd_sites", "summary"]

_SUMMARY_COLUMNS = ("site", "pages", "article pages", "documents", "not articles", "skipped known", "errors")


def summary(site_names: list[str], store, run_id: str, stats: dict) -> str:
    """The per-site table and the run's line that a crawl prints when it ends."""
    counts = store.run_counts(run_id)
    rows = []
    for site in site_names:
        mine = {reason: n for (s, reason), n in counts.items() if s == site}
        not_articles = sum(n for r, n in mine.items() if outcomes.category(r) == "not-article" and r != "list-page")
        rows.append((
            site,
            stats.get(outcomes.site_key(site, "pages_fetched"), 0),
            stats.get(outcomes.site_key(site, "article_pages_fetched"), 0),
            mine.get("document", 0),
            not_articles,
            mine.get("skipped-known", 0),
            stats.get(outcomes.site_key(site, "errors"), 0),
        ))
    run = store.get_run(run_id) or {}
    total = (f"run {run_id}: {run.get('status')}, {run.get('pages_fetched', 0)} pages fetched, "
             f"{run.get('article_pages_fetched', 0)} article pages, {run.get('documents_new', 0)} new, "
             f"{run.get('documents_updated', 0)} updated and {stats.get(outcomes.total_key('documents_unchanged'), 0)} "
             f"unchanged documents, {run.get('errors', 0)} errors")
    # a site whose lists gave no article link in its last two runs: one line each
    flagged = "".join(f"\nflagged: {line}" for line in flag_lines(store, site_names))
    return format_table(_SUMMARY_COLUMNS, rows) + "\n" + total + flagged


def _crawl(db, names: list[str], *, mirror_url: str | None, refresh: bool = False,
           max_pages: int | None = None, workers: int | None = None):
    """Crawl ``names`` into ``db``; returns ``(exit code, run_id)`` after printing the summary."""
    from pipelines.store import Store

    def started():
        print(f"crawling {len(names)} sites into {db}", file=sys.stderr, flush=True)

    settings = crawl_settings(db=db, sites=names, mirror_url=mirror_url, refresh=refresh, max_pages=max_pages,
                              workers=workers)
    result = run_crawl(settings, on_started=started)
    with Store(db) as store:
        print(summary(names, store, result.run_id, result.stats))
        run = store.get_run(result.run_id) or {}
    return (0 if run.get("status") == "finished" else 1), result.run_id


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
    db = db_path(args.db)
    if getattr(args, "mirror", False):
        if not getattr(args, "sites", None):  # the default crawl through the mirror: the sites it serves
            names = _mirrored(names)
        with mirror(len(names)) as mirror_url:
            return _crawl(db, names, mirror_url=mirror_url, refresh=args.refresh, max_pages=args.max_pages,
                          workers=args.workers)[0]
    return _crawl(db, names, mirror_url=None, refresh=args.refresh, max_pages=args.max_pages,
                  workers=args.workers)[0]


DEMO_QUERY = """SELECT site, count(*) AS documents, count(published) AS dated, min(published) AS earliest,
       max(published) AS latest
FROM documents GROUP BY site ORDER BY site NULLS FIRST"""


def cmd_demo(args) -> int:
    """Crawl every site the offline mirror serves, load the seeds, show what is stored."""
    from pipelines.seeds import load_seed_dir
    from pipelines.store import Store

    # the demo crawls every site the mirror serves, unconfirmed ones too: the mirror shows the whole chain
    names = _mirrored(_check(args, every=True))
    db = db_path(args.db)
    with mirror(len(names)) as mirror_url:
        code, _run_id = _crawl(db, names, mirror_url=mirror_url)
    with Store(db) as store:
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
