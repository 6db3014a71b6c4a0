"""The headline of an HTML page: a visible heading, head metadata, or the ``<title>``
without the site and channel names appended to it."""

from __future__ import annotations

import re

__all__ = ["clean_title", "is_site_name", "page_title", "split_headline", "page_subtitle", "squash", "TITLE_META_NAMES"]

#: head <meta> names (lower case) that carry the headline, most trusted first.
TITLE_META_NAMES = ("articletitle", "og:title", "twitter:title")

#: Title suffix separators and what a trailing site/channel segment looks like.
_STRONG_SPLIT = re.compile(r"\s*(?:--|_|\s-\s|\s–\s)\s*")
_WEAK_SPLIT = re.compile(r"\s*(?:\||｜|-|\s)\s*")
_SITE_WORDS = re.compile(r"(?:网|频道|网站|报|政府|门户|平台|新闻|在线|首页|中心|导航|菜单|栏目|登录|\.cn|\.com)$", re.I)
_TAGS = re.compile(r"<[^>]+>")
_WS = re.compile(r"\s+")
_TITLE_CLASS = re.compile(r"(?:^|[\s_-])(?:bt_?title|art_?title|article_?title|news_?title|title|tit|headline)(?:$|[\s_-])", re.I)


#: A 副题 after the headline: ``主题——副题`` (a dash of two or more em dashes or horizontal bars).
_SUBTITLE_DASH = re.compile(r"\s*[—―]{2,}\s*")
#: class/id of the 引题 / 副题 elements printed beside the headline.
_SUBTITLE_CLASS = re.compile(r"(?:^|[\s_-])(?:sub_?title|subtitle|fu_?title|fbt|fubiaoti|futi|yinti|yin_?title|"
                             r"pre_?title|pretitle|intro_?title|ftitle|f_title)(?:$|[\s_-])", re.I)


def split_headline(title: str | None) -> tuple[str | None, str | None]:
    """``(title, subtitle)`` of a printed headline: markup out (a CMS that stores the 副题 as
    ``<div>——…</div>`` inside the headline field), a ``主题——副题`` headline split at its
    dash. A short head (``李简——新外科运动…``: a name, then the headline) is not split."""
    if not title:
        return None, None
    parts = [p.strip() for p in re.split(r"<[^>]*>", title)]
    main = parts[0] if "<" in title and len(parts[0]) >= 4 else None
    if main is not None:
        rest = _WS.sub(" ", " ".join(p for p in parts[1:] if p)).strip()
        return main, (_SUBTITLE_DASH.sub("", rest, count=1).strip(" —―") or None)
    title = _WS.sub(" ", _TAGS.sub("", title)).strip()
    pieces = _SUBTITLE_DASH.split(title, maxsplit=1)
    if len(pieces) == 2 and len(pieces[0]) >= 4 and len(pieces[1]) >= 4:
        return pieces[0], pieces[1]
    return title or None, None


def page_subtitle(tree, title: str) -> tuple[str, str] | None:
    """(引题 or 副题, where) printed beside the headline: the element after the headline when it
    opens with a dash (``<h2>——热烈祝贺…</h2>``), or an element styled as one."""
    key = squash(title)
    for tag in ("h1", "h2"):
        for heading in tree.iter(tag):
            follower = heading.getnext()
            if squash(heading.text_content()) != key or follower is None or not isinstance(follower.tag, str):
                continue
            text = _WS.sub(" ", follower.text_content()).strip()
            if _SUBTITLE_DASH.match(text) and 4 <= len(text) <= 82:
                return _SUBTITLE_DASH.sub("", text, count=1).strip(), f"{follower.tag}:after-{tag}"
    for el in tree.iter("h2", "h3", "h4", "h5", "div", "p", "span", "td"):
        hint = f"{el.get('class') or ''} {el.get('id') or ''}"
        if not _SUBTITLE_CLASS.search(hint):
            continue
        text = _WS.sub(" ", el.text_content()).strip().strip("—― ")
        if not (4 <= len(text) <= 80) or squash(text) == key or _is_site_name(text):
            continue
        # printed with the headline: the block around it holds the headline and little else
        # (a "footer-subtitle" far from it is a footer's heading, "友情链接")
        around = el.getparent()
        block = squash(around.text_content()) if around is not None else ""
        beside = [squash(n.text_content()) for n in (el.getprevious(), el.getnext()) if n is not None]
        if key and (key in beside or key in block and len(block) <= len(key) + len(squash(text)) + 80):
            return text, f"{el.tag}.{(el.get('class') or el.get('id') or '').split()[0]}"
    return None


def squash(text: str | None) -> str:
    """``text`` without any whitespace (ideographic spaces included): for comparing headlines."""
    return re.sub(r"[\s\u3000]+", "", text or "")


