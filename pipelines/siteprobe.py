"""A draft site config inferred from a site's own pages: what ``djcrawl add-site`` writes.

Pure: it reads pages already fetched (``crawler/cli/addsite.py`` fetches them) and returns
the values of a ``seeds/sites/<name>.toml``. The steps, in the order add-site runs them:

1. **Channels** (:func:`channel_links`): links of the front page whose anchor text is a
   channel name holding one of :data:`CHANNEL_WORDS` (党建, 队伍建设, 检察文化 ...). A channel
   name is short; a headline that mentions 党建 is not a channel.
2. **List rows** (:func:`link_selector`): the main list of a channel page as
   :mod:`pipelines.listlinks` finds it; its block and row shape become a CSS selector, the
   loosest one that selects exactly the list's article links on that page.
3. **Article URLs** (:func:`url_patterns`): the list's links generalised: digit runs (dates,
   ids) become ``\\d{n}`` / ``\\d+``, words that differ between links become ``[A-Za-z]+``
   (``[A-Za-z0-9]+`` for mixed ids of different shapes), the scheme ``https?``; a pattern matching a list page seen is made stricter or dropped.
4. **Pagination** (:func:`pagination`): the TRS ``createPageHTML(total, cur, name, ext)``
   call, else a 下一页 link, else a link to ``index_N`` / ``indexN`` beside the channel.
5. **Body** (:func:`body_selector`): a known CMS container
   (:data:`pipelines.extract.KNOWN_BODY_SELECTORS`) when one holds the article, else the
   largest block with a class or id.
6. **The draft** (:func:`draft_toml`): ``status = "unconfirmed"``; ``[evidence]`` says it
   was discovered, when, and from which pages: nothing in it is cited.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit

from .dates import url_date
from .extract import KNOWN_BODY_SELECTORS
from .extract.body import find_container
from .htmltree import compile_selector
from .listlinks import list_blocks, same_site

__all__ = ["CHANNEL_WORDS", "Draft", "Pagination", "body_selector", "channel_links", "draft_toml",
           "encoding_hint", "link_selector", "matching_links", "pagination", "page_title", "site_name",
           "url_patterns"]

#: Words of the channels a draft starts at, in the order they are preferred.
CHANNEL_WORDS = ("党建", "党的建设", "机关党建", "队伍建设", "检察文化", "党风廉政", "从严治党")
#: A channel's name is at most this long (characters without spaces): 检察机关党建工作 is one,
#: 用心用情，在党建引领中凝聚磅礴力量 is a headline.
MAX_CHANNEL_CHARS = 10
#: A word of more letter and digit runs than this is an opaque id, not a prefix and a number.
MAX_ID_RUNS = 3
#: The encodings read as GB18030 (its superset) when a site's pages use them.
_GB_FAMILY = ("gb18030", "gbk", "gb2312", "cp936")

_SPACE = re.compile(r"\s+")
_NEXT_WORDS = re.compile(r"^(?:下一页|下页|后一页|next|>|›|»|>>)$", re.I)
# A real call, not the function's definition: createPageHTML(3, 0, "index", "shtml")
_CREATE_PAGE = re.compile(r"""createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*["']([^"']+)["']\s*,\s*["']([^"']+)["']""")
_NUMBERED_PAGE = re.compile(r"^(?:index|list|default)[_-]?(\d+)\.\w+$")
_TOKEN = re.compile(r"\d+|[A-Za-z]+")
_WORD = re.compile(r"[A-Za-z0-9]+|[^A-Za-z0-9]")
_CSS_IDENT = re.compile(r"^-?[A-Za-z_][\w-]*$")
_SUFFIXES = (".com.cn", ".gov.cn", ".org.cn", ".net.cn", ".edu.cn", ".cn", ".com", ".net", ".org", ".gov")


def _text(node) -> str:
    return _SPACE.sub("", node.text_content() or "")


def _absolute(href: str | None, base: str) -> str | None:
    href = (href or "").strip()
    if not href or href.startswith("#") or href.lower().startswith(("javascript:", "mailto:", "tel:")):
        return None
    url = urldefrag(urljoin(base, href))[0]
    return url if urlsplit(url).scheme in ("http", "https") else None


# --------------------------------------------------------------------------- 1. channels

def channel_links(tree, page_url: str) -> list[tuple[str, str]]:
    """``(url, name)`` of the page's channel links, best first: a name equal to a channel
    word before one that holds it, earlier words of :data:`CHANNEL_WORDS` first, then page
    order; links to the page itself, to other sites, to dated addresses (articles) and
    headline-length texts are none."""
    found: dict[str, tuple[tuple[int, int, int], str]] = {}
    own = urldefrag(page_url)[0]
    for i, a in enumerate(tree.iter("a")):
        name = _text(a)
        if not name or len(name) > MAX_CHANNEL_CHARS:
            continue
        rank = next((w for w, word in enumerate(CHANNEL_WORDS) if word in name), None)
        url = _absolute(a.get("href"), page_url)
        if rank is None or url is None or url == own or not same_site(url, page_url):
            continue
        if url_date(url):  # a dated address is an article's (党建红引领检察蓝), not a channel's
            continue
        key = (0 if name in CHANNEL_WORDS else 1, rank, i)
        if url not in found or key < found[url][0]:
            found[url] = (key, name)
    return [(url, name) for url, (key, name) in sorted(found.items(), key=lambda kv: kv[1][0])]


# --------------------------------------------------------------------------- 2. list rows

def _describe(el) -> str | None:
    """``tag#id`` / ``tag.class`` of an element that has a usable id or class, else None."""
    if _CSS_IDENT.match(el.get("id") or ""):
        return f"{el.tag}#{el.get('id')}"
    cls = next((c for c in (el.get("class") or "").split() if _CSS_IDENT.match(c)), None)
    return f"{el.tag}.{cls}" if cls else None


