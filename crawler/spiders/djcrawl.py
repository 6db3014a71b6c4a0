"""The one spider: walks every configured site's channel lists and fetches new article pages
and the PDF/DOC/DOCX files they attach.

It only fetches and follows links: it yields :class:`pipelines.page.Page` records, and
what a page means (article or not, its text and metadata) is decided in the pipelines.
Per site it knows only what the site's config says: list row selector, article URL
patterns, pagination style. What earlier runs stored (known articles, whether the last
run walked its lists to the end, a list page's stored copy for a 304) it asks the
crawl's :class:`~crawler.extensions.StoreExtension`.

Each response is decoded once and parsed at most once; callback state travels in
``cb_kwargs``.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urldefrag, urljoin

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.selector import Selector
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.spidermiddlewares.httperror import HttpError

from crawler import outcomes
from crawler.extensions import RunRecorder, StoreExtension
from crawler.listkinds import NotReadable, api_request_args, issue_urls, read_api, read_script
from crawler.siteconfig import SiteConfig, load_sites
from pipelines.blocked import Blocked
from pipelines.extract import attachments_of
from pipelines.htmltree import parse_html
from pipelines.listlinks import article_links
from pipelines.page import Page

__all__ = ["DjSpider"]

# A real call, not the function's definition: createPageHTML(3, 0, "index", "shtml")
_CREATE_PAGE = re.compile(r"""createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*["']([^"']+)["']\s*,\s*["']([^"']+)["']""")
# Cheap test on the raw bytes before looking for attachment links: most pages link no file.
_FILE_LINK = re.compile(rb"\.(?:pdf|docx?)\b", re.I)


def _canonical(url: str) -> str:
    return urldefrag(url)[0]


def _as_list(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [v for v in value.split(",") if v.strip()]
    return list(value)


def _header(response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


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
        spider.configs = {c.name: c for c in load_sites(names or None, s.get("DJ_SITES_DIR") or None)}
        spider.allowed_domains = sorted({d for c in spider.configs.values() for d in c.allowed_domains})
        spider.refresh = bool(kwargs.get("refresh")) or s.getbool("DJ_REFRESH")
        spider.max_pages = int(kwargs.get("max_pages") or s.getint("DJ_MAX_PAGES") or 0)
        crawler.signals.connect(spider._dropped, signal=signals.request_dropped)
        spider.run_id: str | None = None  # the RunRecorder's, known when the crawl starts
        spider.known: set[str] = set()
        spider.walk_whole_lists: set[str] = set()
        spider.seen: set[str] = set()
        spider.requested: Counter[str] = Counter()
        spider.pending: Counter[str] = Counter()
        spider.stale_warned: set[str] = set()  # sites whose stale selector was logged this run
        return spider

    # ------------------------------------------------------------------ helpers

    @property
    def stored(self) -> StoreExtension:
        return self.crawler.get_extension(StoreExtension)

    def count(self, site: str, reason: str, n: int = 1) -> None:
        outcomes.count(self.crawler.stats, site, reason, n)

    def _budget_left(self, site: str) -> bool:
        return not self.max_pages or self.requested[site] < self.max_pages

    def _request(self, cfg: SiteConfig, url: str, callback, *, dont_filter: bool = False, meta=None,
                 http: dict | None = None, **state) -> scrapy.Request:
        """``url`` is the page's key (in ``seen``, ``pages`` and the callback's ``url``); ``http``
        the request itself when it differs (an API list's method, URL and body)."""
        self.requested[cfg.name] += 1
        self.pending[cfg.name] += 1
        self.seen.add(url)
        http = http or {"url": url}
        return scrapy.Request(callback=callback, errback=self.on_error, dont_filter=dont_filter,
                              meta=meta or {}, cb_kwargs={"site": cfg.name, "url": url, **state}, **http)

    def _list_request(self, cfg: SiteConfig, url: str, page_index: int) -> scrapy.Request:
        if cfg.list.kind == "api":
            return self._api_request(cfg, url, page_index, 0)
        meta = {"handle_httpstatus_list": [304]}
        if not self.refresh:
            meta["dj_conditional"] = url  # ConditionalRequestMiddleware sends its stored validators
        callback = self.parse_script if cfg.list.kind == "script" else self.parse_list
        return self._request(cfg, url, callback, meta=meta, page_index=page_index)

    def _api_request(self, cfg: SiteConfig, endpoint: str, page_index: int, rows: int) -> scrapy.Request:
        """Page ``page_index`` (0 = the first) of an API list; ``rows``: items on the pages before."""
        api = cfg.list.api
        key, http, method = api_request_args(api, endpoint, api.first_page + page_index)
        meta = {"handle_httpstatus_list": [304]}
        if not self.refresh and method == "GET":
            meta["dj_conditional"] = key
        return self._request(cfg, key, self.parse_api, meta=meta, http=http, page_index=page_index,
                             endpoint=endpoint, rows=rows)

    def _done(self, site: str) -> None:
        self.pending[site] -= 1

    def _fetched(self, site: str, article: bool) -> None:
        stats = self.crawler.stats
        names = ("pages_fetched", "article_pages_fetched") if article else ("pages_fetched",)
        for name in names:
            stats.inc_value(outcomes.total_key(name))
            stats.inc_value(outcomes.site_key(site, name))

    def _page(self, response, site: str, url: str, kind: str, encoding: str | None = None, **fields) -> Page:
        return Page(url=url, site=site, kind=kind, status=response.status, body=response.body, run_id=self.run_id,
                    final_url=response.url, content_type=_header(response, "Content-Type"),
                    encoding=encoding if response.body else None,
                    etag=_header(response, "ETag"), last_modified=_header(response, "Last-Modified"), **fields)

    # ------------------------------------------------------------------ crawl

    async def start(self):
        # what is already stored is not fetched again (unless --refresh)
        self.known = set() if self.refresh else self.stored.known_article_urls()
        # A list may be left at its first all-known page only if the site's last run walked its
        # lists to the end: after a killed, interrupted or --max-pages-cut run, or one where a
        # list page failed, older pages can still hold articles never fetched.
        self.run_id = self.crawler.get_extension(RunRecorder).run_id
        self.walk_whole_lists = {name for name in self.configs
                                 if self.stored.must_walk_whole_lists(name, self.run_id)}
        # articles an earlier run failed to fetch are asked for again, whether or not this
        # run's list walks reach their links (a walk stops at its first all-known page)
        for request in self._ask_again():
            yield request
        for cfg in self.configs.values():
            if cfg.list.kind == "epaper":
                for request in self._issue_requests(cfg):
                    yield request
                continue
            for url in cfg.start_urls:
                if url not in self.seen and self._budget_left(cfg.name):
                    yield self._list_request(cfg, url, 0)

    def _ask_again(self):
        recorder = self.crawler.get_extension(RunRecorder)
        for url, site, _attempts in recorder.articles_to_ask_again():
            cfg = self.configs.get(site)
            if cfg is None or url in self.seen or url in self.known:
                continue
            if not self._budget_left(site):
                self.count(site, "max-pages-reached")
                continue
            self.count(site, "retry-failed")
            yield self._request(cfg, url, self.parse_article)

    def _list_text(self, response, cfg: SiteConfig, url: str) -> tuple[str, str, Page | None] | None:
        """A list answer's text, the URL its links are read against, and the page to keep; a 304
        (unchanged since the last run) is read from the stored copy and keeps nothing new.
        None: a 304 whose stored copy is gone."""
        if response.status == 304:
            self.count(cfg.name, "not-modified")
            stored = self.stored.get_page(url)
            if stored is None:
                return None
            text, _ = cfg.decode(stored.body, stored.content_type, stored.encoding)
            return text, stored.final_url or url, None
        text, encoding = cfg.decode(response.body, _header(response, "Content-Type"))
        return text, response.url, self._page(response, cfg.name, url, "list", encoding)

    def parse_list(self, response, site: str, url: str, page_index: int):
        cfg = self.configs[site]
        try:
            self._fetched(site, article=False)
            read = self._list_text(response, cfg, url)
            if read is None:
                return
            text, base, page = read
            if page is not None:
                yield page
            sel = Selector(text=text)

            links = []
            for node in sel.css(cfg.list.link_selector):
                for href in node.xpath("self::a/@href | .//a/@href").getall():
                    link = _canonical(urljoin(base, href.strip()))
                    if cfg.is_article_url(link) and link not in links:
                        links.append(link)
            if not links and text.strip():
                # the selector found nothing on a page that has a body (a 200's, or the stored
                # copy behind a 304: the same page): the site may have been redesigned; find
                # the list without the selector rather than stop the site
                links = self._links_without_selector(cfg, sel, base)
            if not links:
                self.count(site, "list-without-articles")
            if not (yield from self._follow(cfg, links)):
                return
            next_url = self._next_list_page(cfg, url, base, text, sel)
            if next_url and next_url not in self.seen and page_index + 1 < cfg.list.max_pages:
                if self._budget_left(site):
                    yield self._list_request(cfg, next_url, page_index + 1)
                else:
                    self.count(site, "max-pages-reached")
            elif next_url and next_url not in self.seen:
                # the list goes on past list.max_pages (or its pager never ends): cut, and said so
                self.count(site, "list-max-pages")
        finally:
            self._done(site)

    def _follow(self, cfg: SiteConfig, links: list[str], stop_when_known: bool = True):
        """Request the list page's articles not known yet; returns whether the walk down the list
        goes on (not when --max-pages cut it or, incrementally, every article was known)."""
        site = cfg.name
        new = [u for u in links if u not in self.known]
        for link in new:
            if link in self.seen:
                continue
            if not self._budget_left(site):
                self.count(site, "max-pages-reached")
                return False
            yield self._request(cfg, link, self.parse_article)
        if len(links) > len(new):
            self.count(site, "skipped-known", len(links) - len(new))
        # a list page holding only known articles ends the walk down this list
        if stop_when_known and links and not new and not self.refresh and site not in self.walk_whole_lists:
            self.count(site, "list-stop-all-known")
            return False
        return True

    def _more_list(self, cfg: SiteConfig, page_index: int, request):
        """The list's next page (``request`` builds it), unless list.max_pages or --max-pages says no."""
        if page_index + 1 >= cfg.list.max_pages:
            self.count(cfg.name, "list-max-pages")
        elif not self._budget_left(cfg.name):
            self.count(cfg.name, "max-pages-reached")
        else:
            yield request()

    def parse_api(self, response, site: str, url: str, page_index: int, endpoint: str, rows: int):
        """One page of an API list (``list.kind = "api"``): its items' article URLs, then the next
        page until one is empty, the total count is reached or list.max_pages."""
        cfg = self.configs[site]
        try:
            self._fetched(site, article=False)
            read = self._list_text(response, cfg, url)
            if read is None:
                return
            text, _base, page = read
            if page is not None:
                yield page
            try:
                answer = read_api(cfg.list.api, text, response.url)
            except NotReadable as exc:
                self.count(site, "list-unreadable")
                self.logger.warning("%s: list %s unreadable: %s", site, url, exc)
                return
            links = [u for u in answer.urls if cfg.is_article_url(u)]
            if answer.n_items and not links:
                self.count(site, "list-without-articles")
            if not answer.n_items:
                return  # an empty page: the list's end
            if not (yield from self._follow(cfg, links)):
                return
            rows += answer.n_items
            if answer.total is not None and rows >= answer.total:
                return
            yield from self._more_list(cfg, page_index,
                                       lambda: self._api_request(cfg, endpoint, page_index + 1, rows))
        finally:
            self._done(site)

    def parse_script(self, response, site: str, url: str, page_index: int):
        """A list held in an inline ``<script>`` array (``list.kind = "script"``): one page, its
        items' article URLs."""
        cfg = self.configs[site]
        try:
            self._fetched(site, article=False)
            read = self._list_text(response, cfg, url)
            if read is None:
                return
            text, base, page = read
            if page is not None:
                yield page
            scripts = Selector(text=text).xpath("//script[not(@src)]/text()").getall() if text.strip() else []
            try:
                answer = read_script(cfg.list.script, scripts, base)
            except NotReadable as exc:
                self.count(site, "list-unreadable")
                self.logger.warning("%s: list %s unreadable: %s", site, url, exc)
                return
            links = [u for u in answer.urls if cfg.is_article_url(u)]
            if not links:
                self.count(site, "list-without-articles")
            yield from self._follow(cfg, links)
        finally:
            self._done(site)

    # ------------------------------------------------------------------ e-papers

    def _issue_requests(self, cfg: SiteConfig):
        """Today's issue and the ``days_back`` before it; an issue whose first page an earlier run
        stored is not walked again (unless --refresh, or the site's last run was cut short)."""
        for url in issue_urls(cfg.list.epaper):
            if url in self.seen:
                continue
            if not self.refresh and cfg.name not in self.walk_whole_lists:
                stored = self.stored.get_page(url)
                if stored is not None and stored.status == 200:
                    self.count(cfg.name, "epaper-issue-known")
                    continue
            if not self._budget_left(cfg.name):
                self.count(cfg.name, "max-pages-reached")
                return
            yield self._request(cfg, url, self.parse_issue, meta={"handle_httpstatus_list": [404]}, page_index=0)

    def _epaper_links(self, sel: Selector, base: str, css: str) -> list[str]:
        links = []
        for node in sel.css(css):
            for href in node.xpath("self::*/@href | .//@href").getall():
                link = _canonical(urljoin(base, href.strip()))
                if link not in links:
                    links.append(link)
        return links

    def parse_issue(self, response, site: str, url: str, page_index: int):
        """An issue's first page (``list.kind = "epaper"``): its articles, then its other pages."""
        cfg = self.configs[site]
        try:
            self._fetched(site, article=False)
            if response.status == 404:
                self.count(site, "epaper-no-issue")  # no paper that day (or not yet)
                return
            text, encoding = cfg.decode(response.body, _header(response, "Content-Type"))
            yield self._page(response, site, url, "list", encoding)
            sel = Selector(text=text)
            epaper = cfg.list.epaper
            links = [u for u in self._epaper_links(sel, response.url, epaper.article_selector) if cfg.is_article_url(u)]
            if not (yield from self._follow(cfg, links, stop_when_known=False)):
                return
            pages = [u for u in self._epaper_links(sel, response.url, epaper.page_selector)
                     if re.search(epaper.page_pattern, u) and u != url and u != response.url]
            if not pages and not links:
                self.count(site, "list-without-articles")
            for n, page in enumerate(pages, 1):
                if page in self.seen:
                    continue
                if n >= cfg.list.max_pages:
                    self.count(site, "list-max-pages")
                    return
                if not self._budget_left(site):
                    self.count(site, "max-pages-reached")
                    return
                yield self._request(cfg, page, self.parse_epaper_page, page_index=n)
        finally:
            self._done(site)

    def parse_epaper_page(self, response, site: str, url: str, page_index: int):
        """One page (版面) of an issue: its article links (``list.epaper`` ``article_selector``)."""
        cfg = self.configs[site]
        try:
            self._fetched(site, article=False)
            text, encoding = cfg.decode(response.body, _header(response, "Content-Type"))
            yield self._page(response, site, url, "list", encoding)
            links = [u for u in self._epaper_links(Selector(text=text), response.url, cfg.list.epaper.article_selector)
                     if cfg.is_article_url(u)]
            if not links:
                self.count(site, "list-without-articles")
            yield from self._follow(cfg, links, stop_when_known=False)
        finally:
            self._done(site)

    def _links_without_selector(self, cfg: SiteConfig, sel: Selector, base: str) -> list[str]:
        """The list's article links found by :mod:`pipelines.listlinks` (on the tree the
        selector ran on: the page is parsed once), counted ``selector-stale`` and logged once
        a site a run. Links matching the config's article patterns are kept if any do (the
        patterns usually outlive a redesign); otherwise every one on the site's domains."""
        found = article_links(sel.root, base)
        links = [u for u in found if cfg.is_article_url(u)] or [u for u in found if cfg.owns(u)]
        if links:
            self.count(cfg.name, "selector-stale")
            if cfg.name not in self.stale_warned:
                self.stale_warned.add(cfg.name)
                self.logger.warning("%s: list.link_selector %r found no article link on %s; "
                                    "took %d links found without it (selector-stale)",
                                    cfg.name, cfg.list.link_selector, base, len(links))
        return links

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

    def parse_article(self, response, site: str, url: str):
        cfg = self.configs[site]
        try:
            self._fetched(site, article=True)
            article = _Read(cfg, response)
            page = self._page(response, site, url, "article", article.encoding)
            files = self._attachment_links(cfg, response, article)
            next_part = self._next_part(cfg, url, response, article, 1)
            if next_part:
                yield self._request(cfg, next_part, self.parse_part, article=page, n=1, files=files)
            else:
                yield from self._next_file(cfg, page, files)
        finally:
            self._done(site)

    def _attachment_links(self, cfg: SiteConfig, response, read: _Read) -> list[str]:
        """The PDF/DOC/DOCX files a page of an article links to that this run fetches: on the site's
        own domains, not yet asked for, not stored by an earlier run (unless --refresh)."""
        if not _FILE_LINK.search(response.body) or read.tree is None:
            return []
        files = []
        for url in attachments_of(read.tree, response.url, cfg.article.body_selectors):
            url = _canonical(url)
            if not cfg.owns(url) or url in self.seen:
                continue
            self.seen.add(url)  # claimed now: another article linking the same file leaves it to this one
            if url in self.known:
                self.count(cfg.name, "skipped-known")
            else:
                files.append(url)
        return files

    def _next_file(self, cfg: SiteConfig, article: Page, files: list[str]):
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
        yield self._request(cfg, files[0], self.parse_attachment, dont_filter=True, article=article,
                            files=files[1:])

    def parse_attachment(self, response, site: str, url: str, article: Page, files: list[str]):
        try:
            self._fetched(site, article=False)
            # a PDF or Word file has no text encoding
            yield self._page(response, site, url, "attachment", parent_url=article.url)
            yield from self._next_file(self.configs[site], article, files)
        finally:
            self._done(site)

    def parse_part(self, response, site: str, url: str, article: Page, n: int, files: list[str]):
        cfg = self.configs[site]
        try:
            self._fetched(site, article=True)
            part = _Read(cfg, response)
            files = files + self._attachment_links(cfg, response, part)
            article.parts.append(self._page(response, site, url, "article-part", part.encoding,
                                            part_of=article.url, part_no=n))
            next_part = self._next_part(cfg, article.url, response, part, n + 1)
            if next_part:
                yield self._request(cfg, next_part, self.parse_part, article=article, n=n + 1, files=files)
            else:
                yield from self._next_file(cfg, article, files)
        finally:
            self._done(site)

    @staticmethod
    def _next_part(cfg: SiteConfig, first_url: str, response, read: _Read, n: int) -> str | None:
        """URL of part ``n`` (1 = the second page) of a multi-page article, if the page announces it."""
        name = first_url.rsplit("/", 1)[-1]
        stem, _, ext = name.rpartition(".")
        candidate = urljoin(first_url, cfg.article.part_url.format(stem=stem, n=n, ext=ext))
        for total, cur, page_name, _ext in _CREATE_PAGE.findall(read.text):
            if page_name == stem:
                return candidate if n < int(total) else None
        # a link to the next part names its file: most pages need no parse for this
        if candidate.rsplit("/", 1)[-1] not in read.text or read.tree is None:
            return None
        hrefs = {_canonical(urljoin(response.url, h)) for h in read.tree.xpath("//a/@href")}
        return candidate if candidate in hrefs else None

    def _dropped(self, request, spider=None):
        """The scheduler refused a request as a duplicate; for a redirect that is a loop."""
        site = request.cb_kwargs.get("site")
        if site is None:
            return
        if request.url in request.meta.get("redirect_urls", ()):
            self.count(site, "redirect-loop")
            self.logger.warning("%s: %s failed: redirect-loop", site, request.cb_kwargs.get("url", request.url))
        else:
            self.count(site, "duplicate")
        self._done(site)

    def on_error(self, failure):
        request = failure.request
        state = request.cb_kwargs
        site = state.get("site", "?")
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            self.count(site, "robots-disallowed" if "robots.txt" in str(failure.value) else "ignored")
        else:
            if failure.check(Blocked):  # an anti-bot wall (BlockedPageMiddleware): never retried
                reason = "blocked"
            elif failure.check(HttpError):
                reason = f"http-{failure.value.response.status}"
            else:
                reason = f"error-{type(failure.value).__name__}"
            self.count(site, reason)
            if "page_index" in state:
                # the articles of this list page and the ones after it were not seen: the next
                # run must walk the lists to the end (see start)
                self.count(site, "list-failed")
            self.logger.warning("%s: %s failed: %s", site, state.get("url", request.url), reason)
            if request.callback == self.parse_article and outcomes.retriable(reason):
                self.crawler.get_extension(RunRecorder).article_failed(state["url"], site, reason)
        try:
            article = state.get("article")
            if article is not None:
                if "n" in state:
                    # a later part is missing: keep what was fetched rather than lose the article
                    self.count(site, "article-incomplete")
                # (a failed file is counted above; the article and its other files go on)
                yield from self._next_file(self.configs[site], article, state.get("files", []))
        finally:
            self._done(site)


class _Read:
    """A response decoded once (with the site's encoding hint) and parsed at most once, when
    a link has to be looked up in it."""

    def __init__(self, cfg: SiteConfig, response):
        self.text, self.encoding = cfg.decode(response.body, _header(response, "Content-Type"))
        self._tree = None
        self._parsed = False

    @property
    def tree(self):
        if not self._parsed:
            self._tree, self._parsed = parse_html(self.text), True
        return self._tree
