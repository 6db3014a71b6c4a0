"""Metadata of an HTML page, each value with where it came from.

``extract_meta(tree, url) -> Metadata`` (:mod:`pipelines.metadata`): title, published,
source_name, authors, editor. Provenance values name the source, e.g.
``"meta[name=PubDate]"``, ``"byline:发布时间"``, ``"url:t20240513"``, ``"htmldate"``.

Sources are tried most-trusted first; the first plausible value wins:

1. the site config's ``meta_selectors`` (CSS or XPath per key);
2. the Baidu news-protocol elements ``#pubtime_baidu``, ``#source_baidu``,
   ``#author_baidu``, ``#editor_baidu``; then structured head metadata (TRS
   ``ArticleTitle``/``PubDate``/``ContentSource``, the people.com.cn/xinhua CMS
   ``publishdate``/``source``/``author``, Open Graph);
3. the byline: labelled fields (``发布时间：``, ``来源：``, ``作者：``, ``责任编辑：``) and the
   first date printed under the headline;
4. the URL (``t20240513_``, ``/2024-05/13/``, ``/2024/0510/``, ``/20240515/``);
5. htmldate, last, because it also guesses from unrelated dates on the page.

Dates before 1990 or after today are rejected wherever they come from (copyright
years, scheduling widgets and typos produce both; :mod:`pipelines.dates`).
"""

from __future__ import annotations

import datetime as dt
import re

from lxml import etree

from ..dates import china_time, china_today, parse_date, relative_date, url_date
from ..htmltree import compile_selector, node_text
from ..metadata import Metadata, credit_names, is_role_word
from .title import is_site_name, page_subtitle, page_title, split_headline, squash as _squash

__all__ = ["extract_meta", "plausible_name"]

#: head <meta> names (lower case) per key, most trusted first (the title's: extract/title.py).
_META_NAMES = {
    "published": ("pubdate", "publishdate", "article:published_time", "og:release_date", "publish_date",
                  "firstpublishedtime", "dc.date.issued", "dc.date", "datepublished", "date"),
    "source_name": ("contentsource", "source", "og:article:source"),
    "authors": ("article:author", "author"),
    "editor": ("editor",),
}

_SEP = r"[ \t]*[:：][ \t]*"
#: Element ids of the Baidu news protocol, printed in the byline by many Chinese CMSs.
_BAIDU_IDS = {"published": "pubtime_baidu", "source_name": "source_baidu", "authors": "author_baidu",
              "editor": "editor_baidu"}
#: The descendants with an id, in page order, found in one walk inside libxml2; those with
#: one of the Baidu ids are picked from them (ElementPath's ``iterfind(".//*[@id='x']")``
#: tested every element in Python, once per id; an XPath comparing the ids is slower still).
_WITH_ID = etree.XPath("descendant::*[@id]")
_BAIDU_ID_SET = frozenset(_BAIDU_IDS.values())


def _by_baidu_id(tree) -> list:
    return [el for el in _WITH_ID(tree) if el.get("id") in _BAIDU_ID_SET]
_LABELLED_DATE = (
    # Government documents are dated by their 成文日期; the portal's PubDate is the upload day.
    ("byline:成文日期", re.compile(r"成文日期" + _SEP)),
    ("byline:发布时间", re.compile(r"(?:发布|发表|更新)?时间" + _SEP)),
    ("byline:发布日期", re.compile(r"(?:发布|发表|发文)?日期" + _SEP)),
)
_LABEL_STOP = r"(?=\s|$|(?:19|20)\d\d[-年/.]|\||｜|　|来源|作者|编辑|责编|发布|时间|日期|字号|浏览|点击|分享|打印|【|\[|\]|】|）|\))"
_SOURCE_RE = re.compile(r"(?:信息|稿件|文章)?来源" + _SEP + r"([^\s|｜]{2,30}?)" + _LABEL_STOP)
_ISSUER_RE = re.compile(r"发文机关" + _SEP + r"([\u4e00-\u9fff（）()]{2,40}?)" + _LABEL_STOP)
_EDITOR_RE = re.compile(r"(?:责任编辑|责编|编辑)" + _SEP + r"([\u4e00-\u9fff·]{2,8}(?:[、，, ][\u4e00-\u9fff·]{2,4})*)")
_AUTHOR_LABEL_RE = re.compile(r"(?<![本])(?:作者|撰稿|文)" + _SEP + r"([\u4e00-\u9fff·]{2,4}(?:[、，, ]+[\u4e00-\u9fff·]{2,4})*)"
                              r"(?=[\s）)|/,，、;；\]】]|$|来源|编辑|责编|发布|时间|日期|点击|浏览|阅读)")