def _row_css(shape: str) -> str:
    tag, _, cls = shape.partition(".")
    return f"{tag}.{cls}" if cls and _CSS_IDENT.match(cls) else tag


def _selectors(block, row: str) -> list[str]:
    """Selectors of ``block``'s rows, loosest first: the nearest ancestor with an id or class,
    then two of them, then the exact path of tags with child combinators."""
    marked, path, el = [], [], block
    while el is not None and isinstance(el.tag, str) and el.tag not in ("body", "html"):
        desc = _describe(el)
        path.append(desc or el.tag)
        if desc:
            marked.append((desc, el is block))
            if "#" in desc:
                break
        el = el.getparent()
    out = []
    if marked:
        desc, is_block = marked[0]
        out.append(f"{desc} > {row}" if is_block else f"{desc} {row}")
    if len(marked) > 1:
        out.append(f"{marked[1][0]} {marked[0][0]} {row}")
    for depth in (3, 5):
        out.append(" > ".join(reversed(path[:depth])) + f" > {row}")
    return list(dict.fromkeys(out))


def matching_links(tree, selector: str, page_url: str) -> list[str]:
    """The absolute links (``self::a`` or ``.//a``, fragments dropped) of the nodes ``selector``
    matches, in page order, each once: what the spider reads with ``list.link_selector``."""
    out: dict[str, None] = {}
    for node in compile_selector(selector)(tree):
        for href in node.xpath("self::a/@href | .//a/@href"):
            url = _absolute(href, page_url)
            if url:
                out.setdefault(url)
    return list(out)


def link_selector(tree, page_url: str, patterns: tuple[str, ...]) -> str | None:
    """The CSS selector of the page's main list rows (:func:`pipelines.listlinks.list_blocks`'
    best block): the loosest candidate whose links matching ``patterns`` are exactly the
    block's; else the one with the fewest wrong links. None when the page has no list."""
    blocks = list_blocks(tree, page_url)
    if not blocks or not blocks[0]["score"]:
        return None
    best = blocks[0]
    compiled = [re.compile(p) for p in patterns]

    def articles(urls):
        return {u for u in urls if any(p.search(u) for p in compiled)}

    want = articles(best["links"])
    scored = []
    for i, selector in enumerate(_selectors(best["block"], _row_css(best["shape"]))):
        got = articles(matching_links(tree, selector, page_url))
        if got == want:
            return selector
        scored.append((len(got ^ want), i, selector))
    return min(scored)[2] if scored else None


