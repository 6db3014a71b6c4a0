"""HTML -> main text, metadata with provenance, attachment links.

The cascade (each step only runs when the one before found nothing usable):

1. Metadata first, on the untouched page (:func:`pipelines.htmlmeta.extract_meta`),
   because bylines often sit in blocks that body pruning removes.
2. Known body containers: the site config's ``body_selectors``, then the containers
   the big Chinese CMSs write (TRS ``TRS_Editor`` / ``Custom_UnionStyle`` /
   ``TRS_UEDITOR``, ``#fontzoom``, people.com.cn ``div.rm_txt_con``, ``div.show_text``,
   news.cn ``#detail``, the UCAP government CMS ``#UCAP-CONTENT``). Of all matches the
   one with the most non-link text wins (TRS sites reuse ``TRS_Editor`` for their
   footers; some pages repeat the body for print).
   Inside the container, site ``prune_xpaths``, hidden elements, comment, share and
   "related" blocks and link-dense blocks are dropped before the text is read.
3. trafilatura with the settings measured best on the gold pages
   (``benchmarks/extraction.py``; numbers in ``benchmarks/README.md``).
4. Fallback when the result is implausible (too short, or menu words without a
   paragraph): trafilatura favouring recall, and the block holding the most paragraph
   text; the longest plausible candidate is kept.

trafilatura's text counts as found only when every line of it reads in the page's own order:
on broken nesting (a ``<div>`` inside a ``<p>`` inside a ``<font>``) it can move a paragraph
after the ones that follow it, and a reordered report is worse than the density fallback.

The text is not cleaned here: ``pipelines.clean.clean_text`` does that next
(boilerplate lines, bylines), see ``pipelines.process.document_from_html``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import trafilatura
from cssselect import GenericTranslator, SelectorError
from lxml import etree
from trafilatura.utils import load_html

from .attachments import attachment_links
from .errors import DjcrawlError
from .htmlmeta import extract_meta
from .htmltext import node_text, text_length as _length

__all__ = ["Extracted", "extract_html", "attachments_of", "KNOWN_BODY_SELECTORS", "MIN_BODY_CHARS"]

#: Body containers written by CMSs that many government and news sites share; tried after the
#: site's own ``body_selectors``. Order does not matter (the largest match wins).
KNOWN_BODY_SELECTORS: tuple[str, ...] = (
    ".TRS_Editor", ".Custom_UnionStyle", ".TRS_UEDITOR", "#fontzoom",
    "div.rm_txt_con", "div.show_text", "#detail", "#UCAP-CONTENT",
)

#: A container or an extraction with less text than this (characters, whitespace removed) is
#: treated as "nothing found" and the next step of the cascade runs.
MIN_BODY_CHARS = 60

#: Settings chosen by measurement on the gold pages (benchmarks/README.md, "trafilatura settings").
TRAFILATURA_SETTINGS = dict(include_comments=False, include_tables=True, favor_precision=False,
                            favor_recall=False, deduplicate=False)

#: class/id words of blocks that are never body text: comments, share bars, related and
#: recommended lists, pagers, print/close links, editor-picks.
_NOISE_ATTR = re.compile(
    r"comment|pinglun|share|bdshare|jiathis|fenxiang|related|relate|xgxw|xgwz|xgyd|xgtj|recommend|tuijian|"
    r"hotnews|rank|paihang|footer|copyright|print|dayin|guanbi|sidebar|advert|\bad\b|qrcode|erweima|"
    r"pager|pagination|page_nav|xinhuaPager|editor-pick|articleEdit|wxtips?|weixin|wechat",
    re.I,
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_DROP_TAGS = ("script", "style", "noscript", "iframe", "form", "button", "select", "input", "textarea",
              "object", "embed", "audio", "video", "svg", "canvas", "map")


@dataclass
class Extracted:
    #: Main text, paragraphs separated by "\n"; not yet cleaned by pipelines.clean.
    text: str
    #: Metadata found in the HTML: keys title, published (ISO date str), source_name,
    #: authors (list[str]), editor, summary. Missing keys mean "not found".
    meta: dict = field(default_factory=dict)
    #: key -> where the value came from, e.g. "meta[name=PubDate]", "#source_baidu", "url".
    #: "body" says which cascade step gave the text ("container:.TRS_Editor", "trafilatura", ...).
    provenance: dict[str, str] = field(default_factory=dict)
    #: Absolute links to attachments (PDF/DOC/DOCX...) found on the page, in page order.
    attachments: list[str] = field(default_factory=list)


def extract_html(
    html: str,
    url: str | None = None,
    *,
    body_selectors: tuple[str, ...] = (),
    prune_xpaths: tuple[str, ...] = (),
    meta_selectors: dict[str, str] | None = None,
) -> Extracted:
    """Main text and metadata of one decoded HTML page (see the module docstring for the cascade)."""
    tree = _parse(html)
    if tree is None:
        return Extracted(text="", provenance={"body": "unparseable"})
    # 1. metadata on the intact page
    meta, prov = extract_meta(tree, url, meta_selectors=meta_selectors)
    # 2. known containers
    found = _best_container(tree, tuple(body_selectors) + KNOWN_BODY_SELECTORS)
    # attachment lists are link-dense: collect them before pruning
    attachments = attachment_links(tree, url, body=found[0] if found else None)
    if found is not None:
        node, selector = found
        _prune(node, prune_xpaths)
        text = node_text(node)
        if _length(text) >= MIN_BODY_CHARS:
            prov["body"] = f"container:{selector}"
            return Extracted(text=text, meta=meta, provenance=prov, attachments=attachments)
    # 3. trafilatura on the page, after dropping share/comment/related widgets it lets through
    body = tree.find("body")
    _prune_widgets(body if body is not None else tree)
    page_text = _page_text(tree)  # before trafilatura edits the tree
    text = _in_order(_trafilatura_text(tree, url, prune_xpaths, TRAFILATURA_SETTINGS), page_text)
    prov["body"] = "trafilatura"
    if _plausible(text):
        return Extracted(text=text, meta=meta, provenance=prov, attachments=attachments)
    # 4. implausible (too short, or navigation words only): trafilatura favouring recall, then the
    #    block holding the most paragraph text; the longest plausible result wins. trafilatura
    #    edited the tree it was given, so each try gets a fresh parse (rare, so not worth a copy).
    settings = {**TRAFILATURA_SETTINGS, "favor_precision": False, "favor_recall": True}
    tries = [(text, "trafilatura")]
    fresh = _parse(html)
    page_text = _page_text(fresh)
    tries.append((_in_order(_trafilatura_text(fresh, url, prune_xpaths, settings), page_text),
                  "trafilatura:favor_recall"))
    dense = _densest_block(_parse(html))
    if dense is not None:
        node, label = dense
        _prune(node, prune_xpaths)
        tries.append((node_text(node), f"density:{label}"))
    plausible = [t for t in tries if _plausible(t[0])] or tries
    text, prov["body"] = max(plausible, key=lambda t: _length(t[0]))
    if not text:
        prov["body"] = "none"
    return Extracted(text=text, meta=meta, provenance=prov, attachments=attachments)


def _page_text(tree) -> str:
    """Every text node of ``tree`` in document order, whitespace removed, NFC: what
    :func:`_in_order` compares against. Read before trafilatura runs, which edits the tree."""
    return _squash("".join(tree.itertext())) if tree is not None else ""


def _squash(text: str) -> str:
    text = "".join(text.split())
    # trafilatura returns canonically equivalent text at times (U+FB2A as U+05E9 U+05C1)
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _in_order(text: str, page_text: str) -> str:
    """``text`` if each of its lines is a subsequence of the page's text, else ""."""
    for line in text.splitlines():
        line = _squash(line)
        if line and line not in page_text and not _is_subsequence(line, page_text):
            return ""
    return text


