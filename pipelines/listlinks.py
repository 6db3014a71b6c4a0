"""Article links of a list page found without selectors: the main repeated block of dated
headline links.

A channel page of a Chinese news or government site shows its articles as rows (``<li>``,
``<tr>``, ``<div>``, ``<dl>``) of one headline link each, usually beside a date
(``2024-05-10``, ``2024年05月10日``, ``05-10``, ``[2024-05-10]``); around them sit
navigation bars, footers, friend-link boxes (友情链接), 热点/排行/相关/推荐 boxes and a
pager. The spider falls back on this when a site's ``list.link_selector`` matches
nothing (``selector-stale``), and ``djcrawl links`` prints it for any saved page.

The steps, each measured on the real list pages of ``tests/fixtures/list_pages``
(``benchmarks/listlinks.py``):

1. **Candidate links.** Every ``<a href>`` that is not ``javascript:``, ``mailto:`` or an
   in-page anchor, made absolute (``<base href>`` honoured) and fragment-stripped, on the
   page's own site (same registrable domain: ``news.163.com`` and ``ent.163.com`` are one
   site, another host is not), whose text (or ``title``, when the text is cut short) is
   headline-length (6-80 characters without spaces) and not a pager word
   (上一页/下一页/首页/尾页/末页, numbers). Links inside ``<nav>``, ``<header>``,
   ``<footer>`` or an element whose class or id names a menu, a navigation bar, a footer,
   a copyright line, friend links or a breadcrumb are no candidates.
2. **Rows.** A candidate's row is its lowest ancestor (or the link itself) whose parent
   holds at least two children of the same shape (tag and first class) with candidates
   in them (two, not three: the last page of a list may hold two rows): the ``<li>`` of a
   ``<ul>``, the ``<tr>`` of a table, bare ``<a>`` in a ``<div>``. The parent is the
   row's block. A row with several candidates (a headline and its source's name,
   ``[社会]`` and the headline) keeps the longest: its headline.
3. **Dates.** A row is dated when its text outside the headline holds a full date
   (:func:`pipelines.dates.parse_date`), a month-day (``05-10``, ``5月10日``) or a time
   of day (rolling lists: ``05-10 12:30``), or when the link's URL carries a date path.
4. **Boxes and sidebars.** A block's score is halved when the heading just above it, or
   the class or id of it or its two nearest ancestors, says it is a 热点/热门/排行/相关/
   推荐/友情链接 box (``hot``, ``rank``, ``related``, ``recommend``...), and halved again
   inside a sidebar (``<aside>``, class or id ``side…``). Halved, not dropped: Tencent's
   main list is headed 热点精选, and its sidebar lists are dated too.
5. **Score.** Rows of a block are counted under their shape (tag and first class); a
   block scores its most frequent shape: rows + 2 × dated rows (then step 4), so a block
   of dated rows beats a longer block of undated ones (a menu of headline-length channel
   names), and a block of one row scores nothing (one link is no list).
6. **The main list.** The best block wins; other blocks that continue it (the same path of
   tags and classes from the root, the same row shape: a list cut into several ``<ul>`` of
   five) are joined to it when they score at least a third of it. Links come out in page
   order, each once.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from urllib.parse import urldefrag, urljoin, urlsplit

from .dates import parse_date

__all__ = ["article_links", "list_articles", "list_blocks", "page_url_of", "same_site", "site_of"]

#: Headline length, in characters without whitespace.
MIN_TITLE, MAX_TITLE = 6, 80
#: Rows a block needs (and same-shape siblings a row needs): one link is no list.
MIN_ROWS = 2

_SPACE = re.compile(r"\s+")
_PAGER = re.compile(r"^[\[［(（<《]?\s*(?:上一?页|下一?页|首页|尾页|末页|前页|后页|最后一页|第一页|更多|more|"
                    r"next|prev(?:ious)?|last|first|\d+|[<>«»‹›]+|\.\.\.|…)\s*[\]］)）>》]?$", re.I)
_CHROME = re.compile(r"(?:^|[-_\s])(?:nav\w*|menu\w*|foot\w*|footer|header|copyright|copy|breadcrumb|crumbs?|"
                     r"position|location|weizhi|dqwz|friend\w*|yqlj|links?|sitemap|toolbar|topbar|login)(?:$|[-_\s\d])",
                     re.I)
_CHROME_TAGS = frozenset(("nav", "header", "footer"))
_BOX_WORDS = re.compile(r"热点|热门|热读|热榜|排行|相关|推荐|友情链接|猜你喜欢|点击榜|阅读榜|精彩图片|图片新闻")
_BOX_CLASS = re.compile(r"hot|rank|top\d|relat|recommend|tuijian|xgxw|friend|yqlj|paihang|phb", re.I)
_MONTH_DAY = re.compile(r"(?<!\d)(?:0?[1-9]|1[0-2])\s*[-/.月]\s*(?:0?[1-9]|[12]\d|3[01])(?:日|(?!\d))")
_TIME = re.compile(r"(?<!\d)(?:[01]?\d|2[0-3])[:：][0-5]\d(?!\d)")
_URL_DATE = re.compile(r"(?:19|20)\d{2}[-/_]?(?:0[1-9]|1[0-2])[-/_]?(?:0[1-9]|[12]\d|3[01])|/\d{2}/\d{4}/")
_SECOND_LEVEL = frozenset("com net org gov edu ac mil co".split())
_SIDE = re.compile(r"(?:^|[-_\s])(?:side\w*|aside)(?:$|[-_\s\d])", re.I)


def site_of(url: str) -> str:
    """The registrable domain of a URL's host: ``news.163.com`` → ``163.com``,
    ``www.spp.gov.cn`` → ``spp.gov.cn``; an IP address or ``localhost`` is itself."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    labels = host.split(".")
    if len(labels) <= 2 or host.replace(".", "").isdigit():
        return host
    if len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:  # .gov.cn, .com.cn, .co.uk
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def same_site(url: str, page_url: str) -> bool:
    return site_of(url) == site_of(page_url)