# --------------------------------------------------------------------------- 3. article URLs

def _words(url: str) -> tuple[str, list[str]]:
    """The host and the words of the path and query: alphanumeric runs and single separators."""
    parts = urlsplit(url)
    rest = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return (parts.hostname or "").lower(), _WORD.findall(rest)


def _kind(word: str) -> str:
    if word.isdigit():
        return "d"
    if word.isalpha():
        return "a"
    return "m" if word.isalnum() else word


def _escape(text: str) -> str:
    # re.escape escapes "-" too; outside a character class it needs none
    return re.escape(text).replace("\\-", "-")


def _runs(column: tuple[str, ...], strict: bool) -> str:
    """One column of digit runs or letter runs: digits become ``\\d{n}`` (short, equal lengths,
    or every length with ``strict``) or ``\\d+``; letters stay when every sample has the same,
    else ``[A-Za-z]+``."""
    first = column[0]
    if first.isdigit():
        lengths = {len(t) for t in column}
        n = lengths.pop() if len(lengths) == 1 else None
        return r"\d+" if n is None or not (strict or n <= 4) else r"\d" if n == 1 else rf"\d{{{n}}}"
    return _escape(first) if len(set(column)) == 1 else "[A-Za-z]+"


def _generalise(samples: list[list[str]], strict: bool) -> str:
    out = []
    for column in zip(*samples):
        kind = _kind(column[0])
        if kind in ("d", "a"):
            out.append(_runs(column, strict))
        elif kind == "m":
            # a word of letters and digits: run by run when every sample has the same short
            # shape (t20201216, c117092), else any such word (163.com's FJ8N3MQ60001899O, an
            # opaque id whose runs only happen to line up)
            split = [_TOKEN.findall(w) for w in column]
            if len({tuple(_kind(t) for t in runs) for runs in split}) == 1 and len(split[0]) <= MAX_ID_RUNS:
                out.append("".join(_runs(c, strict) for c in zip(*split)))
            else:
                out.append("[A-Za-z0-9]+")
        else:
            out.append(_escape(column[0]))
    return "".join(out)


def _folders(words: list[str]) -> tuple[list[str], list[str]]:
    """``(channel folders, the rest)``: the leading ``/word`` folders of letters
    (``/xwfbh/wsfbt``, ``/procuratorate/jckx``) and the words from the ``/`` after them."""
    folders, i = [], 0
    while i + 2 < len(words) and words[i] == "/" and _kind(words[i + 1]) == "a" and words[i + 2] == "/":
        folders.append(words[i + 1])
        i += 2
    return folders, words[i:]


def _folder_regex(columns: list[list[str]]) -> str:
    """The channel folders of a group: column by column when every link has as many, else
    the folders all share, then any number of folders of letters."""
    if len({len(f) for f in columns}) == 1:
        return "".join("/" + _runs(c, False) for c in zip(*columns))
    common = []
    for column in zip(*columns):
        if len(set(column)) != 1:
            break
        common.append(column[0])
    rest_min = min(len(f) for f in columns) - len(common)
    return "".join("/" + _escape(w) for w in common) + ("(?:/[A-Za-z]+)" + ("+" if rest_min else "*"))


def url_patterns(article_urls: list[str], list_urls: list[str]) -> tuple[str, ...]:
    """Regexes accepting ``article_urls`` (over http and https) and none of ``list_urls``.

    Links are grouped by the shape of their path after its channel folders (runs of digits,
    of letters, and the characters between); each group becomes one pattern, its hosts an
    alternation, its folders a run of letter folders when links sit at different depths
    (``/xwfbh/wsfbt/…`` and ``/spp/xwfbh/wsfbh/…``). A pattern that accepts a list page is
    made stricter (digit runs of their exact length), then split by folder depth; if it
    still does, those links are dropped: they cannot be told from list pages.
    """
    groups: dict[tuple[str, ...], list[tuple[list[str], list[str]]]] = {}
    hosts = []
    for url in article_urls:
        host, words = _words(url)
        if host not in hosts:
            hosts.append(host)
        folders, rest = _folders(words)
        groups.setdefault(tuple(_kind(t) for t in rest), []).append((folders, rest))
    if not hosts:
        return ()
    host_re = _escape(hosts[0]) if len(hosts) == 1 else "(?:" + "|".join(_escape(h) for h in hosts) + ")"
    lists = [urldefrag(u)[0] for u in list_urls]

    def fitted(samples) -> str | None:
        for strict in (False, True):
            pattern = (f"^https?://{host_re}{_folder_regex([f for f, _ in samples])}"
                       f"{_generalise([r for _, r in samples], strict)}$")
            if not any(re.search(pattern, u) for u in lists):
                return pattern
        return None

    out = []
    for samples in sorted(groups.values(), key=len, reverse=True):
        pattern = fitted(samples)
        if pattern is not None:
            out.append(pattern)
            continue
        by_depth: dict[int, list] = {}
        for sample in samples:
            by_depth.setdefault(len(sample[0]), []).append(sample)
        if len(by_depth) > 1:
            out += [p for p in map(fitted, by_depth.values()) if p]
    return tuple(dict.fromkeys(out))


