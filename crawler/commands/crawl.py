"""``scrapy crawl``: Scrapy's own command, except that it exits 1 when the spider closed for
any reason but ``finished`` (``workers-failed``, ``shutdown``, ...).

Scrapy exits 0 whenever the crawl got started, so a job whose workers could not run looked
like any other to scrapyd (which logs ``Process died: exitstatus=1`` only for a non-zero
status) and to cron. ``djcrawl crawl`` says the same through its run's status.
"""

from __future__ import annotations

from scrapy import signals
from scrapy.commands.crawl import Command as ScrapyCrawl

__all__ = ["Command"]


class Command(ScrapyCrawl):
    close_reason: str | None = None

    def _create_crawler(self, spidercls):
        crawler = super()._create_crawler(spidercls)
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)
        return crawler

    def _spider_closed(self, spider, reason: str) -> None:
        self.close_reason = reason

    def run(self, args, opts) -> None:
        super().run(args, opts)
        if not self.exitcode and self.close_reason != "finished":
            self.exitcode = 1