# 记者 王乐文、印朋 / 本报记者 葛灵丹 / （记者 胡晓蓉） / 记者马俊峰/文 / 通讯员 张三; not "记者了解到", not photo credits (摄)
_REPORTER_RE = re.compile(
    r"(?<![小])(?P<role>记者|通讯员)[ \t]*[:：]?[ \t]*(?P<names>(?:[\u4e00-\u9fff·]{2,4}(?:[、，, ]+|(?=[）)\s/|]|$)))+)(?![ \t、，,]*摄)")
#: Words that make a 2-4 character run a phrase or an organisation, not a person
#: ("记者了解到", "记者在现场", "本报编辑部"); checked as prefix, infix or suffix.
_NOT_NAME = re.compile(r"编辑|责任|记者|通讯员|作者|来源|责编|训练|整合|综合|摄影|供稿|实习|编译|了解|获悉|采访|看到|注意|发现|走进|来到|报道|表示|介绍|"
                       r"分享|微信|微博|中心|网|科技|公司|集团|传媒|^[在从对向据于为]|[报社台站部院局委厅处办]$")
_WS = re.compile(r"\s+")


def extract_meta(tree, url: str | None = None, *, meta_selectors: dict[str, str] | None = None,
                 today: dt.date | None = None, fetched: dt.datetime | None = None) -> Metadata:
    """The metadata of a parsed page (an ``lxml.html`` document); reads the tree, never edits it.
    ``fetched`` (when the page was fetched) dates a byline that says ``3小时前`` or ``昨天``."""
    today = today or (china_time(fetched).date() if fetched else china_today())
    meta = Metadata()
    heads = _head_metas(tree)
    lines = None  # page text lines, computed only when a byline search is needed

    def page_lines() -> list[str]:
        nonlocal lines
        if lines is None:
            body = tree.find("body")
            lines = _join_labels(node_text(body if body is not None else tree).split("\n"))
        return lines

    # 1. site selectors
    for key, selector in (meta_selectors or {}).items():
        value = _select_text(tree, selector)
        if value:
            _accept(meta, key, value, f"site:{selector}", today)

    # 2. the Baidu news-protocol elements many CMSs print in the byline (#pubtime_baidu ...)
    first: dict[str, object] = {}
    if not all(meta.has(key) for key in _BAIDU_IDS):
        for el in _by_baidu_id(tree):
            first.setdefault(el.get("id"), el)
    for key, element_id in _BAIDU_IDS.items():
        if not meta.has(key) and element_id in first:
            el = first[element_id]
            _accept(meta, key, el.get("wzades") or el.text_content(), f"#{element_id}", today)

    # title
    if not meta.has("title"):
        found = page_title(tree, heads)
        if found:
            meta.offer("title", *found)
    if meta.title:
        # text only, the 副题 apart: "主题<div>——副题</div>" is title and subtitle
        title, subtitle = split_headline(meta.title)
        if title != meta.title:
            how = meta.provenance["title"]
            meta.title = title
            meta.offer("subtitle", subtitle, f"{how}:副题")
        if not meta.has("subtitle"):
            found = page_subtitle(tree, meta.title)
            if found:
                meta.offer("subtitle", *found)
    headline_at = _headline_index(page_lines(), meta.title)

    # published
    if not meta.has("published"):
        found = _published(tree, heads, page_lines(), headline_at, url, today, fetched)
        if found:
            meta.offer("published", *found)

    # source
    if not meta.has("source_name"):
        for name in _META_NAMES["source_name"]:
            value = _strip_label(heads.get(name))
            if value and not _looks_like_url(value):
                meta.offer("source_name", value, f"meta[name={heads.original(name)}]")
                break
        else:
            found = _strip_label(_labelled(page_lines(), headline_at, _SOURCE_RE))
            if found:
                meta.offer("source_name", found, "byline:来源")
            else:
                # government information-disclosure pages name the issuing organ in their card
                found = _labelled(page_lines(), 0, _ISSUER_RE)
                if found:
                    meta.offer("source_name", found, "byline:发文机关")

    # editor
    if not meta.has("editor"):
        found = _labelled(page_lines(), headline_at, _EDITOR_RE, anywhere=True)
        if found and _names(found):
            meta.offer("editor", _names(found)[0], "byline:责任编辑")
        elif plausible_name(heads.get("editor")):
            meta.offer("editor", heads.get("editor").strip(), "meta[name=editor]")

    # authors
    if not meta.has("authors"):
        found = _authors(heads, page_lines(), headline_at, meta.editor)
        if found:
            meta.offer("authors", *found)
    return meta


