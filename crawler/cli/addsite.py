"""``djcrawl add-site URL``: a draft site config from a site's front page.

This module fetches (a few pages, politely: the crawl's User-Agent, robots.txt obeyed, one
request at a time) and writes; what the pages say about the site is inferred by
:mod:`pipelines.siteprobe`. With ``--mirror`` every request goes to the offline mirror as
its HTTP proxy, as ``djcrawl crawl --mirror`` sends the crawl's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import ssl
import sys
import urllib.error
import urllib.request
import urllib.robotparser
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipelines.errors import DjcrawlError

__all__ = ["Fetched", "Fetcher", "cmd_add_site", "fetcher"]

#: Enough for any list or article page.
MAX_BYTES = 20 * 1024 * 1024
TIMEOUT = 30
#: Channel pages tried at most, and article links tried on the first list that has some.
MAX_CHANNELS = 6
MAX_ARTICLE_TRIES = 3


@dataclass
class Fetched:
    url: str
    final_url: str
    status: int
    body: bytes
    content_type: str | None
    text: str
    encoding: str
    tree: object


class Fetcher:
    """One page at a time through urllib, with the crawl's User-Agent and robots.txt rules;
    through ``proxy`` (the mirror) when given."""

    def __init__(self, proxy: str | None = None):
        from crawler.settings import USER_AGENT  # the crawl's, naming DJ_CONTACT

        self.user_agent = USER_AGENT
        handlers = []
        if proxy:
            unverified = ssl.create_default_context()
            unverified.check_hostname = False
            unverified.verify_mode = ssl.CERT_NONE  # the mirror's throw-away self-signed certificate
            handlers += [urllib.request.ProxyHandler({"http": proxy, "https": proxy}),
                         urllib.request.HTTPSHandler(context=unverified)]
        else:
            handlers.append(urllib.request.ProxyHandler({}))  # no proxy from the environment
        self.opener = urllib.request.build_opener(*handlers)
        self.proxy = proxy
        self.robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self.seen: list[tuple[str, str]] = []

    def _raw(self, url: str) -> tuple[int, bytes, str | None, str]:
        req = urllib.request.Request(url, headers={"User-Agent": self.user_agent})
        try:
            with self.opener.open(req, timeout=TIMEOUT) as resp:
                body = resp.read(MAX_BYTES + 1)
                if len(body) > MAX_BYTES:
                    raise DjcrawlError(f"{url}: larger than {MAX_BYTES // (1024 * 1024)} MB, not a web page")
                return resp.status, body, resp.headers.get("Content-Type"), resp.geturl()
        except urllib.error.HTTPError as exc:
            if self.proxy and exc.code == 502:  # the mirror's answer for a host it does not serve
                raise DjcrawlError(f"{url}: the offline mirror serves no {urlsplit(url).hostname}") from None
            raise DjcrawlError(f"{url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise DjcrawlError(f"{url}: cannot fetch: {reason}") from None

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        rules = self.robots.get(origin)
        if rules is None:
            rules = urllib.robotparser.RobotFileParser()
            try:
                _status, body, _ct, _final = self._raw(origin + "/robots.txt")
                rules.parse(body.decode("utf-8", "replace").splitlines())
            except DjcrawlError:
                rules.parse([])  # no robots.txt (or none readable): everything is allowed
            self.robots[origin] = rules
        return rules.can_fetch(self.user_agent, url)

    def get(self, url: str, role: str) -> Fetched:
        """The page at ``url`` decoded and parsed; ``role`` says what it is to the caller (kept
        in :attr:`seen`). An unreachable page, an error status, robots.txt's no or a page that
        is no HTML raise a one-line :class:`DjcrawlError`."""
        from pipelines.decode import decode_bytes
        from pipelines.htmltree import parse_html

        if urlsplit(url).scheme not in ("http", "https"):
            raise DjcrawlError(f"{url}: only http(s) URLs are fetched")
        if not self.allowed(url):
            raise DjcrawlError(f"{url}: robots.txt of the site forbids it")
        status, body, content_type, final = self._raw(url)
        text, encoding = decode_bytes(body, content_type)
        tree = parse_html(text) if b"\x00" not in body[:4096] else None
        if tree is None:
            raise DjcrawlError(f"{url}: not an HTML page")
        self.seen.append((role, url))
        return Fetched(url, final or url, status, body, content_type, text, encoding, tree)


@contextlib.contextmanager
def fetcher(use_mirror: bool):
    """A :class:`Fetcher`, through the offline mirror (one running at ``DJ_MIRROR_URL``, else
    one started here) with ``use_mirror``."""
    if not use_mirror:
        yield Fetcher()
        return
    from ..run import mirror

    with mirror(1) as url:
        yield Fetcher(proxy=url)


def _channel_lists(f: Fetcher, home: Fetched):
    """``[(channel page, name, its article links)]`` of the front page's channels that have a list."""
    from pipelines.listlinks import list_articles
    from pipelines.siteprobe import CHANNEL_WORDS, channel_links

    channels = channel_links(home.tree, home.final_url)
    if not channels:
        raise DjcrawlError(f"{home.url}: no channel link ({', '.join(CHANNEL_WORDS)}) on the page")
    out, failures = [], []
    for url, name in channels[:MAX_CHANNELS]:
        try:
            page = f.get(url, f"list page ({name})")
        except DjcrawlError as exc:
            failures.append(str(exc))
            continue
        links = [u for u, _ in list_articles(page.tree, page.final_url)]
        if len(links) >= 2:
            out.append((page, name, links))
    if not out:
        why = f" ({failures[0]})" if failures else ""
        raise DjcrawlError(f"{home.url}: no article list on the channel pages "
                           f"{', '.join(u for u, _ in channels[:MAX_CHANNELS])}{why}")
    return out


