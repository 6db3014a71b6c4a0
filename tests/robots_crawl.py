"""``python tests/robots_crawl.py MIDDLEWARE``: one Scrapy crawl, through the offline mirror, of a
few requests to one host that all reach the robots.txt middleware before robots.txt is answered.

The mirror holds ``https://www.spp.gov.cn/robots.txt`` until every one of those requests is in
the downloader (waiting in the middleware for the host's rules), so the order is made, not
waited for. MIDDLEWARE is the robots.txt middleware to crawl with (the project's, or Scrapy's to
show what the project's fixes). Prints, as JSON, each request's outcome and the URLs the mirror
was asked for. Run from the project's root (tests/test_robots.py does).
"""

from __future__ import annotations

import json
import sys

from scrapy import Request, Spider, signals
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

from crawler.mirror.server import MirrorServer

ROBOTS = "https://www.spp.gov.cn/robots.txt"
#: the mirror's spp robots.txt says ``Disallow: /spp/private/``; the forbidden page is last, so
#: it is the third request waiting behind the first (the one that asked for robots.txt)
URLS = [
    "https://www.spp.gov.cn/spp/gjybs/index.shtml",
    "https://www.spp.gov.cn/spp/a/202012/t20201201_1.shtml",
    "https://www.spp.gov.cn/spp/b/202012/t20201201_2.shtml",
    "https://www.spp.gov.cn/spp/private/202012/t20201201_100001.shtml",
]


class Few(Spider):
    name = "robots-few"
    outcomes: dict[str, str] = {}

    async def start(self):
        for url in URLS:
            yield Request(url, callback=self.fetched, errback=self.failed, dont_filter=True)

    def fetched(self, response):
        self.outcomes[response.url] = "fetched"

    def failed(self, failure):
        self.outcomes[failure.request.url] = str(failure.value)


def main(middleware: str) -> None:
    settings = get_project_settings()  # crawler/settings.py, through scrapy.cfg
    mirror = MirrorServer().start()
    settings.setdict(dict(
        DJ_MIRROR_URL=mirror.url, LOG_LEVEL="WARNING", ITEM_PIPELINES={}, EXTENSIONS={}, SPIDER_MIDDLEWARES={},
        DOWNLOAD_DELAY=0, AUTOTHROTTLE_ENABLED=False, RETRY_ENABLED=False,
        DOWNLOADER_MIDDLEWARES={**settings.getdict("DOWNLOADER_MIDDLEWARES"),
                                "crawler.middlewares.RobotsEveryRequestMiddleware": None, middleware: 100}))
    process = CrawlerProcess(settings)
    crawl = process.create_crawler(Few)
    with mirror.hold(ROBOTS) as hold:
        def watch_downloader():
            from twisted.internet import task  # LoopingCall takes the reactor: only once Scrapy installed its own

            def release_once_all_wait():
                if set(URLS) <= {r.url for r in crawl.engine.downloader.active}:
                    hold.released.set()
                    watch.stop()

            watch = task.LoopingCall(release_once_all_wait)
            watch.start(0.01)

        crawl.signals.connect(watch_downloader, signal=signals.engine_started)
        process.crawl(crawl)
        process.start()
    asked = [url for _method, url, _status, _ua in mirror.log]
    mirror.stop()
    print(json.dumps({"outcomes": Few.outcomes, "asked": asked}))


if __name__ == "__main__":
    main(sys.argv[1])
