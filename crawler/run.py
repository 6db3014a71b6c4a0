"""One crawl on the real Scrapy engine, in this process, as ``djcrawl crawl`` and ``demo`` run it.

One crawl per process: Twisted's reactor cannot be restarted. The database is opened by
the crawl's :class:`~crawler.extensions.StoreExtension`; a file another process holds
stops the crawl before any request, and the store's one-line error is raised here.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from dataclasses import dataclass, field

from pipelines.errors import DjcrawlError

from . import outcomes
from .settings import from_env

__all__ = ["crawl_settings", "run_crawl", "CrawlResult", "mirror"]


def crawl_settings(*, db, sites=(), run_id: str | None = None, mirror_url: str | None = None,
                   refresh: bool = False, max_pages: int | None = None, progress: bool = True,
                   workers: int | None = None, extra: dict | None = None):
    """Scrapy settings of one run: the project's, plus this run's ``DJ_`` values."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    # what the command line says wins over the environment; what it leaves unsaid does not
    overrides = {"DJ_DUCKDB_PATH": str(db), "DJ_PROGRESS": progress, "LOG_LEVEL": settings.get("DJ_LOG_LEVEL")}
    if sites:
        overrides["DJ_SITES"] = list(sites)
    if refresh:
        overrides["DJ_REFRESH"] = True
    if max_pages:
        overrides["DJ_MAX_PAGES"] = max_pages
    if run_id:
        overrides["DJ_RUN_ID"] = run_id
    if workers is not None:
        overrides["DJ_WORKERS"] = workers
    if mirror_url:
        # loopback: delays only slow the demo (AutoThrottle would read the time spent extracting
        # as server latency); the cap of 2 requests at once per domain still applies
        overrides.update({"DJ_MIRROR_URL": mirror_url, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False})
    overrides.update(extra or {})
    settings.setdict(overrides, priority="cmdline")
    return settings


@dataclass
class CrawlResult:
    run_id: str
    stats: dict = field(default_factory=dict)


class _OneLineErrors(logging.Filter):
    """Scrapy's log, as a cron log wants it: a download error is the spider's one line (site,
    URL, reason), so the retry middleware's own line for it goes; any other record keeps its
    message and loses its traceback (``--debug`` keeps everything)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "scrapy.downloadermiddlewares.retry" and "Gave up retrying" in str(record.msg):
            return False
        if record.exc_info or record.exc_text:
            message = record.getMessage()
            if record.name == "scrapy.downloadermiddlewares.robotstxt":
                # Scrapy names the page that asked; it is the site's robots.txt that failed
                message = f"robots.txt not read, the page is fetched as allowed: {message}"
            record.exc_info, record.exc_text = None, None
            record.msg, record.args = f"{message} (run with --debug for the traceback)", ()
        return True


def _progress_rows(holder: dict):
    """Per site: pages fetched, article pages, documents, errors; then the run's totals."""
    def rows():
        crawler = holder.get("crawler")
        spider = getattr(crawler, "spider", None)
        stats = getattr(crawler, "stats", None)
        if spider is None or stats is None:
            return []
        sites = sorted(spider.configs)
        get = stats.get_value
        out = [(site, get(outcomes.site_key(site, "pages_fetched"), 0),
                get(outcomes.site_key(site, "article_pages_fetched"), 0),
                get(outcomes.count_key(site, "document"), 0), get(outcomes.site_key(site, "errors"), 0))
               for site in sites]
        out.append(("all", *(sum(r[i] for r in out) for i in range(1, 5))))
        return out
    return rows


def run_crawl(settings, *, on_started=None, debug: bool = False) -> CrawlResult:
    """Run the spider with ``settings`` until it finishes; ``on_started()`` is called once the
    engine runs (the database is open and locked by then). With ``DJ_PROGRESS`` and stderr
    on a terminal, a live table of the crawl is drawn meanwhile."""
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from .extensions import RunRecorder, StoreExtension
    from .progress import LiveProgress
    from .spiders.djcrawl import DjSpider

    holder: dict = {}
    live = LiveProgress("crawling", ("site", "pages", "article pages", "documents", "errors"),
                        _progress_rows(holder), enabled=None if settings.getbool("DJ_PROGRESS") else False)
    # started before Scrapy sets up its log, whose handler then writes above the table
    with live:
        process = CrawlerProcess(settings)
        crawler = holder["crawler"] = process.create_crawler(DjSpider)
        failures = []
        if not debug:
            # on the handler Scrapy installs when the crawl starts (it replaces the first one)
            one_line = _OneLineErrors()

            def quiet_log():
                for handler in logging.root.handlers:
                    handler.addFilter(one_line)

            crawler.signals.connect(quiet_log, signal=signals.engine_started)
        if on_started is not None:
            # a strong reference: Scrapy's signals hold their receivers weakly
            crawler.signals.connect(on_started, signal=signals.engine_started)
        deferred = process.crawl(crawler)
        deferred.addErrback(failures.append)
        process.start()
    with contextlib.suppress(RuntimeError):  # never built when the crawl failed before its extensions
        store = crawler.get_extension(StoreExtension)
        if store is not None:
            store.close()
    if failures:
        error = failures[0].value
        if isinstance(error, DjcrawlError):
            raise error
        raise DjcrawlError(f"the crawl could not start: {type(error).__name__}: {error}") from error
    recorder = crawler.get_extension(RunRecorder)
    return CrawlResult(recorder.run_id, crawler.stats.get_stats() if crawler.stats else {})


@contextlib.contextmanager
def mirror(n_sites: int):
    """The mirror's URL: ``DJ_MIRROR_URL`` (one already running), else one started here."""
    running = from_env("DJ_MIRROR_URL")
    if running:
        yield running
        return
    from .mirror import MirrorServer

    with MirrorServer() as server:
        print(f"offline mirror of {n_sites} sites on {server.url}", file=sys.stderr, flush=True)
        yield server.url