def _join_labels(lines: list[str]) -> list[str]:
    """Lines with a label cut from its value ("成文日期：" | "2022年01月27日", a table cell or a
    <span> per field) joined back into one line."""
    out: list[str] = []
    for line in lines:
        if out and len(out[-1]) <= 40 and out[-1].endswith((":", "：")):
            out[-1] = out[-1] + " " + line
        else:
            out.append(line)
    return out


# --- headline, dates --------------------------------------------------------------------

def _headline_index(lines: list[str], title: str | None) -> int:
    """Index of the line that prints the headline (bylines follow it); 0 when not found."""
    key = _squash(title)[:12]
    if not key:
        return 0
    for i, line in enumerate(lines):
        if _squash(line).startswith(key) and len(line) < 200:
            return i
    return 0


def _published(tree, heads, lines, headline_at, url, today, fetched=None) -> tuple[dt.date, str] | None:
    """(date, where it was found) of the page, most trusted source first."""
    window = lines[headline_at: headline_at + 12] if lines else []
    # 成文日期 first (see _LABELLED_DATE)
    label, rx = _LABELLED_DATE[0]
    found = _labelled_date(lines, rx, today)
    if found:
        return found, label
    for name in _META_NAMES["published"]:
        date = parse_date(heads.get(name), today)
        if date:
            return date, f"meta[name={heads.original(name)}]"
    for label, rx in _LABELLED_DATE[1:]:
        found = _labelled_date(window, rx, today)
        if found:
            return found, label
    for line in window:  # the first date printed under the headline
        date = parse_date(line, today)
        if date:
            return date, "byline:date"
        found = _relative(line, fetched)
        if found:
            return found
    found = url_date(url, today)
    if found:
        return found
    date = _htmldate(tree, url, today)
    return (date, "htmldate") if date else None


#: A line whose relative date is the page's: a labelled one, or a short byline line
#: ("3天前，他来到…" in a first paragraph is the report's, not the page's date).
_BYLINE_WORDS = re.compile(r"发布|时间|日期|来源|作者|编辑|记者|浏览|阅读")


def _relative(line: str, fetched: dt.datetime | None) -> tuple[dt.date, str] | None:
    if fetched is None or len(line) > 80 or (len(line) > 30 and not _BYLINE_WORDS.search(line)):
        return None
    found = relative_date(line, fetched)
    if not found:
        return None
    date, words = found
    return date, f"byline:relative:{words}@{china_time(fetched):%Y-%m-%dT%H:%M%z}"


def _labelled_date(lines, rx, today) -> dt.date | None:
    for line in lines:
        m = rx.search(line)
        if m:
            date = parse_date(line[m.end(): m.end() + 40], today)
            if date:
                return date
    return None


def _htmldate(tree, url, today) -> dt.date | None:
    try:
        from htmldate import find_date
        import copy
        # extensive_search scans every date on the page: seconds on long list-like pages, and
        # those guesses are what the byline search above already rejected
        found = find_date(copy.deepcopy(tree), url=url, original_date=True, extensive_search=False,
                          max_date=today.isoformat())
    except Exception:  # htmldate raises on odd trees; a missing date is not an error
        return None
    date = parse_date(found, today) if found else None
    return date if date and _printed(tree, url, date) else None


def _printed(tree, url, date: dt.date) -> bool:
    """The page or its URL prints ``date``: htmldate also answers with a day the page never
    names (seen: the machine's yesterday for a page whose one date lies after China's today)."""
    from lxml import etree

    source = (url or "") + etree.tostring(tree, encoding="unicode")
    y, m, d = date.year, date.month, date.day
    return bool(re.search(rf"{y}\s*[-/.年]\s*0?{m}\s*[-/.月]\s*0?{d}(?!\d)|{y}{m:02d}{d:02d}", source))


# --- people and sources ----------------------------------------------------------------------

