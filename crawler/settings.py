"""Scrapy settings of djcrawl: polite by default.

djcrawl's own settings all start with ``DJ_`` and are declared here, once, with their
defaults. Each can be set three ways, the later winning: an environment variable of the
same name (``DJ_MIN_RELEVANCE=0.4 djcrawl crawl``), ``-s NAME=value`` (``scrapy crawl``,
scrapyd), or the matching ``djcrawl`` option. Two variables keep the names an earlier
version documented for cron lines: ``DJCRAWL_DB`` and ``DJCRAWL_CONTACT``.

This module imports nothing of djcrawl: Scrapy loads it for every command.
"""

import os

BOT_NAME = "djcrawl"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
# `scrapy crawl` exits 1 when the spider closed for another reason than "finished"
COMMANDS_MODULE = "crawler.commands"

#: Environment names an earlier version read, still honoured: setting -> old variable.
OLD_ENV_NAMES = {"DJ_DUCKDB_PATH": "DJCRAWL_DB", "DJ_CONTACT": "DJCRAWL_CONTACT",
                 "DJ_MIRROR_URL": "DJCRAWL_MIRROR_URL", "DJ_LOG_LEVEL": "DJCRAWL_LOG_LEVEL"}


def from_env(name: str, default=None):
    """The environment's value of setting ``name`` (or of its old name), else ``default``."""
    for key in (name, OLD_ENV_NAMES.get(name)):
        if key and os.environ.get(key, "").strip():
            return os.environ[key].strip()
    return default


def _cores() -> int:
    """Cores this process may use (its CPU affinity, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# --- djcrawl
#: DuckDB file the crawl writes (pages, documents, crawl_runs).
DJ_DUCKDB_PATH = from_env("DJ_DUCKDB_PATH", "data/djcrawl.duckdb")
#: Who to write to about this crawler; goes into the User-Agent.
DJ_CONTACT = from_env("DJ_CONTACT", "https://github.com/djcrawl/djcrawl")
#: ``http://127.0.0.1:PORT`` of the offline mirror; empty = crawl the real sites.
DJ_MIRROR_URL = from_env("DJ_MIRROR_URL", "")
#: Folder of the site configs (``<site>.toml``); empty = ``seeds/sites`` of the project.
DJ_SITES_DIR = from_env("DJ_SITES_DIR", "")
#: Sites to crawl (names of the site configs, a list or "a,b"); empty = all.
DJ_SITES = from_env("DJ_SITES", [])
#: Fetch known article pages again and page through whole lists.
DJ_REFRESH = from_env("DJ_REFRESH", False)
#: Stop a site after this many requests (0 = no limit).
DJ_MAX_PAGES = from_env("DJ_MAX_PAGES", 0)
#: Id of the crawl_runs row; empty = one is made when the crawl starts.
DJ_RUN_ID = from_env("DJ_RUN_ID", "")
#: Pages and documents are written in batches of this many, one transaction a batch.
DJ_BATCH_SIZE = from_env("DJ_BATCH_SIZE", 50)
#: Seconds a reader (query, search, similar, export) waits for a writer to let the database
#: go, and the crawl's last batch waits for readers; the crawl holds the file only while it
#: commits a batch (README, "Reading during a crawl").
DJ_LOCK_WAIT = from_env("DJ_LOCK_WAIT", 30)
#: Processes that make documents out of fetched pages (0 = the crawl process itself).
#: Default one per core: on 2 cores, 2 workers crawl the loopback mirror 1.8x as fast as
#: the crawl process alone, 1 worker 1.4x; each worker holds ~190 MB of dictionaries
#: (benchmarks/README.md, "Crawl").
DJ_WORKERS = from_env("DJ_WORKERS", _cores())
#: Keep a crawled article as a document only if its relevance (0..1, closeness to the
#: seed reports) reaches this; a page under it stays in ``pages`` with reason
#: ``irrelevant``. 0 keeps every article.
DJ_MIN_RELEVANCE = from_env("DJ_MIN_RELEVANCE", 0.0)
#: Draw the live progress of the crawl (pages, documents, errors per site) on stderr when
#: stderr is a terminal; never in a log file (``djcrawl crawl`` and ``demo`` set it).
DJ_PROGRESS = from_env("DJ_PROGRESS", False)
#: An article whose fetch failed (a 5xx, 408/429, a timeout, a reset connection) is asked
#: for again by the next runs, whatever their list walks reach, until it has failed in this
#: many runs (counted ``gave-up``); 0 or 1 = never asked again.
DJ_RETRY_FAILED = from_env("DJ_RETRY_FAILED", 3)
#: ``redis://HOST:PORT/DB`` of the shared frontier: the crawl is one node of many, taking its
#: requests from Redis (scrapy-redis) and sending its results to the loader (``djcrawl load``)
#: through a Redis stream instead of writing DJ_DUCKDB_PATH; empty = a one-process crawl.
DJ_FRONTIER_URL = from_env("DJ_FRONTIER_URL", "")
#: A node ends once the frontier (queued and in-flight requests of every node) has been empty
#: this many seconds, and the loader once nothing came that long and no node lives; 0 = they
#: wait for work, as scrapy-redis nodes do.
DJ_IDLE_EXIT = from_env("DJ_IDLE_EXIT", 0)
#: The node's name in the frontier (its in-flight requests, its heartbeat); empty = host-pid.
DJ_FRONTIER_NODE = from_env("DJ_FRONTIER_NODE", "")
#: Log level of ``djcrawl crawl`` (``scrapy crawl`` uses LOG_LEVEL below).
DJ_LOG_LEVEL = from_env("DJ_LOG_LEVEL", "WARNING")

# --- politeness: small government servers
USER_AGENT = f"djcrawl/0.1 (+{DJ_CONTACT})"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Bytes are decoded by pipelines.decode (bytes over meta); Scrapy's own guess is not used for text.
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024

EXTENSIONS = {
    # opens the database when the crawler is built (a locked file stops the crawl before
    # any request) and closes it when the engine has stopped
    "crawler.extensions.StoreExtension": 100,
    # the crawl_runs row: started when the spider opens, finished when it closes
    "crawler.extensions.RunRecorder": 110,
}
DOWNLOADER_MIDDLEWARES = {
    # Scrapy's own, fixed: every request that waited for robots.txt is checked against it
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.RobotsEveryRequestMiddleware": 100,
    # before HttpProxyMiddleware (750), which turns meta["proxy"] into the connection
    "crawler.middlewares.MirrorMiddleware": 740,
    "crawler.middlewares.ConditionalRequestMiddleware": 560,
    # sees the raw body before HttpCompressionMiddleware (590) decodes it
    "crawler.middlewares.TruncatedGzipMiddleware": 595,
    # sees decoded bodies (after 590) and the status before RetryMiddleware (550) does
    "crawler.middlewares.BlockedPageMiddleware": 580,
}
ITEM_PIPELINES = {
    "crawler.pipelines.DocumentPipeline": 300,
    "crawler.pipelines.StorePipeline": 800,
}

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"

# Scrapy's remote-control HTTP endpoint is not needed by a scheduled crawl.
REMOTE_CONTROL_ENABLED = False
