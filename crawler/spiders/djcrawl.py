"""The one spider: walks every configured site's channel lists and fetches new article pages
and the PDF/DOC/DOCX files they attach.

It only fetches and follows links; what a page or file means (article or not, its text
and metadata) is decided in the pipelines. Per site it knows only what the
site's config says: list row selector, article URL patterns, pagination style.
"""

from __future__ import annotations

import re
import sys
import uuid
from collections import Counter
from urllib.parse import urldefrag, urljoin

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.selector import Selector
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.spidermiddlewares.httperror import HttpError

from crawler.items import PageItem, PagePart
from crawler.siteconfig import SiteConfig, load_sites
from pipelines.attachments import attachment_urls
from pipelines.decode import decode_bytes
from pipelines.store import Store

__all__ = ["DjSpider", "count_key"]

# A real call, not the function's definition: createPageHTML(3, 0, "index", "shtml")
_CREATE_PAGE = re.compile(r"""createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*["']([^"']+)["']\s*,\s*["']([^"']+)["']""")
# Cheap test on the raw bytes before looking for attachment links: most pages link no file.
_FILE_LINK = re.compile(rb"\.(?:pdf|docx?)\b", re.I)


def count_key(site: str, reason: str) -> str:
    """Stats key of one (site, reason) outcome; copied to crawl_run_counts when the run ends."""
    return f"djcrawl/count/{site}/{reason}"


def _canonical(url: str) -> str:
    return urldefrag(url)[0]