# --------------------------------------------------------------------------- 4. pagination

@dataclass(frozen=True)
class Pagination:
    """The ``list.pagination`` fields of a channel, and the next page's URL when there is one."""
    style: str
    page_url: str
    page_number_pattern: str
    first_next_number: int
    next_url: str | None


def _directory(url: str) -> str:
    return url if urlsplit(url).path.endswith("/") else url.rsplit("/", 1)[0] + "/"


def _numbered(rel: str, next_url: str) -> Pagination | None:
    runs = list(re.finditer(r"\d+", rel))
    if not runs or ".." in rel:
        return None
    run = runs[-1]
    head, tail = rel[:run.start()], rel[run.end():]
    return Pagination("links", f"{head}{{n}}{tail}", f"{re.escape(head)}(\\d+){re.escape(tail)}$",
                      int(run.group()), next_url)


def pagination(text: str, tree, page_url: str) -> Pagination | None:
    """How the list page ``page_url`` (a channel's first page) leads to its next page, or None."""
    directory = _directory(page_url)
    m = _CREATE_PAGE.search(text)
    if m:
        total, cur, name, ext = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
        nxt = urljoin(directory, f"{name}_{cur + 1}.{ext}") if cur + 1 < total else None
        return Pagination("createPageHTML", f"{name}_{{n}}.{ext}", rf"{re.escape(name)}_(\d+)\.{re.escape(ext)}$",
                          1, nxt)
    links = [(a, _absolute(a.get("href"), page_url)) for a in tree.iter("a")]
    for a, url in links:
        if url and url.startswith(directory) and _NEXT_WORDS.match(_text(a)):
            found = _numbered(posixpath.normpath(url[len(directory):]), url)
            if found:
                return found
    numbered = []
    for _, url in links:
        if url and url.startswith(directory):
            m = _NUMBERED_PAGE.match(url[len(directory):])
            if m:
                numbered.append((int(m.group(1)), url))
    if numbered:
        _, url = min(numbered)
        return _numbered(url[len(directory):], url)
    return None


# --------------------------------------------------------------------------- 5. body, encoding, names

def body_selector(tree) -> tuple[str, bool] | None:
    """``(selector, known)``: the known CMS container holding the article (``known``), else
    the ``tag#id`` / ``tag.class`` of the block with the most text outside links."""
    found = find_container(tree)
    if found is not None and found[1] in KNOWN_BODY_SELECTORS:
        return found[1], True
    best, best_len = None, 0
    for el in tree.iter("div", "article", "section", "td"):
        desc = _describe(el)
        if not desc:
            continue
        own = len(_text(el)) - sum(len(_text(a)) for a in el.iter("a"))
        # the innermost of equal blocks: a wrapper adds nothing but its border
        if own > best_len or (own == best_len and best is not None and best in el.iterancestors()):
            best, best_len = el, own
    return (_describe(best), False) if best is not None else None


def encoding_hint(encodings: list[str]) -> str | None:
    """``gb18030`` when any page was GB2312 / GBK / GB18030; None for UTF-8 sites."""
    return "gb18030" if any((e or "").lower() in _GB_FAMILY for e in encodings) else None