def _is_subsequence(small: str, big: str) -> bool:
    it = iter(big)
    return all(ch in it for ch in small)


def _plausible(text: str) -> bool:
    """Enough text, and at least one line that reads like a paragraph rather than a menu."""
    return _length(text) >= MIN_BODY_CHARS and any(_length(line) >= 30 for line in text.split("\n"))


def _densest_block(tree):
    """(element, label) of the block whose own paragraphs hold the most non-link text.

    Each paragraph-like child (p, or a div/td/font/span without block children) with at least
    10 characters of its own adds its length to its parent; the highest parent wins.
    """
    if tree is None:
        return None
    scores: dict = {}
    for el in tree.iter("p", "div", "td", "font", "span", "section"):
        if any(isinstance(c.tag, str) and c.tag in ("div", "table", "ul", "p") for c in el):
            continue
        # a <p> is a paragraph with its inline markup; other tags only by the text they hold
        # directly, so that a <td> of <font> paragraphs is their parent, not one more paragraph
        n = _own_text_length(el) if el.tag == "p" else _length((el.text or "") + "".join(c.tail or "" for c in el))
        if n >= 10 and el.getparent() is not None:
            parent = el.getparent()
            scores[parent] = scores.get(parent, 0) + n
    if not scores:
        return None
    node = max(scores, key=scores.get)
    if scores[node] < MIN_BODY_CHARS:
        return None
    hint = (node.get("id") and "#" + node.get("id")) or (node.get("class") and "." + node.get("class").split()[0]) or ""
    return node, f"{node.tag}{hint}"