def _text(node) -> str:
    return _SPACE.sub("", node.text_content() or "")


def _chrome(a) -> bool:
    """Inside a navigation bar, header, footer, breadcrumb or friend-link box (step 1)."""
    node = a.getparent()
    while node is not None and isinstance(node.tag, str):
        if node.tag in _CHROME_TAGS:
            return True
        if _CHROME.search(f"{node.get('class') or ''} {node.get('id') or ''}"):
            return True
        node = node.getparent()
    return False


def _title(a) -> str:
    text = _text(a)
    title = _SPACE.sub("", a.get("title") or "")
    # a cut-short headline ("关于新增渤海证券…为东方阿尔法..") keeps its full text in title
    return title if len(title) > len(text) and title[:4] == text[:4] else text


def _candidates(tree, page_url: str | None) -> list[tuple[object, str]]:
    base = page_url or ""
    for b in tree.iter("base"):
        if b.get("href"):
            base = urljoin(base, b.get("href").strip())
            break
    out = []
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith("#") or href.lower().startswith(("javascript:", "mailto:", "tel:")):
            continue
        url = urldefrag(urljoin(base, href) if base else href)[0]
        if base:
            if urlsplit(url).scheme not in ("http", "https"):
                continue
            if page_url and not same_site(url, page_url):
                continue
        text = _title(a)
        if not (MIN_TITLE <= len(text) <= MAX_TITLE) or _PAGER.match(text) or _chrome(a):
            continue
        out.append((a, url))
    return out


def _rows(cands) -> dict[object, tuple[object, str]]:
    """Step 2: each row of a repeated structure and its headline link.

    A candidate's row is its lowest ancestor (or itself) whose parent has at least
    :data:`MIN_ROWS` children of the same shape holding candidates: ``<li>`` of a ``<ul>``,
    ``<tr>`` of a table, bare ``<a>`` of a ``<div>``. A row holding several candidates (a
    headline and its source's name) keeps the longest, its headline.
    """
    holders: dict[object, int] = {}
    for a, _ in cands:
        node = a
        while node is not None and isinstance(node.tag, str):
            holders[node] = holders.get(node, 0) + 1
            node = node.getparent()
    repeats: dict[tuple[object, str], int] = {}

    def repeated(parent, shape: str) -> bool:
        key = (parent, shape)
        if key not in repeats:
            repeats[key] = sum(1 for c in parent if isinstance(c.tag, str) and c in holders and _shape(c) == shape)
        return repeats[key] >= MIN_ROWS

    rows: dict[object, tuple[object, str]] = {}
    for a, url in cands:
        node = a
        while True:
            parent = node.getparent()
            if parent is None or not isinstance(parent.tag, str) or node.tag in ("body", "html"):
                node = None
                break
            if repeated(parent, _shape(node)):
                break
            node = parent
        if node is None:
            continue
        best = rows.get(node)
        if best is None or len(_title(a)) > len(_title(best[0])):
            rows[node] = (a, url)
    return rows


def _dated(row, a, url: str) -> bool:
    """Step 3: a date in the row outside the headline, or in the link's URL."""
    text = _text(row).replace(_text(a), "", 1)
    return bool(parse_date(text) or _MONTH_DAY.search(text) or _TIME.search(text) or _URL_DATE.search(url))


