"""Site configs: what djcrawl knows about one site, read from ``seeds/sites/<site>.toml``.

Site knowledge is data, so a new site or a changed layout is a TOML edit. Every
config is validated on load; a bad one raises :class:`SiteConfigError` naming the
file and the field, never a traceback from deep inside the crawl.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from urllib.parse import urlsplit

from parsel.csstranslator import css2xpath  # the same CSS dialect Scrapy selectors use
from lxml.etree import XPath, XPathSyntaxError

from pipelines.decode import decode_as, decode_bytes, hinted_content_type
from pipelines.documents import SiteHints
from pipelines.errors import DjcrawlError

from .settings import from_env

__all__ = ["SiteConfig", "SiteConfigError", "load_site", "load_sites", "sites_dir", "META_KEYS", "STATUSES",
           "DEFAULT_CRAWL_STATUSES", "CITABLE_FIELDS", "required_cited"]

#: Metadata keys a config may give selectors for (the keys extraction fills).
META_KEYS = ("title", "published", "source_name", "authors", "editor", "summary")
#: How a list announces its next page: plain <a> links, or the TRS CMS script call
#: ``createPageHTML(total, current, "index", "shtml")`` with no links in the HTML.
PAGINATION_STYLES = ("links", "createPageHTML")
#: What a channel's list is (``list.kind``): an HTML page of links (``html``, the default),
#: JSON / a JavaScript assignment answered by an API for a page parameter (``api``, see
#: :class:`ApiConfig`), or an array assigned in an inline ``<script>`` of an HTML page
#: (``script``, see :class:`ScriptConfig`), or the date-addressed issues of an e-paper
#: (``epaper``: issue -> page -> article, see :class:`EpaperConfig`).
LIST_KINDS = ("html", "api", "script", "epaper")
#: How an API list answers: JSON, or JavaScript ``var NAME = <JSON>;`` statements (``js``).
API_FORMATS = ("json", "js")
#: How far public evidence backs a config (top-level ``status``): ``confirmed`` (every field
#: the crawl relies on is cited), ``partial`` (start URLs, list rows and article URLs are cited,
#: some other fields are not), ``unconfirmed`` (the lists it would walk rest on no source).
STATUSES = ("confirmed", "partial", "unconfirmed")
#: The statuses ``load_sites()`` without names returns: the default crawl. An unconfirmed
#: site is crawled only when named (``djcrawl crawl NAME``) or through the mirror (``demo``).
DEFAULT_CRAWL_STATUSES = ("confirmed", "partial")
#: The fields ``[evidence.cited]`` may cite, and the ones each status requires cited.
CITABLE_FIELDS = ("start_urls", "allowed_domains", "encoding_hint", "list.link_selector", "list.pagination",
                  "list.page_url", "list.script_var", "list.url_fields", "list.method", "list.params",
                  "list.items_path", "list.total_path", "list.issue_url", "list.page_selector", "list.page_pattern",
                  "list.article_selector", "article.url_patterns", "article.part_url", "article.body_selectors",
                  "article.prune_xpaths", *(f"article.meta.{k}" for k in META_KEYS))
_REQUIRED_CITED = {
    "confirmed": ("start_urls", "list.link_selector", "list.pagination", "list.page_url", "article.url_patterns",
                  "article.body_selectors", "encoding_hint"),
    "partial": ("start_urls", "list.link_selector", "article.url_patterns"),
    "unconfirmed": (),
}
#: What stands for an html list's fields in the requirements above when a list is of another
#: kind: a script list's rows are its variable's items, an API's the items at its path; an
#: e-paper starts at its issue URL and finds pages and articles by pattern and selector; a
#: script list has one page, an e-paper pages by date.
_KIND_CITED = {
    "html": {},
    "api": {"list.link_selector": ("list.items_path", "list.url_fields"), "list.pagination": ("list.params",),
            "list.page_url": ()},
    "script": {"list.link_selector": ("list.script_var", "list.url_fields"), "list.pagination": (),
               "list.page_url": ()},
    "epaper": {"start_urls": ("list.issue_url",), "list.link_selector": ("list.page_pattern", "list.article_selector"),
               "list.pagination": (), "list.page_url": ()},
}


def required_cited(status: str, kind: str = "html") -> tuple[str, ...]:
    """The ``[evidence.cited]`` fields a config of list ``kind`` needs for ``status``."""
    swap = _KIND_CITED[kind]
    return tuple(dict.fromkeys(g for f in _REQUIRED_CITED[status] for g in swap.get(f, (f,))))
#: A citation names a public file and what it shows: ``owner/repo path@commit: fact``, or, for a
#: file the code index holds without naming its repository, ``index file ID: fact`` (``ID`` is the
#: index's file id, readable again with its ``read_file``). Never a mirror page: those are built
#: from the configs' own assumptions.
_CITATION = re.compile(r"^(?:[\w.-]+/[\w.-]+ \S+@[0-9a-f]{7,40}|index file \d+): \S")


class SiteConfigError(DjcrawlError):
    """A site config that cannot be used; the message names the file and the field."""


def sites_dir(explicit: str | os.PathLike | None = None) -> Path | Traversable:
    """``DJ_SITES_DIR``, else the configs packaged with djcrawl (``seeds/sites``, package data
    of ``seeds``): a folder of the checkout or of an installed wheel, or a folder inside the
    zipped egg scrapyd runs. Never relative to the cwd."""
    if explicit:
        return Path(explicit)
    if from_env("DJ_SITES_DIR"):
        return Path(from_env("DJ_SITES_DIR"))
    return resources.files("seeds") / "sites"


def _stem(path: Path | Traversable) -> str:
    return path.name.rpartition(".")[0] or path.name


@dataclass(frozen=True)
class ApiConfig:
    """A list answered by an API: each start URL is the endpoint; page ``n`` is asked for with
    ``params`` and ``page_param = n`` (in the query for GET, as a form body for POST)."""
    method: str
    params: tuple[tuple[str, str], ...]
    page_param: str
    first_page: int
    #: ``json``, or ``js``: ``var NAME = <JSON>;`` statements read as an object {NAME: value}
    format: str
    #: dotted path to the array of items (``data.list``; ``MI4_PAGE_ARTICLE`` for ``js``); empty: the root
    items_path: str
    #: item fields holding the article URL, tried in order (the first non-empty one wins)
    url_fields: tuple[str, ...]
    #: dotted path to the total number of items, if the API gives one (``_totalCnt``, ``data.total``)
    total_path: str | None


@dataclass(frozen=True)
class ScriptConfig:
    """A list held in an inline ``<script>`` of the start page: ``NAME = [{...}, ...]`` (12371.cn's
    ``item=[…]``), JSON or JavaScript with single-quoted strings; one page a start URL."""
    #: the variable the array is assigned to
    var: str
    #: item fields holding the article URL, tried in order (the first non-empty one wins)
    url_fields: tuple[str, ...]


@dataclass(frozen=True)
class EpaperConfig:
    """An e-paper: one issue a day at ``issue_url`` (``{yyyy}``, ``{mm}``, ``{dd}``, ``{yyyymmdd}``),
    the issue's first page linking its other pages, each page linking its articles."""
    issue_url: str
    #: issues walked: today's (China time) and this many days before it
    days_back: int
    #: CSS of the links (``a``, ``area``) to the issue's pages, on its first page
    page_selector: str
    #: regex the URL of an issue's page matches (``/html/page_\w+\.htm$``, ``_\d{3}/.*_plist\.htm$``)
    page_pattern: str
    #: CSS of the links to articles on each page; links matching ``article.url_patterns`` are articles
    article_selector: str


