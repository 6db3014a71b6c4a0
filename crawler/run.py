"""The crawl commands: ``djcrawl crawl``, ``sites``, ``reprocess`` and ``demo``.

Each ``cmd_*`` takes the parsed arguments and returns an exit code; expected
failures are raised as DjcrawlError and shown by the CLI as one line. The crawl
runs in this process on the real Scrapy engine (one crawl per process: Twisted's
reactor cannot be restarted).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import uuid
from collections import Counter

from pipelines.errors import DjcrawlError
from pipelines.store import Store, default_db_path

from .siteconfig import SiteConfigError, load_site, load_sites, sites_dir
from .tables import format_table

__all__ = ["cmd_crawl", "cmd_sites", "cmd_reprocess", "cmd_demo", "crawl_settings", "run_crawl"]

_SUMMARY_COLUMNS = ("site", "pages", "article pages", "documents", "not articles", "skipped known", "errors")
# outcomes that are neither documents nor failures (shown as "not articles")
_NOT_ARTICLE_SKIP = {"document", "list-page", "not-modified", "skipped-known", "list-stop-all-known",
                     "robots-disallowed", "ignored", "max-pages-reached", "list-without-articles",
                     "article-incomplete", "list-failed", "list-max-pages"}


def crawl_settings(*, run_id: str, mirror_url: str | None = None, refresh: bool = False,
                   max_pages: int | None = None, progress: bool = True, workers: int | None = None):
    """Scrapy settings of one run: the project's, plus this run's ``DJ_`` values."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    overrides = {
        "DJ_RUN_ID": run_id,
        "DJ_REFRESH": refresh,
        "DJ_MAX_PAGES": max_pages or 0,
        "DJ_PROGRESS": progress,
        "LOG_LEVEL": os.environ.get("DJCRAWL_LOG_LEVEL", "WARNING"),
    }
    if workers is not None:
        overrides["DJ_WORKERS"] = workers
    if mirror_url:
        # loopback: delays only slow the demo (AutoThrottle would read the time spent extracting
        # as server latency); the cap of 2 requests at once per domain still applies
        overrides.update({"DJ_MIRROR_URL": mirror_url, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False})
    settings.setdict(overrides, priority="cmdline")
    return settings


def run_crawl(store: Store, site_names: list[str], *, mirror_url: str | None = None, refresh: bool = False,
              max_pages: int | None = None, workers: int | None = None) -> tuple[str, dict]:
    """Crawl the named sites into an open store; returns ``(run_id, final Scrapy stats)``."""
    from scrapy.crawler import CrawlerProcess

    from .spiders.djcrawl import DjSpider

    run_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    settings = crawl_settings(run_id=run_id, mirror_url=mirror_url, refresh=refresh, max_pages=max_pages,
                              workers=workers)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(DjSpider)
    process.crawl(crawler, sites=list(site_names), store=store)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    return run_id, stats


def _summary(site_names: list[str], store: Store, run_id: str, stats: dict) -> str:
    counts = store.run_counts(run_id)
    rows = []
    for site in site_names:
        mine = {reason: n for (s, reason), n in counts.items() if s == site}
        not_articles = sum(n for r, n in mine.items() if r not in _NOT_ARTICLE_SKIP and not r.startswith(("http-", "error-")))
        rows.append((
            site,
            stats.get(f"djcrawl/site/{site}/pages_fetched", 0),
            stats.get(f"djcrawl/site/{site}/article_pages_fetched", 0),
            mine.get("document", 0),
            not_articles,
            mine.get("skipped-known", 0),
            stats.get(f"djcrawl/site/{site}/errors", 0),
        ))
    run = store.get_run(run_id) or {}
    total = (f"run {run_id}: {run.get('status')}, {run.get('pages_fetched', 0)} pages fetched, "
             f"{run.get('article_pages_fetched', 0)} article pages, {run.get('documents_new', 0)} new, "
             f"{run.get('documents_updated', 0)} updated and {stats.get('djcrawl/documents_unchanged', 0)} "
             f"unchanged documents, {run.get('errors', 0)} errors")
    return format_table(_SUMMARY_COLUMNS, rows) + "\n" + total