def site_name(url: str) -> str:
    """A config name from a URL's host: ``http://dangjian.people.com.cn/`` → ``dangjian_people``."""
    host = (urlsplit(url).hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    for suffix in _SUFFIXES:
        if host.endswith(suffix) and host != suffix.lstrip("."):
            host = host[: -len(suffix)]
            break
    return re.sub(r"[^a-z0-9]+", "_", host).strip("_") or "site"


def page_title(tree) -> str | None:
    """The page's ``<title>``, its first part (``党建_中国共产党新闻网`` keeps the site's name
    when it is the last part)."""
    titles = tree.xpath("//title")
    text = " ".join((titles[0].text_content() if titles else "").split())
    parts = [p.strip() for p in re.split(r"[_|｜—–-]+", text) if p.strip()]
    return parts[-1] if parts else None


# --------------------------------------------------------------------------- 6. the draft

@dataclass
class Draft:
    name: str
    title: str
    allowed_domains: list[str]
    start_urls: list[str]
    link_selector: str
    url_patterns: tuple[str, ...]
    pagination: Pagination | None
    body_selector: str
    body_known: bool
    encoding_hint: str | None
    #: when the pages were seen (``YYYY-MM-DD HH:MM UTC``)
    discovered: str
    #: (what the page was to the discovery, URL) of every page fetched
    pages: list[tuple[str, str]] = field(default_factory=list)


def _s(value: str) -> str:
    """A TOML string: a literal one when it can be (regexes stay readable), else a basic one."""
    if "'" not in value and "\n" not in value and value.isprintable():
        return f"'{value}'"
    return json.dumps(value, ensure_ascii=False)  # JSON's escapes are TOML's basic-string escapes


def _list(values) -> str:
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def draft_toml(d: Draft) -> str:
    """The text of ``<name>.toml`` for ``d``, in the field order of the configured sites."""
    p = d.pagination
    lines = [
        f"# {d.title}: a draft written by `djcrawl add-site` from the site's own pages ({d.discovered}).",
        "# Every value is inferred, none is cited: check it (`djcrawl sites --check "
        f"{d.name}`) and cite public sources before raising status.",
        f"name = {json.dumps(d.name)}",
        f"title = {json.dumps(d.title, ensure_ascii=False)}",
        'status = "unconfirmed"',
        f"allowed_domains = {_list(d.allowed_domains)}",
        f"start_urls = {_list(d.start_urls)}",
    ]
    if d.encoding_hint:
        lines.append(f"encoding_hint = {json.dumps(d.encoding_hint)}")
    lines += ["", "[list]", f"link_selector = {json.dumps(d.link_selector, ensure_ascii=False)}"]
    if p is not None:
        lines += [f"pagination = {json.dumps(p.style)}", f"page_url = {_s(p.page_url)}",
                  f"page_number_pattern = {_s(p.page_number_pattern)}", f"first_next_number = {p.first_next_number}",
                  "max_pages = 20"]
    else:
        # no pager was seen: the first page of each channel only
        lines += ['pagination = "links"', "page_url = 'index_{n}.html'", r"page_number_pattern = 'index_(\d+)\.html$'",
                  "first_next_number = 1", "max_pages = 1"]
    lines += ["", "[article]", "url_patterns = [" + ", ".join(_s(x) for x in d.url_patterns) + "]",
              f"body_selectors = {_list([d.body_selector])}", ""]
    unconfirmed = ["every field: inferred by djcrawl add-site from the pages in notes, not cited from any public source"]
    if p is None:
        unconfirmed.append("list.pagination: no pager was seen on the channel pages, so max_pages = 1")
    if not d.body_known:
        unconfirmed.append(f"article.body_selectors {d.body_selector}: no known CMS container matched; "
                           "the largest block of text was taken")
    notes = [f"discovered {d.discovered} by djcrawl add-site from {len(d.pages)} pages"]
    notes += [f"seen {d.discovered}: {role} {url}" for role, url in d.pages]
    lines += ["[evidence]", "unconfirmed = [", *(f"    {json.dumps(u, ensure_ascii=False)}," for u in unconfirmed),
              "]", "notes = [", *(f"    {json.dumps(n, ensure_ascii=False)}," for n in notes), "]", ""]
    return "\n".join(lines)