def _shape(el) -> str:
    cls = (el.get("class") or "").split()
    return f"{el.tag}.{cls[0]}" if cls else el.tag


def _path(el) -> str:
    parts = []
    while el is not None and isinstance(el.tag, str):
        parts.append(f"{_shape(el)}#{el.get('id') or ''}" if el.get("id") else _shape(el))
        el = el.getparent()
    return "/".join(reversed(parts))


def _heading_before(block) -> str:
    """The short text just before a block (its box title), looked for up to two levels up."""
    node = block
    for _ in range(3):
        prev = node.getprevious()
        for _ in range(2):
            if prev is None:
                break
            if isinstance(prev.tag, str):
                text = _text(prev)
                if text:
                    return text[:40]
            prev = prev.getprevious()
        node = node.getparent()
        if node is None:
            break
    return ""


def _boxed(block) -> bool:
    """Step 4: a 热点/排行/相关/推荐/友情链接 box."""
    if _BOX_WORDS.search(_heading_before(block)):
        return True
    node = block
    for _ in range(3):
        if node is None or not isinstance(node.tag, str):
            break
        if _BOX_CLASS.search(f"{node.get('class') or ''} {node.get('id') or ''}"):
            return True
        node = node.getparent()
    return False


def _aside(block) -> bool:
    """Step 4: in a sidebar (``<aside>``, class or id ``sidebar``, ``side``...)."""
    node = block
    while node is not None and isinstance(node.tag, str):
        if node.tag == "aside" or _SIDE.search(f"{node.get('class') or ''} {node.get('id') or ''}"):
            return True
        node = node.getparent()
    return False


def list_blocks(tree, page_url: str | None = None) -> list[dict]:
    """Every block of candidate rows with its score, best first (steps 1-5); for the
    benchmark and for debugging a page."""
    if tree is None:
        return []
    blocks: dict[object, list] = defaultdict(list)
    for row, (a, url) in _rows(_candidates(tree, page_url)).items():
        blocks[row.getparent()].append((row, a, url))
    out = []
    for block, rows in blocks.items():
        shapes = Counter(_shape(row) for row, _, _ in rows)
        shape, _ = shapes.most_common(1)[0]
        kept = [(row, a, url) for row, a, url in rows if _shape(row) == shape]
        dated = sum(1 for row, a, url in kept if _dated(row, a, url))
        boxed, aside = _boxed(block), _aside(block)
        score = 0.0 if len(kept) < MIN_ROWS else len(kept) + 2 * dated
        score *= (0.5 if boxed else 1) * (0.5 if aside else 1)
        out.append({"block": block, "path": _path(block), "shape": shape, "rows": len(kept), "dated": dated,
                    "boxed": boxed, "aside": aside, "score": score, "links": [url for _, _, url in kept],
                    "anchors": [a for _, a, _ in kept]})
    out.sort(key=lambda b: -b["score"])
    return out


def page_url_of(tree) -> str | None:
    """The page's own absolute http(s) URL as it states it (``<link rel="canonical">``,
    ``og:url``), for a saved page given without its URL."""
    if tree is None:
        return None
    for url in tree.xpath('//link[translate(@rel, "CANONICAL", "canonical")="canonical"]/@href'
                          ' | //meta[@property="og:url"]/@content'):
        url = url.strip()
        if urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname:
            return url
    return None


def list_articles(tree, page_url: str | None = None) -> list[tuple[str, str]]:
    """``(url, headline)`` of each article of the page's main list (steps 1-6): URLs
    absolute (when ``page_url``, a ``<base>`` or the page's canonical URL is known; without
    one, links to other sites cannot be told apart and are kept), fragment-stripped, in
    page order, each once; empty when no block qualifies."""
    page_url = page_url or page_url_of(tree)
    blocks = list_blocks(tree, page_url)
    if not blocks or blocks[0]["score"] == 0:
        return []
    best = blocks[0]
    chosen = [b for b in blocks if b is best or (
        b["score"] and b["path"] == best["path"] and b["shape"] == best["shape"] and 3 * b["score"] >= best["score"])]
    order = {el: i for i, el in enumerate(tree.iter("a"))}
    anchors = sorted(((a, url) for b in chosen for a, url in zip(b["anchors"], b["links"])),
                     key=lambda p: order.get(p[0], 0))
    out: dict[str, str] = {}
    for a, url in anchors:
        title = a.get("title") if _title(a) != _text(a) else a.text_content()
        out.setdefault(url, " ".join((title or "").split()))
    return list(out.items())


def article_links(tree, page_url: str | None = None) -> list[str]:
    """The URLs of :func:`list_articles`."""
    return [url for url, _ in list_articles(tree, page_url)]
