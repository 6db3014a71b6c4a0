"""Scrapy commands of the project (``COMMANDS_MODULE``): ``scrapy crawl`` as scrapyd and
cron run it, with an exit status that says whether the crawl finished."""
