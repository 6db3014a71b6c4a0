"""djcrawl's Scrapy project: spiders, settings, the offline mirror and the command line."""