def _crawl_into(store: Store, names: list[str], *, mirror_url: str | None, refresh: bool,
                max_pages: int | None, workers: int | None = None) -> int:
    run_id, stats = run_crawl(store, names, mirror_url=mirror_url, refresh=refresh, max_pages=max_pages,
                              workers=workers)
    print(_summary(names, store, run_id, stats))
    run = store.get_run(run_id) or {}
    return 0 if run.get("status") == "finished" else 1


@contextlib.contextmanager
def _mirror(n_sites: int):
    """The mirror's URL: ``DJCRAWL_MIRROR_URL`` (one already running), else one started here."""
    if os.environ.get("DJCRAWL_MIRROR_URL"):
        yield os.environ["DJCRAWL_MIRROR_URL"]
        return
    from .mirror import MirrorServer

    with MirrorServer() as mirror:
        print(f"offline mirror of {n_sites} sites on {mirror.url}", file=sys.stderr, flush=True)
        yield mirror.url


def cmd_crawl(args) -> int:
    names = [c.name for c in load_sites(list(args.sites or []) or None)]  # validates before anything starts
    if args.max_pages is not None and args.max_pages < 1:
        raise DjcrawlError("--max-pages must be at least 1")
    workers = getattr(args, "workers", None)
    if workers is not None and workers < 0:
        raise DjcrawlError("--workers must be 0 (this process) or more")
    with Store(default_db_path(args.db)) as store:  # a second crawl on the same file stops here
        print(f"crawling {len(names)} sites into {store.path}", file=sys.stderr, flush=True)
        if getattr(args, "mirror", False):
            with _mirror(len(names)) as mirror_url:
                return _crawl_into(store, names, mirror_url=mirror_url, refresh=args.refresh,
                                   max_pages=args.max_pages, workers=workers)
        return _crawl_into(store, names, mirror_url=None, refresh=args.refresh, max_pages=args.max_pages,
                           workers=workers)


def cmd_sites(args) -> int:
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
        rows.append((cfg.name, cfg.title, " ".join(cfg.allowed_domains), len(cfg.start_urls),
                     cfg.list.pagination, len(cfg.confirmed), len(cfg.unconfirmed)))
    print(format_table(("site", "title", "domains", "channels", "pagination", "confirmed", "unconfirmed"), rows,
                       max_cell=50))
    print(f"{len(rows)} valid, {bad} invalid site configs in {directory}")
    return 1 if bad else 0