def _probe_article(f: Fetcher, links: list[str], hints):
    """The first of ``links`` that extracts as an article: ``(page, document)``."""
    from pipelines.document import Document
    from pipelines.documents import document_from_html

    tried = []
    for url in links[:MAX_ARTICLE_TRIES]:
        try:
            page = f.get(url, "article")
        except DjcrawlError as exc:
            tried.append(str(exc))
            continue
        doc = document_from_html(page.text, url=url, hints=hints)
        if isinstance(doc, Document):
            return page, doc
        tried.append(f"{url}: {doc.reason}")
    raise DjcrawlError(f"no article found: {'; '.join(tried) or 'no link to try'}")


def _discover(f: Fetcher, url: str, name: str | None):
    """The draft of the site whose front page is ``url``, and the document its probed article made
    (the steps of :mod:`pipelines.siteprobe`; a step that finds nothing ends in one error line)."""
    from pipelines.documents import SiteHints
    from pipelines.listlinks import article_links
    from pipelines.siteprobe import (Draft, body_selector, encoding_hint, link_selector, page_title, pagination,
                                     site_name, url_patterns)

    home = f.get(url, "front page")
    lists = _channel_lists(f, home)
    first, _name, links = lists[0]
    pager = pagination(first.text, first.tree, first.final_url)
    list_urls = [home.url, home.final_url, *(p.url for p, _, _ in lists), *(p.final_url for p, _, _ in lists)]
    article_urls = [u for _, _, ls in lists for u in ls]
    second = None
    if pager and pager.next_url:
        try:
            second = f.get(pager.next_url, "next list page")
            list_urls += [second.url, second.final_url]
            article_urls += article_links(second.tree, second.final_url)
        except DjcrawlError as exc:
            print(f"djcrawl: warning: the next list page cannot be read: {exc}", file=sys.stderr)
    patterns = url_patterns(list(dict.fromkeys(article_urls)), list_urls)
    if not patterns:
        raise DjcrawlError(f"{first.url}: its links cannot be told from list pages; no article URL pattern")
    selectors = [s for s in (link_selector(p.tree, p.final_url, patterns) for p, _, _ in lists) if s]
    if not selectors:
        raise DjcrawlError(f"{first.url}: no list rows found")
    compiled = [re.compile(p) for p in patterns]
    article_links_ = [u for u in links if any(p.search(u) for p in compiled)]
    page, doc = _probe_article(f, article_links_, SiteHints())
    # no block with a class or id at all: <article> if the site uses it; extraction's own
    # cascade (known containers, trafilatura) reads the page when it matches nothing
    body = body_selector(page.tree) or ("article", False)
    # the hosts of the channels and of the articles their lists link to (the mirror and the
    # crawl's offsite rules compare hosts exactly)
    hosts = [urlsplit(u).hostname for u in [*(p.final_url for p, _, _ in lists),
                                            *(u for u in article_urls if any(c.search(u) for c in compiled))]]
    draft = Draft(
        name=name or site_name(url),
        title=page_title(home.tree) or urlsplit(url).hostname,
        allowed_domains=list(dict.fromkeys(h.lower() for h in hosts if h)),
        start_urls=list(dict.fromkeys(p.final_url for p, _, _ in lists)),
        link_selector=", ".join(dict.fromkeys(selectors)),
        url_patterns=patterns,
        pagination=pager,
        body_selector=body[0],
        body_known=body[1],
        encoding_hint=encoding_hint([p.encoding for p in (home, *(p for p, _, _ in lists), page)]
                                    + ([second.encoding] if second else [])),
        discovered=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        pages=list(f.seen),
    )
    return draft, doc


def cmd_add_site(args) -> int:
    from pipelines.siteprobe import draft_toml

    from ..siteconfig import SiteConfigError, load_site, sites_dir

    if args.name is not None and not re.fullmatch(r"[a-z0-9_]+", args.name):
        raise DjcrawlError(f"--name {args.name!r}: a site name is lower-case letters, digits and _")
    out_dir = Path(args.out) if args.out else sites_dir()
    if not out_dir.is_dir():
        raise DjcrawlError(f"--out {out_dir}: no such directory")
    if args.name and (out_dir / f"{args.name}.toml").exists():
        raise DjcrawlError(f"{out_dir / (args.name + '.toml')}: exists; give another --name")
    with fetcher(args.mirror) as f:
        draft, doc = _discover(f, args.url, args.name)
    path = out_dir / f"{draft.name}.toml"
    if path.exists():
        raise DjcrawlError(f"{path}: exists; give another --name")
    path.write_text(draft_toml(draft), encoding="utf-8")
    try:
        load_site(path)
    except SiteConfigError:
        path.unlink()  # a draft the loader refuses is no draft
        raise
    p = draft.pagination
    print(f"wrote {path} (status unconfirmed)")
    print(f"  channels: {', '.join(draft.start_urls)}")
    print(f"  list rows: {draft.link_selector}")
    print(f"  article URLs: {'  '.join(draft.url_patterns)}")
    print(f"  pagination: {f'{p.style} {p.page_url}' if p else 'none seen (max_pages = 1)'}")
    print(f"  body: {draft.body_selector}{'' if draft.body_known else ' (no known container; largest block)'}"
          f"; encoding: {draft.encoding_hint or 'utf-8'}")
    print(f"  article probed: {doc.url}: {doc.title!r}, {doc.published or 'no date'}, {len(doc.text)} characters")
    print(f"check it: djcrawl sites --check {draft.name}{' --mirror' if args.mirror else ''}")
    return 0
