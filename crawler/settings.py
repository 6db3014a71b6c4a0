"""Scrapy settings of djcrawl: polite by default.

djcrawl's own settings all start with ``DJ_``; each can be overridden with
``-s NAME=value`` (``scrapy crawl``) or by the ``djcrawl crawl`` options.
"""

import os

BOT_NAME = "djcrawl"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# --- djcrawl
#: DuckDB file the crawl writes (pages, documents, crawl_runs).
DJ_DUCKDB_PATH = os.environ.get("DJCRAWL_DB", "data/djcrawl.duckdb")
#: Who to write to about this crawler; goes into the User-Agent.
DJ_CONTACT = os.environ.get("DJCRAWL_CONTACT", "https://github.com/djcrawl/djcrawl")
#: ``http://127.0.0.1:PORT`` of the offline mirror; empty = crawl the real sites.
DJ_MIRROR_URL = ""
#: Fetch known article pages again and page through whole lists.
DJ_REFRESH = False
#: Stop a site after this many requests (0 = no limit).
DJ_MAX_PAGES = 0
#: Sites to crawl (names of seeds/sites/*.toml); empty = all.
DJ_SITES = []
#: Id of the crawl_runs row (set by `djcrawl crawl`; generated otherwise).
DJ_RUN_ID = ""
#: Pages and documents are written in batches of this many.
DJ_BATCH_SIZE = 50
#: Processes that make documents out of fetched pages (0 = the crawl process itself).
#: Default one per core: on 2 cores, 2 workers crawl the loopback mirror 1.8x as fast as
#: the crawl process alone, 1 worker 1.4x; each worker holds ~190 MB of dictionaries
#: (benchmarks/README.md, "Crawl").
DJ_WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

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

DOWNLOADER_MIDDLEWARES = {
    # before HttpProxyMiddleware (750), which turns meta["proxy"] into the connection
    "crawler.middlewares.MirrorMiddleware": 740,
    "crawler.middlewares.ConditionalRequestMiddleware": 560,
    # sees the raw body before HttpCompressionMiddleware (590) decodes it
    "crawler.middlewares.TruncatedGzipMiddleware": 595,
}
ITEM_PIPELINES = {
    "pipelines.scrapy_pipelines.DocumentPipeline": 300,
    "pipelines.scrapy_pipelines.StorePipeline": 800,
}

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"

# Scrapy's remote-control HTTP endpoint is not needed by a scheduled crawl.
REMOTE_CONTROL_ENABLED = False