def clean_title(title: str | None) -> str | None:
    """A <title> without the site and channel names appended to it.

    ``_``, `` - ``, ``--`` and `` – `` separate the headline from site and channel names,
    so the text before the first one is the headline. ``|``, ``｜`` and a bare ``-`` also
    occur inside headlines ("书记市长这一周 | …"), so after them only trailing segments that
    look like site names (网, 频道, 日报, …) are dropped.
    """
    if not title:
        return None
    title = _WS.sub(" ", _TAGS.sub("", title)).strip()
    head = _STRONG_SPLIT.split(title, maxsplit=1)[0].strip()
    if len(head) >= 4:
        title = head
    parts = [p for p in _WEAK_SPLIT.split(title) if p]
    while len(parts) > 1 and _SITE_WORDS.search(parts[-1]) and len(parts[-1]) <= 16:
        parts.pop()
    return title[: title.find(parts[-1]) + len(parts[-1])].strip() if parts else None


def page_title(tree, heads) -> tuple[str, str] | None:
    """(headline, where it was found) of a parsed page; ``heads`` maps lower-cased head
    ``<meta>`` names to their content (``.original(name)`` gives the name as written)."""
    page = _WS.sub(" ", tree.findtext(".//title") or "").strip()
    cleaned = clean_title(page)
    headings = [_WS.sub(" ", h.text_content()).strip() for tag in ("h1", "h2") for h in tree.iter(tag)]
    headings = [h for h in headings if 4 <= len(h) <= 120 and not _is_site_name(h)]
    key = squash(page)
    # a visible heading the <title> starts with is the headline exactly as printed (the
    # <title> may add the site or channel after a bare space: "… 东区办事处_中山网")
    for heading in headings:
        if squash(heading) and key.startswith(squash(heading)) and len(squash(heading)) >= len(squash(cleaned or "")) * 0.6:
            return heading, "h1" if heading in _texts(tree, "h1") else "h2"
    if not headings and key:
        for text, where in _styled_titles(tree):
            if key.startswith(squash(text)) and len(squash(text)) >= len(squash(cleaned or "")) * 0.6:
                return text, where
    for name in TITLE_META_NAMES:
        value = clean_title(heads.get(name))
        if value and len(value) >= 4 and not _is_site_name(value):
            return value, f"meta[name={heads.original(name)}]"
    printed = _printed_head(tree, cleaned)
    if printed:
        return printed, "title:channel-removed"
    if cleaned and not _is_site_name(cleaned):
        return cleaned, "title" if cleaned == page else "title:site-suffix-removed"
    # <title> holds only the site's name ("北医新闻网_(新闻)"): the element styled as the title
    for text, where in _styled_titles(tree):
        if len(text) <= 80:
            return text, where
    if cleaned and not _is_site_name(cleaned):
        return cleaned, "title"
    if headings:
        return headings[0], "h1" if headings[0] in _texts(tree, "h1") else "h2"
    return None


def _printed_head(tree, title: str | None) -> str | None:
    """``中华人民共和国监察法`` of a <title> ``中华人民共和国监察法-纪检``: the part before the last
    ``-`` or ``|`` when what follows is short and the page prints exactly that part as an
    element of its own (the channel name after it is not part of the headline)."""
    if not title:
        return None
    for sep in ("-", "|", "｜"):
        head, _, tail = title.rpartition(sep)
        head, tail = head.strip(), tail.strip()
        if len(head) >= 4 and 0 < len(tail) <= 8:  # a channel name is short; "书记市长这一周 | …" is a headline
            key = squash(head)
            for el in tree.iter("h1", "h2", "h3", "h4", "td", "div", "p", "span", "strong", "b", "font"):
                if squash(el.text_content()) == key:
                    return head
    return None


def is_site_name(text: str | None) -> bool:
    """A site's or channel's name or a navigation label, never a headline ("松花江网", "全部导航")."""
    return bool(text) and _is_site_name(text.strip())


def _styled_titles(tree):
    """(text, where) of the elements styled as the headline (class or id ``title``, ``bt_title`` …)."""
    for el in tree.iter("td", "div", "span", "p", "strong", "font"):
        hint = f"{el.get('class') or ''} {el.get('id') or ''}"
        if _TITLE_CLASS.search(hint):
            text = _WS.sub(" ", el.text_content()).strip()
            if 4 <= len(text) <= 120 and not _is_site_name(text):
                yield text, f"{el.tag}.{(el.get('class') or el.get('id') or '').split()[0]}"


def _is_site_name(text: str) -> bool:
    """"北医新闻网", "人民网": a short name ending like a site's, not a headline."""
    return len(text) <= 10 and bool(_SITE_WORDS.search(text))


def _texts(tree, tag: str) -> set[str]:
    return {_WS.sub(" ", h.text_content()).strip() for h in tree.iter(tag)}