def cmd_reprocess(args) -> int:
    """Rebuild documents from the stored raw pages: no network, same chain as the crawl."""
    from pipelines.corpus import add_documents, relevance_seeds
    from pipelines.document import Document, doc_id_for_url
    from pipelines.parallel import AttachmentJob, PageJob, make_documents
    from pipelines.process import NotArticle, SiteHints

    db = default_db_path(args.db)
    if not db.exists():
        raise DjcrawlError(f"database {db} does not exist (run `djcrawl crawl` or `djcrawl demo` first)")
    configs = {c.name: c for c in load_sites()}
    if args.site and args.site not in configs:
        raise SiteConfigError(f"unknown site {args.site} (known: {', '.join(configs)})")
    reasons: Counter[str] = Counter()
    new = updated = unchanged = pages = files = 0
    with Store(db) as store:
        parts: dict[str, list] = {}  # first page URL -> its later parts
        for part in store.iter_pages(site=args.site, kind="article-part"):
            first_url = configs[part.site].first_page_of(part.url) if part.site in configs else None
            if first_url:
                parts.setdefault(first_url, []).append(part)
        batch: list[Document] = []
        entries = {}  # doc_id -> index entry computed by a worker

        def flush():
            nonlocal new, updated, unchanged
            if batch:
                r = add_documents(store, batch, entries)
                new, updated, unchanged = new + r.new, updated + r.updated, unchanged + r.unchanged
                batch.clear()
                entries.clear()

        def take(outcome, entry=None) -> None:
            if isinstance(outcome, NotArticle):
                reasons[outcome.reason] += 1
                return
            reasons["document"] += 1
            batch.append(outcome)
            if entry is not None:
                entries[outcome.doc_id] = entry
            if len(batch) >= 50:
                flush()

        def jobs():
            nonlocal pages, files
            for page in store.iter_pages(site=args.site, kind="article"):
                pages += 1
                cfg = configs.get(page.site)
                hints = cfg.hints() if cfg else SiteHints(site=page.site)
                more = sorted(parts.get(page.url, []), key=lambda p: _part_number(p.url))
                ctype = cfg.content_type_for if cfg else (lambda body, ct: ct)
                yield PageJob(url=page.url, body=page.body, content_type=ctype(page.body, page.content_type),
                              hints=hints, doc_id=doc_id_for_url(page.url), fetched_at=page.fetched_at,
                              run_id=page.run_id, parts=tuple((p.body, ctype(p.body, p.content_type)) for p in more))
            for page in store.iter_pages(site=args.site, kind="attachment"):
                files += 1
                # a page row does not name the article linking the file; the file's document does
                earlier = store.get_document(doc_id_for_url(page.url))
                yield AttachmentJob(url=page.url, body=page.body, content_type=page.content_type,
                                    parent_url=earlier["parent_url"] if earlier else None, site=page.site,
                                    fetched_at=page.fetched_at, run_id=page.run_id)

        # Pages become documents and index entries in worker processes (every core); this
        # process stores them. Reprocess leaves the seeds alone, so their model holds throughout.
        seeds = relevance_seeds(store)
        for _job, made in make_documents(jobs(), workers=getattr(args, "workers", None), seeds=seeds):
            take(made.outcome, made.entry)
        flush()
    scope = f"site {args.site}" if args.site else "all sites"
    print(f"reprocessed {pages} stored article pages and {files} attachments of {scope}: {new} new, "
          f"{updated} updated, {unchanged} unchanged documents")
    for reason, n in sorted(reasons.items()):
        print(f"  {reason}: {n}")
    return 0


def _part_number(url: str) -> int:
    import re

    m = re.search(r"[_-](\d+)\.[a-z]+$", url)
    return int(m.group(1)) if m else 0


DEMO_QUERY = """SELECT site, count(*) AS documents, count(published) AS dated, min(published) AS earliest,
       max(published) AS latest
FROM documents GROUP BY site ORDER BY site NULLS FIRST"""


def cmd_demo(args) -> int:
    """Crawl every configured site through the offline mirror, load the seeds, show what is stored."""
    from pipelines.seeds import load_seed_dir

    from .mirror.pages import project_root

    names = [c.name for c in load_sites()]
    db = default_db_path(args.db)
    with Store(db) as store:
        print(f"crawling {len(names)} sites into {store.path}", file=sys.stderr, flush=True)
        with _mirror(len(names)) as mirror_url:
            run_id, stats = run_crawl(store, names, mirror_url=mirror_url)
        print(_summary(names, store, run_id, stats))
        seeds = load_seed_dir(store, project_root() / "seeds" / "documents")
        r = seeds.result
        print(f"seeds: {seeds.files} files, {r.new} new, {r.updated} updated, {r.unchanged} unchanged documents")
        columns, rows = store.query(DEMO_QUERY)
        print(f"\n$ djcrawl query --db {db} \"{' '.join(DEMO_QUERY.split())}\"")
        print(format_table(columns, rows))
        run = store.get_run(run_id) or {}
    return 0 if run.get("status") == "finished" else 1