@dataclass(frozen=True)
class ListConfig:
    #: CSS selector of the rows (or links) of a list page that lead to articles.
    link_selector: str
    pagination: str
    #: Next list page, relative to the channel directory; ``{n}`` is the page number.
    page_url: str
    #: Regex on a list page URL whose group 1 is its page number (the channel's first page has none).
    page_number_pattern: str
    #: Page number of the page after the channel's first page (TRS: 1 for index_1; people.com.cn: 2).
    first_next_number: int
    max_pages: int
    #: ``html`` or ``api`` (:data:`LIST_KINDS`)
    kind: str = "html"
    api: ApiConfig | None = None
    script: ScriptConfig | None = None
    epaper: EpaperConfig | None = None


@dataclass(frozen=True)
class ArticleConfig:
    url_patterns: tuple[str, ...]
    body_selectors: tuple[str, ...]
    prune_xpaths: tuple[str, ...]
    #: metadata key -> CSS selectors tried in order (``meta[name=X]`` means its content).
    meta: tuple[tuple[str, tuple[str, ...]], ...]
    #: Next part of a multi-page article relative to its first page: ``{stem}_{n}.{ext}``.
    part_url: str


@dataclass(frozen=True)
class SiteConfig:
    name: str
    title: str
    path: Path | Traversable
    allowed_domains: tuple[str, ...]
    start_urls: tuple[str, ...]
    encoding_hint: str | None
    list: ListConfig
    article: ArticleConfig
    #: ``confirmed``, ``partial`` or ``unconfirmed`` (see :data:`STATUSES`)
    status: str = "unconfirmed"
    #: field -> the public sources that show it (``[evidence.cited]``)
    cited: tuple[tuple[str, tuple[str, ...]], ...] = ()
    unconfirmed: tuple[str, ...] = ()
    #: what the sources show that the config cannot use yet (other list kinds, other hosts)
    notes: tuple[str, ...] = ()
    _compiled: tuple = field(default=(), compare=False, repr=False)

    @property
    def in_default_crawl(self) -> bool:
        return self.status in DEFAULT_CRAWL_STATUSES

    def is_article_url(self, url: str) -> bool:
        """Whether ``url`` is an article of this site; a ``#fragment`` is not part of the page's
        address (the spider drops it before asking), so it is ignored here too."""
        url = url.split("#", 1)[0]
        return any(p.search(url) for p in self._compiled)

    def owns(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    def first_page_of(self, part_url: str) -> str | None:
        """The first page of a multi-page article, given the URL of a later part (``article.part_url``)."""
        name = part_url.rsplit("/", 1)[-1]
        pattern = re.escape(self.article.part_url)
        for field_, regex in (("stem", r"(?P<stem>.+?)"), ("n", r"\d+"), ("ext", r"(?P<ext>\w+)")):
            pattern = pattern.replace(re.escape("{" + field_ + "}"), regex)
        m = re.fullmatch(pattern, name)
        if not m:
            return None
        return part_url[: len(part_url) - len(name)] + f"{m.group('stem')}.{m.group('ext')}"

    def content_type_for(self, body: bytes, content_type: str | None) -> str | None:
        """The page's content type, with the config's ``encoding_hint`` when the page declares nothing."""
        return hinted_content_type(body, content_type, self.encoding_hint)

    def decode(self, body: bytes, content_type: str | None, encoding: str | None = None) -> tuple[str, str]:
        """``(text, encoding)`` of a page of this site: with the encoding found when it was first
        decoded (a stored page), else by its bytes and this site's encoding hint."""
        if encoding:
            return decode_as(body, encoding), encoding
        return decode_bytes(body, content_type, self.encoding_hint)

    def hints(self) -> SiteHints:
        """What extraction is told about this site's pages."""
        return SiteHints(
            site=self.name,
            body_selectors=self.article.body_selectors,
            prune_xpaths=self.article.prune_xpaths,
            # one CSS selector group per key: the first matching element wins
            meta_selectors=tuple((k, ", ".join(sels)) for k, sels in self.article.meta),
            encoding_hint=self.encoding_hint,
        )


class _Fields:
    """Typed access to one TOML table that reports ``file: field: problem``."""

    def __init__(self, path: Path, data: dict, prefix: str = ""):
        self.path, self.data, self.prefix = path, data, prefix

    def fail(self, key: str, problem: str) -> SiteConfigError:
        return SiteConfigError(f"{self.path}: field '{self.prefix}{key}': {problem}")

    def table(self, key: str) -> "_Fields":
        value = self.data.get(key)
        if not isinstance(value, dict):
            raise self.fail(key, "missing table" if value is None else "must be a table")
        return _Fields(self.path, value, f"{self.prefix}{key}.")

    def str(self, key: str, default: str | None = None, *, required: bool = True) -> str | None:
        value = self.data.get(key, default)
        if value is None:
            if required:
                raise self.fail(key, "missing")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value

    def int(self, key: str, default: int) -> int:
        value = self.data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.fail(key, "must be a non-negative integer")
        return value

    def strs(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        value = self.data.get(key)
        if not required and (value is None or value == []):
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(key, "must be a non-empty list of strings")
        return tuple(value)

    def regexes(self, key: str) -> tuple[str, ...]:
        values = self.strs(key)
        for v in values:
            try:
                re.compile(v)
            except re.error as exc:
                raise self.fail(key, f"bad regex {v!r}: {exc}") from None
        return values

    def css(self, key: str, value: str) -> str:
        try:
            css2xpath(value)
        except Exception as exc:  # cssselect raises several types for bad selectors
            raise self.fail(key, f"bad CSS selector {value!r}: {exc}") from None
        return value


def _check_xpath(f: _Fields, key: str, values: tuple[str, ...]) -> tuple[str, ...]:
    for v in values:
        try:
            XPath(v)
        except XPathSyntaxError as exc:
            raise f.fail(key, f"bad XPath {v!r}: {exc}") from None
    return values


def _html_list(lf: _Fields) -> ListConfig:
    pagination = lf.str("pagination", "links")
    if pagination not in PAGINATION_STYLES:
        raise lf.fail("pagination", f"must be one of {', '.join(PAGINATION_STYLES)}")
    page_url = lf.str("page_url")
    if "{n}" not in page_url:
        raise lf.fail("page_url", "must contain {n}")
    page_number_pattern = lf.regexes("page_number_pattern")[0]
    if re.compile(page_number_pattern).groups < 1:
        raise lf.fail("page_number_pattern", "needs one group: the page number")
    return ListConfig(
        link_selector=lf.css("link_selector", lf.str("link_selector")),
        pagination=pagination,
        page_url=page_url,
        page_number_pattern=page_number_pattern,
        first_next_number=lf.int("first_next_number", 1),
        max_pages=lf.int("max_pages", 20),
    )


def _not_html(lf: _Fields) -> None:
    for key in ("link_selector", "pagination", "page_url", "page_number_pattern", "first_next_number"):
        if key in lf.data:
            raise lf.fail(key, f"is for list.kind = 'html', not {lf.data['kind']!r}")


def _script_list(lf: _Fields) -> ListConfig:
    _not_html(lf)
    var = lf.str("script_var")
    if not re.fullmatch(r"[A-Za-z_$][\w$]*", var):
        raise lf.fail("script_var", f"{var!r} is not a JavaScript variable name")
    script = ScriptConfig(var=var, url_fields=lf.strs("url_fields"))
    return ListConfig(link_selector="", pagination="script", page_url="", page_number_pattern="",
                      first_next_number=0, max_pages=lf.int("max_pages", 1), kind="script", script=script)


_DATE_FIELDS = ("{yyyymmdd}", "{yyyy}", "{mm}", "{dd}")


def _epaper_list(lf: _Fields) -> ListConfig:
    _not_html(lf)
    issue_url = lf.str("issue_url")
    if urlsplit(issue_url).scheme not in ("http", "https"):
        raise lf.fail("issue_url", f"{issue_url!r} is not an http(s) URL")
    if "{yyyymmdd}" not in issue_url and not all(f in issue_url for f in _DATE_FIELDS[1:]):
        raise lf.fail("issue_url", "must contain {yyyymmdd}, or {yyyy}, {mm} and {dd}")
    rest = issue_url
    for f in _DATE_FIELDS:
        rest = rest.replace(f, "")
    if "{" in rest or "}" in rest:
        raise lf.fail("issue_url", "knows only {yyyymmdd}, {yyyy}, {mm} and {dd}")
    epaper = EpaperConfig(issue_url=issue_url, days_back=lf.int("days_back", 7),
                          page_selector=lf.css("page_selector", lf.str("page_selector", "a, area")),
                          page_pattern=lf.regexes("page_pattern")[0],
                          article_selector=lf.css("article_selector", lf.str("article_selector", "a, area")))
    return ListConfig(link_selector="", pagination="epaper", page_url="", page_number_pattern="",
                      first_next_number=0, max_pages=lf.int("max_pages", 30), kind="epaper", epaper=epaper)


def _api_list(lf: _Fields) -> ListConfig:
    _not_html(lf)
    method = lf.str("method", "GET").upper()
    if method not in ("GET", "POST"):
        raise lf.fail("method", "must be GET or POST")
    params = lf.data.get("params", {})
    if not isinstance(params, dict) or not all(isinstance(v, (str, int)) and not isinstance(v, bool)
                                               for v in params.values()):
        raise lf.fail("params", "must be a table of name = string or integer")
    fmt = lf.str("format", "json")
    if fmt not in API_FORMATS:
        raise lf.fail("format", f"must be one of {', '.join(API_FORMATS)}")
    items_path = lf.data.get("items_path", "")
    if not isinstance(items_path, str):
        raise lf.fail("items_path", "must be a string (a dotted path, empty for the root)")
    if fmt == "js" and not items_path:
        raise lf.fail("items_path", "must name the variable holding the items when format = 'js'")
    page_param = lf.str("page_param", "page")
    if page_param in params:
        raise lf.fail("params", f"names the page parameter {page_param!r}; list.page_param sets it")
    api = ApiConfig(method=method, params=tuple((k, str(v)) for k, v in params.items()), page_param=page_param,
                    first_page=lf.int("first_page", 1), format=fmt, items_path=items_path,
                    url_fields=lf.strs("url_fields"), total_path=lf.str("total_path", required=False))
    return ListConfig(link_selector="", pagination="api", page_url="", page_number_pattern="",
                      first_next_number=0, max_pages=lf.int("max_pages", 20), kind="api", api=api)


def load_site(path: str | os.PathLike | Traversable) -> SiteConfig:
    """Read and validate one ``<site>.toml`` (a file, or a resource inside a package)."""
    path = Path(path) if isinstance(path, (str, os.PathLike)) else path
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SiteConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SiteConfigError(f"{path}: not valid TOML: {exc}") from None
    f = _Fields(path, data)
    name = f.str("name")
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise f.fail("name", "must be lower-case letters, digits and _")
    if name != _stem(path):
        raise f.fail("name", f"is {name!r} but the file is {path.name} (they must agree)")
    domains = tuple(d.lower() for d in f.strs("allowed_domains"))
    list_table = data.get("list")
    epaper = isinstance(list_table, dict) and list_table.get("kind") == "epaper"
    start_urls = f.strs("start_urls", required=not epaper)  # an e-paper starts at list.issue_url
    if epaper and start_urls:
        raise f.fail("start_urls", "an e-paper's issues start at list.issue_url; leave start_urls out")
    for url in start_urls:
        host = (urlsplit(url).hostname or "").lower()
        if urlsplit(url).scheme not in ("http", "https") or not any(
            host == d or host.endswith("." + d) for d in domains
        ):
            raise f.fail("start_urls", f"{url!r} is not an http(s) URL on allowed_domains")

    lf = f.table("list")
    kind = lf.str("kind", "html")
    if kind not in LIST_KINDS:
        raise lf.fail("kind", f"must be one of {', '.join(LIST_KINDS)}")
    list_cfg = {"html": _html_list, "api": _api_list, "script": _script_list, "epaper": _epaper_list}[kind](lf)
    if list_cfg.epaper is not None:
        host = (urlsplit(list_cfg.epaper.issue_url).hostname or "").lower()
        if not any(host == d or host.endswith("." + d) for d in domains):
            raise lf.fail("issue_url", f"{list_cfg.epaper.issue_url!r} is not on allowed_domains")

    af = f.table("article")
    meta_table = af.data.get("meta", {})
    if not isinstance(meta_table, dict):
        raise af.fail("meta", "must be a table of key = [CSS selectors]")
    mf = _Fields(path, meta_table, "article.meta.")
    meta = []
    for key in meta_table:
        if key not in META_KEYS:
            raise mf.fail(key, f"unknown metadata key (known: {', '.join(META_KEYS)})")
        meta.append((key, tuple(mf.css(key, s) for s in mf.strs(key))))
    part_url = af.str("part_url", "{stem}_{n}.{ext}")
    article_cfg = ArticleConfig(
        url_patterns=af.regexes("url_patterns"),
        body_selectors=tuple(af.css("body_selectors", s) for s in af.strs("body_selectors")),
        prune_xpaths=_check_xpath(af, "prune_xpaths", af.strs("prune_xpaths", required=False)),
        meta=tuple(meta),
        part_url=part_url,
    )
    status = f.str("status", "unconfirmed")
    if status not in STATUSES:
        raise f.fail("status", f"must be one of {', '.join(STATUSES)}")
    ev = f.table("evidence") if "evidence" in data else _Fields(path, {}, "evidence.")
    cited_table = ev.data.get("cited", {})
    if not isinstance(cited_table, dict):
        raise ev.fail("cited", "must be a table of field = [citations]")
    cf = _Fields(path, cited_table, "evidence.cited.")
    cited = []
    for key in cited_table:
        if key not in CITABLE_FIELDS:
            raise cf.fail(key, f"not a field a config has (citable: {', '.join(CITABLE_FIELDS)})")
        values = cf.strs(key)
        for v in values:
            if not _CITATION.match(v):
                raise cf.fail(key, f"{v[:60]!r} is not a citation ('owner/repo path@commit: fact' "
                                   "or 'index file ID: fact')")
        cited.append((key, values))
    missing = [k for k in required_cited(status, list_cfg.kind) if k not in cited_table]
    if missing:
        raise f.fail("status", f"is {status!r} but [evidence.cited] cites no source for {', '.join(missing)}")
    cfg = SiteConfig(
        name=name,
        title=f.str("title"),
        path=path,
        allowed_domains=domains,
        start_urls=start_urls,
        encoding_hint=f.str("encoding_hint", required=False),
        list=list_cfg,
        article=article_cfg,
        status=status,
        cited=tuple(cited),
        unconfirmed=ev.strs("unconfirmed", required=False),
        notes=ev.strs("notes", required=False),
        _compiled=tuple(re.compile(p) for p in article_cfg.url_patterns),
    )
    for url in start_urls:
        if cfg.is_article_url(url):
            raise f.fail("start_urls", f"{url!r} matches article.url_patterns; start URLs are list pages")
    return cfg


def load_sites(names: list[str] | tuple[str, ...] | None = None, directory: str | os.PathLike | None = None,
               *, every: bool = False) -> list[SiteConfig]:
    """The named configs (an unknown name is an error); without names, the default crawl: the
    configs whose ``status`` allows it (:data:`DEFAULT_CRAWL_STATUSES`), sorted by name, or
    every config with ``every=True`` (the mirror, ``reprocess``, ``demo``)."""
    d = sites_dir(directory)
    found = sorted(d.iterdir(), key=lambda p: p.name) if d.is_dir() else []
    available = {_stem(p): p for p in found if p.name.endswith(".toml") and p.is_file()}
    if not available:
        raise SiteConfigError(f"no site configs in {d}")
    if names:
        unknown = [n for n in names if n not in available]
        if unknown:
            raise SiteConfigError(
                f"unknown site {', '.join(unknown)} (known: {', '.join(available)})"
            )
        return [load_site(available[n]) for n in dict.fromkeys(names)]
    configs = [load_site(p) for p in available.values()]
    return configs if every else [c for c in configs if c.in_default_crawl]
