"""Downloader middlewares: robots.txt for every request, the offline mirror switch, conditional
list requests, cut gzip bodies and anti-bot walls."""

from __future__ import annotations

import zlib
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from pipelines.blocked import Blocked, blocked_rule

from .extensions import StoreExtension
from .siteconfig import load_sites

__all__ = ["RobotsEveryRequestMiddleware", "MirrorMiddleware", "ConditionalRequestMiddleware", "TruncatedGzipMiddleware", "TruncatedBody",
           "BlockedPageMiddleware"]


class RobotsEveryRequestMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with every request waiting for robots.txt checked against it.

    Scrapy 2.19's waits for a host's robots.txt by awaiting one shared Deferred; under the asyncio
    reactor each await turns it into a Future, which takes the Deferred's result and leaves None
    for the next waiter, and None means "no robots.txt, allow everything". So of the requests that
    reach a host before its robots.txt has arrived, the second one waiting and every later one
    were fetched unchecked: a frontier node that popped three requests of a host at once fetched
    the page robots.txt forbids. Here each waiter gets a Deferred of its own, fired with the
    parser and passing it on. Uses ``_parsers``, the middleware's private table (Scrapy is pinned).
    """

    async def robot_parser(self, request):
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)
        mine: Deferred = Deferred()

        def hand_on(parser):
            mine.callback(parser)
            return parser

        pending.addCallback(hand_on)
        return await maybe_deferred_to_future(mine)


class MirrorMiddleware:
    """With ``DJ_MIRROR_URL`` set, send every request for a configured host to the mirror.

    The mirror is used as an HTTP proxy, so the request keeps its real URL (and the
    stored ``url`` is the site's), robots.txt is asked of the same host, and the
    configs run unchanged. Requests for other hosts are dropped: a mirror run
    must never reach the network.
    """

    def __init__(self, mirror_url: str, hosts: set[str]):
        self.mirror_url = mirror_url.rstrip("/")
        self.hosts = hosts

    @classmethod
    def from_crawler(cls, crawler):
        mirror = crawler.settings.get("DJ_MIRROR_URL") or ""
        sites = load_sites(directory=crawler.settings.get("DJ_SITES_DIR") or None, every=True) if mirror else []
        hosts = {d for cfg in sites for d in cfg.allowed_domains}
        return cls(mirror, hosts)

    def process_request(self, request):
        if not self.mirror_url:
            return None
        host = (urlsplit(request.url).hostname or "").lower()
        if host not in self.hosts:
            raise IgnoreRequest(f"mirror mode: {host} is not a configured host")
        request.meta["proxy"] = self.mirror_url
        return None


class ConditionalRequestMiddleware:
    """Ask for list pages with the validators of their last fetch (``If-None-Match``, ``If-Modified-Since``).

    The spider marks a list request with ``meta["dj_conditional"] = <page URL>`` (not with
    ``--refresh``); the validators stored for that URL come from the crawl's
    :class:`~crawler.extensions.StoreExtension`. A 304 answer is let through to the
    spider, which then reads the stored body.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        url = request.meta.get("dj_conditional")
        if not url:
            return None
        etag, last_modified = self.crawler.get_extension(StoreExtension).validators(url)
        if etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = etag
        if last_modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = last_modified
        return None


class TruncatedBody(Exception):
    """A compressed body that ends before its stream does: part of the page is missing."""


class TruncatedGzipMiddleware:
    """Refuse gzip bodies cut short, which HttpCompressionMiddleware would quietly decode in part.

    Runs just before it (590) on responses. A page missing its end must not be stored
    as if whole: the request fails with :class:`TruncatedBody`, counted as an error, and
    the page is fetched again on the next run.
    """

    def process_response(self, request, response):
        encoding = (response.headers.get(b"Content-Encoding") or b"").strip().lower()
        if encoding not in (b"gzip", b"x-gzip") or not response.body:
            return response
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            inflater.decompress(response.body)
        except zlib.error:
            return response  # not gzip at all: HttpCompressionMiddleware reports that
        if not inflater.eof:
            raise TruncatedBody(f"gzip body of {response.url} ends before its stream does")
        return response


class BlockedPageMiddleware:
    """Refuse anti-bot answers (JavaScript challenges, captcha and slider pages, cookie walls).

    Runs on responses after HttpCompressionMiddleware (590) has decoded the body and before
    RetryMiddleware (550) sees the status, so a wall (a 412 or 521 challenge, or a 503
    one) is never retried: the request fails with :class:`~pipelines.blocked.Blocked`,
    which no retry setting names; the spider counts it ``blocked`` and logs one warning
    naming the site and the URL. Recognition is :func:`pipelines.blocked.blocked_rule`.
    """

    def process_response(self, request, response):
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        rule = blocked_rule(response.status, response.body, content_type)
        if rule is None:
            return response
        raise Blocked(request.url, rule, response.status)