def plausible_name(value: str | None) -> bool:
    """A person's name: 2-4 Han characters (or a ·-joined transliteration), not a CMS user id
    like ``L_104485`` or ``105464``, not an organisation."""
    if not value:
        return False
    value = value.strip()
    if is_role_word(value):
        return False
    if not re.fullmatch(r"[\u4e00-\u9fff]{2,4}|[\u4e00-\u9fff]{1,6}·[\u4e00-\u9fff]{1,8}", value):
        return False
    return not _NOT_NAME.search(value)


def _names(found: str) -> list[str]:
    """The people a credit names (labels out, several names after one label split)."""
    return [n for n in credit_names(found) if plausible_name(n)]


def _authors(heads, lines, headline_at, editor: str | None) -> tuple[list[str], str] | None:
    """(names, where they were found): the labelled byline, then 记者/通讯员, then head metadata."""
    found = _labelled(lines, headline_at, _AUTHOR_LABEL_RE)
    if found and _names(found):
        return _names(found), "byline:作者"
    for line in lines[headline_at:]:
        for m in _REPORTER_RE.finditer(line):
            names = _names(m.group("names"))
            if names:
                return names, f"byline:{m.group('role')}"
    for name in _META_NAMES["authors"]:
        value = (heads.get(name) or "").strip()
        # the CMS "author" is often the account that posted the page (the editor)
        if plausible_name(value) and value != editor:
            return [value], f"meta[name={heads.original(name)}]"
    return None


def _labelled(lines, start, rx, anywhere: bool = False) -> str | None:
    """First match of ``rx`` at or after the headline (anywhere in the page if ``anywhere``)."""
    order = lines[start:] + (lines[:start] if anywhere else [])
    for line in order:
        m = rx.search(line)
        if m:
            return m.group(1).strip()
    return None


def _strip_label(value: str | None) -> str | None:
    if not value:
        return None
    value = re.sub(r"^\s*(?:信息|稿件)?来源\s*[:：]\s*", "", value).strip()
    return value if re.search(r"[\u4e00-\u9fffA-Za-z]", value) else None


def _looks_like_url(value: str) -> bool:
    return bool(re.match(r"(?:https?:|www\.)", value, re.I))


# --- <meta> access ---------------------------------------------------------------------------

class _Heads(dict):
    """Lower-cased meta name -> content (first non-empty wins); remembers the spelling used."""

    def __init__(self):
        super().__init__()
        self._orig: dict[str, str] = {}

    def put(self, name: str, content: str) -> None:
        key = name.strip().lower()
        if key and content.strip() and key not in self:
            self[key] = content.strip()
            self._orig[key] = name.strip()

    def original(self, key: str) -> str:
        return self._orig.get(key, key)


def _head_metas(tree) -> _Heads:
    heads = _Heads()
    for m in tree.iter("meta"):
        name = m.get("name") or m.get("property") or m.get("itemprop")
        if name:
            heads.put(name, m.get("content") or "")
    return heads


def _select_text(tree, selector: str) -> str | None:
    for node in compile_selector(selector)(tree):
        value = node if isinstance(node, str) else (node.get("content") or node.text_content())
        value = _WS.sub(" ", value or "").strip()
        if value:
            return value
    return None


def _labelled_part(key: str, value: str, today: dt.date) -> str:
    """The part of a selected value its label names, when the selector read a whole byline.

    Many CMSs print date and source in one block (``发布时间：2023年06月12日　来源：最高人民检察院``),
    so a site selector for either key gets both; the 来源 label (or the date label) says which
    part is this key's. A value without such a label is returned unchanged.
    """
    if key == "source_name":
        m = _SOURCE_RE.search(value)
        return m.group(1) if m else value
    if key == "published":
        for _name, rx in _LABELLED_DATE:
            m = rx.search(value)
            if m and parse_date(value[m.end():], today):
                return value[m.end():]
    return value


def _accept(meta: Metadata, key: str, value: str, source: str, today: dt.date) -> None:
    """A site-selector value, parsed into the type its key holds."""
    value = _labelled_part(key, value, today)
    if key == "published":
        meta.offer(key, parse_date(value, today), source)
    elif key in ("authors", "editor"):
        names = _names(re.sub(r"^.*?[:：]", "", value))
        if names:
            meta.offer(key, names if key == "authors" else names[0], source)
    elif key == "source_name":
        meta.offer(key, _strip_label(re.sub(r"^.*?[:：]\s*", "", value).strip()), source)
    elif key == "title" and not is_site_name(value):  # a logo's <h1>: the page's own title search decides
        title, subtitle = split_headline(value)
        meta.offer(key, title, source)
        meta.offer("subtitle", subtitle, f"{source}:副题")