def _as_list(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [v for v in value.split(",") if v.strip()]
    return list(value)


class DjSpider(scrapy.Spider):
    name = "djcrawl"

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        # the User-Agent names the project and DJ_CONTACT (so `-s DJ_CONTACT=...` is enough);
        # a USER_AGENT given explicitly on the command line is kept as is
        if (settings.getpriority("USER_AGENT") or 0) <= SETTINGS_PRIORITIES["project"]:
            # spider priority: `scrapy crawl` re-applies the project settings over the crawler's
            settings.set("USER_AGENT", f"djcrawl/0.1 (+{settings.get('DJ_CONTACT')})", priority="spider")

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        s = crawler.settings
        names = _as_list(kwargs.get("sites")) or _as_list(s.get("DJ_SITES"))
        spider.configs = {c.name: c for c in load_sites(names or None)}
        spider.allowed_domains = sorted({d for c in spider.configs.values() for d in c.allowed_domains})
        spider.refresh = bool(kwargs.get("refresh")) or s.getbool("DJ_REFRESH")
        spider.max_pages = int(kwargs.get("max_pages") or s.getint("DJ_MAX_PAGES") or 0)
        spider.run_id = s.get("DJ_RUN_ID") or uuid.uuid4().hex[:12]
        spider.progress = s.getbool("DJ_PROGRESS")
        store = kwargs.get("store")
        spider.owns_store = store is None
        # `scrapy crawl djcrawl` opens the database itself; `djcrawl crawl` passes its open Store
        spider.store = store if store is not None else Store(s.get("DJ_DUCKDB_PATH"))
        # closed after spider_closed, so the store pipeline can still finish the run row
        crawler.signals.connect(spider._close_store, signal=signals.engine_stopped)
        crawler.signals.connect(spider._dropped, signal=signals.request_dropped)
        spider.known: set[str] = set()
        spider.walk_whole_lists: set[str] = set()
        spider.seen: set[str] = set()
        spider.requested: Counter[str] = Counter()
        spider.pending: Counter[str] = Counter()
        return spider

    def _close_store(self):
        if self.owns_store and self.store is not None:
            self.store.close()
            self.store = None

    # ------------------------------------------------------------------ helpers

    def count(self, site: str, reason: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(count_key(site, reason), n)

    def _budget_left(self, site: str) -> bool:
        return not self.max_pages or self.requested[site] < self.max_pages

    def _request(self, cfg: SiteConfig, url: str, callback, *, dont_filter: bool = False, **meta) -> scrapy.Request:
        self.requested[cfg.name] += 1
        self.pending[cfg.name] += 1
        self.seen.add(url)
        return scrapy.Request(
            url, callback=callback, errback=self.on_error, dont_filter=dont_filter,
            meta={"dj_site": cfg.name, "dj_url": url, **meta},
        )

    def _list_request(self, cfg: SiteConfig, url: str, page_index: int) -> scrapy.Request:
        meta = {"dj_page_index": page_index, "handle_httpstatus_list": [304]}
        if not self.refresh:
            meta["dj_validators"] = self.store.page_validators(url)
        return self._request(cfg, url, self.parse_list, **meta)

    def _done(self, site: str) -> None:
        self.pending[site] -= 1
        if self.pending[site] == 0 and self.progress:
            stats = self.crawler.stats
            fetched = stats.get_value(f"djcrawl/site/{site}/pages_fetched", 0)
            articles = stats.get_value(f"djcrawl/site/{site}/article_pages_fetched", 0)
            errors = stats.get_value(f"djcrawl/site/{site}/errors", 0)
            print(f"[{site}] done: {fetched} pages fetched, {articles} article pages, {errors} errors",
                  file=sys.stderr, flush=True)

    def _fetched(self, response, site: str, article: bool) -> None:
        stats = self.crawler.stats
        for key in ("djcrawl/pages_fetched", f"djcrawl/site/{site}/pages_fetched"):
            stats.inc_value(key)
        if article:
            for key in ("djcrawl/article_pages_fetched", f"djcrawl/site/{site}/article_pages_fetched"):
                stats.inc_value(key)

    @staticmethod
    def _page_item(response, site: str, kind: str) -> PageItem:
        h = response.headers
        text = lambda name: h.get(name).decode("latin-1") if h.get(name) else None  # noqa: E731
        return PageItem(
            url=response.meta["dj_url"], final_url=response.url, site=site, status=response.status,
            kind=kind, body=response.body, content_type=text("Content-Type"),
            etag=text("ETag"), last_modified=text("Last-Modified"),
        )

    # ------------------------------------------------------------------ crawl

    async def start(self):
        # what is already stored is not fetched again (unless --refresh)
        self.known = set() if self.refresh else self.store.known_article_urls()
        # A list may be left at its first all-known page only if the site's last run walked its
        # lists to the end: after a killed, interrupted or --max-pages-cut run, or one where a
        # list page failed, older pages can still hold articles never fetched.
        self.walk_whole_lists = set()
        for name in self.configs:
            status, reasons = self.store.last_run_of_site(name, exclude_run=self.run_id)
            if status is not None and (status != "finished" or reasons & {"max-pages-reached", "list-failed"}):
                self.walk_whole_lists.add(name)
        for cfg in self.configs.values():
            for url in cfg.start_urls:
                if url not in self.seen and self._budget_left(cfg.name):
                    yield self._list_request(cfg, url, 0)

    def parse_list(self, response):
        site = response.meta["dj_site"]
        cfg = self.configs[site]
        url = response.meta["dj_url"]
        try:
            self._fetched(response, site, article=False)
            if response.status == 304:
                # unchanged since the last run: read its links from the stored copy
                self.count(site, "not-modified")
                stored = self.store.get_page(url)
                if stored is None:
                    return
                body, content_type, base = stored.body, stored.content_type, stored.final_url or url
            else:
                yield self._page_item(response, site, "list")
                body, content_type, base = response.body, response.headers.get("Content-Type"), response.url
                if isinstance(content_type, bytes):
                    content_type = content_type.decode("latin-1")
            text, _ = decode_bytes(body, cfg.content_type_for(body, content_type))
            sel = Selector(text=text)

            links = []
            for node in sel.css(cfg.list.link_selector):
                for href in node.xpath("self::a/@href | .//a/@href").getall():
                    link = _canonical(urljoin(base, href.strip()))
                    if cfg.is_article_url(link) and link not in links:
                        links.append(link)
            if not links:
                self.count(site, "list-without-articles")
            new = [u for u in links if u not in self.known]
            for link in new:
                if link in self.seen:
                    continue
                if not self._budget_left(site):
                    self.count(site, "max-pages-reached")
                    return
                yield self._request(cfg, link, self.parse_article)
            if len(links) > len(new):
                self.count(site, "skipped-known", len(links) - len(new))

            # a list page holding only known articles ends the walk down this list
            if links and not new and not self.refresh and site not in self.walk_whole_lists:
                self.count(site, "list-stop-all-known")
                return
            next_url = self._next_list_page(cfg, url, base, text, sel)
            page_index = response.meta["dj_page_index"] + 1
            if next_url and next_url not in self.seen and page_index < cfg.list.max_pages:
                if self._budget_left(site):
                    yield self._list_request(cfg, next_url, page_index)
                else:
                    self.count(site, "max-pages-reached")
            elif next_url and next_url not in self.seen:
                # the list goes on past list.max_pages (or its pager never ends): cut, and said so
                self.count(site, "list-max-pages")
        finally:
            self._done(site)

    @staticmethod
    def _next_list_page(cfg: SiteConfig, url: str, base: str, text: str, sel: Selector) -> str | None:
        m = re.search(cfg.list.page_number_pattern, url)
        number = int(m.group(1)) if m else cfg.list.first_next_number - 1
        candidate = urljoin(url, cfg.list.page_url.replace("{n}", str(number + 1)))
        if cfg.list.pagination == "createPageHTML":
            for total, cur, _name, _ext in _CREATE_PAGE.findall(text):
                return candidate if int(cur) + 1 < int(total) else None
            return None
        hrefs = {_canonical(urljoin(base, h.strip())) for h in sel.xpath("//a/@href").getall()}
        return candidate if candidate in hrefs else None

    def parse_article(self, response):
        site = response.meta["dj_site"]
        cfg = self.configs[site]
        try:
            self._fetched(response, site, article=True)
            item = self._page_item(response, site, "article")
            files = self._attachment_links(cfg, response)
            next_part = self._next_part(cfg, item.url, response, 1)
            if next_part:
                yield self._request(cfg, next_part, self.parse_part, dj_article=item, dj_part=1, dj_files=files)
            else:
                yield from self._next_file(cfg, item, files)
        finally:
            self._done(site)

    def _attachment_links(self, cfg: SiteConfig, response) -> list[str]:
        """The PDF/DOC/DOCX files a page of an article links to that this run fetches: on the site's
        own domains, not yet asked for, not stored by an earlier run (unless --refresh)."""
        if not _FILE_LINK.search(response.body):
            return []
        text, _ = decode_bytes(response.body, cfg.content_type_for(response.body, self._content_type(response)))
        files = []
        for url in attachment_urls(text, response.url):
            url = _canonical(url)
            if not cfg.owns(url) or url in self.seen:
                continue
            self.seen.add(url)  # claimed now: another article linking the same file leaves it to this one
            if url in self.known:
                self.count(cfg.name, "skipped-known")
            else:
                files.append(url)
        return files

    def _next_file(self, cfg: SiteConfig, article: PageItem, files: list[str]):
        """Fetch an article's files one after the other, then hand on the article itself.

        The article page is stored after its files, so a crawl killed in between fetches the
        article again next time and finds the files it is missing. Files complete an article
        already fetched, like its later parts, so --max-pages does not cut them off.
        """
        if not files:
            yield article
            return
        # dont_filter: a file redirected to a URL already fetched must still come back here (its
        # errback goes on with the chain); a dropped request would lose the article
        yield self._request(cfg, files[0], self.parse_attachment, dont_filter=True, dj_article=article,
                            dj_files=files[1:])

    @staticmethod
    def _content_type(response) -> str | None:
        value = response.headers.get("Content-Type")
        return value.decode("latin-1") if value else None

    def parse_attachment(self, response):
        site = response.meta["dj_site"]
        try:
            self._fetched(response, site, article=False)
            item = self._page_item(response, site, "attachment")
            article: PageItem = response.meta["dj_article"]
            item.parent_url = article.url
            yield item
            yield from self._next_file(self.configs[site], article, response.meta["dj_files"])
        finally:
            self._done(site)

    def parse_part(self, response):
        site = response.meta["dj_site"]
        cfg = self.configs[site]
        try:
            self._fetched(response, site, article=True)
            item: PageItem = response.meta["dj_article"]
            files = response.meta["dj_files"] + self._attachment_links(cfg, response)
            content_type = response.headers.get("Content-Type")
            item.parts.append(PagePart(
                url=response.meta["dj_url"], final_url=response.url, status=response.status,
                body=response.body, content_type=content_type.decode("latin-1") if content_type else None,
            ))
            n = response.meta["dj_part"] + 1
            next_part = self._next_part(cfg, item.url, response, n)
            if next_part:
                yield self._request(cfg, next_part, self.parse_part, dj_article=item, dj_part=n, dj_files=files)
            else:
                yield from self._next_file(cfg, item, files)
        finally:
            self._done(site)

    @staticmethod
    def _next_part(cfg: SiteConfig, first_url: str, response, n: int) -> str | None:
        """URL of part ``n`` (1 = the second page) of a multi-page article, if the page announces it."""
        name = first_url.rsplit("/", 1)[-1]
        stem, _, ext = name.rpartition(".")
        candidate = urljoin(first_url, cfg.article.part_url.format(stem=stem, n=n, ext=ext))
        text, _ = decode_bytes(response.body, None)
        for total, cur, page_name, _ext in _CREATE_PAGE.findall(text):
            if page_name == stem:
                return candidate if n < int(total) else None
        hrefs = {_canonical(urljoin(response.url, h)) for h in Selector(text=text).xpath("//a/@href").getall()}
        return candidate if candidate in hrefs else None

    def _dropped(self, request, spider=None):
        """The scheduler refused a request as a duplicate; for a redirect that is a loop."""
        site = request.meta.get("dj_site")
        if site is None:
            return
        if request.url in request.meta.get("redirect_urls", ()):
            self.count(site, "redirect-loop")
            for key in ("djcrawl/errors", f"djcrawl/site/{site}/errors"):
                self.crawler.stats.inc_value(key)
            self.logger.warning("%s: %s failed: redirect-loop", site, request.meta.get("dj_url", request.url))
        else:
            self.count(site, "duplicate")
        self._done(site)

    def on_error(self, failure):
        request = failure.request
        site = request.meta.get("dj_site", "?")
        stats = self.crawler.stats
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            message = str(failure.value)
            self.count(site, "robots-disallowed" if "robots.txt" in message else "ignored")
        else:
            if failure.check(HttpError):
                reason = f"http-{failure.value.response.status}"
            else:
                reason = f"error-{type(failure.value).__name__}"
            self.count(site, reason)
            if "dj_page_index" in request.meta:
                # the articles of this list page and the ones after it were not seen: the next
                # run must walk the lists to the end (see start)
                self.count(site, "list-failed")
            for key in ("djcrawl/errors", f"djcrawl/site/{site}/errors"):
                stats.inc_value(key)
            self.logger.warning("%s: %s failed: %s", site, request.meta.get("dj_url", request.url), reason)
        try:
            article = request.meta.get("dj_article")
            if article is not None:
                if "dj_part" in request.meta:
                    # a later part is missing: keep what was fetched rather than lose the article
                    self.count(site, "article-incomplete")
                # (a failed file is counted above; the article and its other files go on)
                yield from self._next_file(self.configs[site], article, request.meta.get("dj_files", []))
        finally:
            self._done(site)