def _prune_widgets(root) -> None:
    """Drop share bars, comment boxes and related lists anywhere on the page before trafilatura
    reads it: blocks whose class/id says so and that are short or mostly links (a body
    container with an unlucky class name is long and not link-dense, so it stays)."""
    doomed = [el for el in root.iterdescendants()
              if isinstance(el.tag, str) and el.tag not in ("html", "body")
              and _NOISE_ATTR.search(f"{el.get('class') or ''} {el.get('id') or ''}")
              and (_length(el.text_content()) < 200 or _link_dense(el))]
    for el in doomed:
        _drop(el)


#: trafilatura's XML vocabulary: blocks become lines, cells are joined with a space.
_TRAF_BLOCKS = frozenset("main p head item list row table quote code lb".split())


def _trafilatura_text(source, url, prune_xpaths, settings) -> str:
    """trafilatura's main text, read from its XML output.

    Its plain-text output adds markup of its own ("- " before list items, "| a | b |" for
    table rows) that is not page text; the XML says the same structure in tags.
    """
    if source is None:
        return ""
    try:
        xml = trafilatura.extract(source, url=url, output_format="xml", prune_xpath=list(prune_xpaths) or None,
                                  **settings)
    except Exception:  # noqa: BLE001 - trafilatura re-parses its own output and can fail on broken
        # markup (an attribute named "<class"); that is "no text from this step", the
        # density fallback still reads the page
        return ""
    if not xml:
        return ""
    try:
        # the XML is pretty-printed: indentation between tags is not text
        # (a parser per call: lxml parsers must not be shared between threads)
        parser = etree.XMLParser(remove_blank_text=True)
        main = etree.fromstring(xml.encode("utf-8"), parser).find("main")
    except etree.XMLSyntaxError:
        return ""
    return node_text(main, block_tags=_TRAF_BLOCKS, cell_tags=("cell",)) if main is not None else ""


def _parse(html: str):
    """An lxml tree of the page; None for pages lxml cannot read (nothing but whitespace or junk)."""
    if not html or not html.strip():
        return None
    # trafilatura's own loader (its parser options, its repairs of broken pages), so that the
    # tree handed to trafilatura in step 3 is the one it would have built itself
    # a stray </html> or </body> mid-page (server-side includes leave them) ends libxml2's
    # parse there - everything after it, the report included, would be lost; browsers ignore them
    html = _CLOSING_ROOT.sub("", html)
    try:
        tree = load_html(html)
        if tree is None and _FRAGMENT.match(html):
            # trafilatura refuses fragments ("<p>…</p>" alone); a saved snippet that starts with
            # markup is still a page (binary junk and plain text stay refused)
            tree = load_html(f"<html><body>{html}</body></html>")
        return tree
    except (etree.ParserError, ValueError, TypeError):
        return None


_CLOSING_ROOT = re.compile(r"</(?:html|body)\s*>", re.I)
_FRAGMENT = re.compile(r"\s*<(?:p|div|table|article|section|span|font|h[1-6]|ul|ol|center|td|tr)[\s>]", re.I)


@lru_cache(maxsize=256)
def _xpath(selector: str) -> etree.XPath:
    """A CSS selector (or an XPath when it starts with '/' or '(') compiled once per process."""
    try:
        expr = selector if selector.startswith(("/", "(")) else GenericTranslator().css_to_xpath(selector)
        return etree.XPath(expr)
    except (SelectorError, etree.XPathSyntaxError) as exc:
        raise DjcrawlError(f"bad body selector {selector!r}: {exc}") from None


def _own_text_length(node) -> int:
    """Characters of text outside links (link lists weigh nothing)."""
    total = _length(node.text_content())
    links = sum(_length(a.text_content()) for a in node.iter("a"))
    return total - links


def _best_container(tree, selectors: tuple[str, ...]):
    """(node, selector) of the known container with the most non-link text, or None.

    Site selectors are tried first and win whenever they match something big enough;
    known CMS containers are pooled and the largest outermost match wins.
    """
    def largest(nodes):
        best = max(nodes, key=_own_text_length, default=None)
        return best if best is not None and _own_text_length(best) >= MIN_BODY_CHARS else None

    site = [s for s in selectors if s not in KNOWN_BODY_SELECTORS]
    for selector in site:
        node = largest(_xpath(selector)(tree))
        if node is not None:
            return node, selector
    pooled = []
    for selector in KNOWN_BODY_SELECTORS:
        pooled.extend((n, selector) for n in _xpath(selector)(tree))
    if not pooled:
        return None
    nodes = {n for n, _ in pooled}
    # outermost only: a Custom_UnionStyle inside a TRS_Editor is the same body
    outer = [(n, s) for n, s in pooled if not any(a in nodes for a in n.iterancestors())]
    best = max(outer, key=lambda ns: _own_text_length(ns[0]))
    return best if _own_text_length(best[0]) >= MIN_BODY_CHARS else None


def _prune(node, prune_xpaths: tuple[str, ...]) -> None:
    """Drop non-body blocks inside the chosen container (in place)."""
    doomed = []
    for xp in prune_xpaths:
        doomed.extend(e for e in _xpath(xp)(node) if e is not node)
    for el in node.iterdescendants():
        if not isinstance(el.tag, str):  # comments, processing instructions
            doomed.append(el)
        elif el.tag in _DROP_TAGS:
            doomed.append(el)
        elif _HIDDEN_STYLE.search(el.get("style") or ""):
            doomed.append(el)
        elif _NOISE_ATTR.search(f"{el.get('class') or ''} {el.get('id') or ''}"):
            doomed.append(el)
        elif el.tag in ("ul", "ol", "table", "div", "dl") and _link_dense(el):
            doomed.append(el)
    for el in doomed:
        _drop(el)


def _link_dense(el) -> bool:
    """A block that is mostly links: a related-news list, a tag cloud, a pager."""
    links = list(el.iter("a"))
    if len(links) < 2:
        return False
    total = _length(el.text_content())
    if total == 0:
        return False
    linked = sum(_length(a.text_content()) for a in links)
    return linked / total > 0.6


def _drop(el) -> None:
    """Remove an element but keep its tail text (the tail belongs to the parent's flow)."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    prev = el.getprevious()
    if tail and tail.strip():
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def attachments_of(tree, url, body_selectors=()) -> list[str]:
    """``extract_html(...).attachments`` of a parsed page, without extracting (interim)."""
    found = _best_container(tree, tuple(body_selectors) + KNOWN_BODY_SELECTORS)
    return attachment_links(tree, url, body=found[0] if found else None)
