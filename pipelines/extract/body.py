"""The main text of a parsed page: steps 2-4 of the cascade of :mod:`pipelines.extract`.

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
"""

from __future__ import annotations

import re
import unicodedata

import trafilatura
from lxml import etree

from ..datafiles import data_lines
from ..htmltree import compile_selector, node_text, parse_html, text_length as _length

__all__ = ["KNOWN_BODY_SELECTORS", "MIN_BODY_CHARS", "TRAFILATURA_SETTINGS", "find_container", "body_text"]

#: Body containers written by CMSs and portals that many sites share (pipelines/data/body_containers.txt,
#: with the evidence for each); tried after the site's own ``body_selectors``. Order does not
#: matter (the largest match wins).
KNOWN_BODY_SELECTORS: tuple[str, ...] = tuple(data_lines("body_containers.txt"))

#: A container or an extraction with less text than this (characters, whitespace removed) is
#: treated as "nothing found" and the next step of the cascade runs.
MIN_BODY_CHARS = 60

#: Settings chosen by measurement on the gold pages (benchmarks/README.md, "trafilatura settings").
TRAFILATURA_SETTINGS = dict(include_comments=False, include_tables=True, favor_precision=False,
                            favor_recall=False, deduplicate=False)

#: class/id words of blocks that are never body text (pipelines/data/noise_blocks.txt).
_NOISE_ATTR = re.compile("|".join(data_lines("noise_blocks.txt")), re.I)
#: The descendant elements a class/id rule can name, in page order, found inside libxml2:
#: most elements of a page have neither, and testing each from Python cost ~1 ms a page.
_WITH_CLASS_OR_ID = etree.XPath("descendant::*[@class or @id]")
#: (The shortcut holds because no rule matches an element with neither: " ".)
_BARE_IS_QUIET = _NOISE_ATTR.search(" ") is None
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_DROP_TAGS = ("script", "style", "noscript", "iframe", "form", "button", "select", "input", "textarea",
              "object", "embed", "audio", "video", "svg", "canvas", "map")


def find_container(tree, site_selectors: tuple[str, ...] = ()):
    """(node, selector) of the body container (step 2), or None: the site's selectors first,
    then :data:`KNOWN_BODY_SELECTORS`."""
    return _best_container(tree, tuple(site_selectors) + KNOWN_BODY_SELECTORS)


def body_text(html: str, tree, found, url: str | None, prune_xpaths: tuple[str, ...] = ()) -> tuple[str, str]:
    """(text, which step gave it) of the page ``html`` parsed as ``tree``; ``found`` is
    :func:`find_container`'s answer. Edits ``tree``: read everything else from it first."""
    if found is not None:
        node, selector = found
        _prune(node, prune_xpaths)
        text = node_text(node)
        if _length(text) >= MIN_BODY_CHARS:
            return text, f"container:{selector}"
    # 3. trafilatura on the page, after dropping share/comment/related widgets it lets through
    body = tree.find("body")
    _prune_widgets(body if body is not None else tree)
    page_text = _page_text(tree)  # before trafilatura edits the tree
    text = _in_order(_trafilatura_text(tree, url, prune_xpaths, TRAFILATURA_SETTINGS), page_text)
    if _plausible(text):
        return text, "trafilatura"
    # 4. implausible (too short, or navigation words only): trafilatura favouring recall, then the
    #    block holding the most paragraph text; the longest plausible result wins. trafilatura
    #    edited the tree it was given, so each try gets a fresh parse (rare, so not worth a copy).
    settings = {**TRAFILATURA_SETTINGS, "favor_precision": False, "favor_recall": True}
    tries = [(text, "trafilatura")]
    fresh = parse_html(html)
    page_text = _page_text(fresh)
    tries.append((_in_order(_trafilatura_text(fresh, url, prune_xpaths, settings), page_text),
                  "trafilatura:favor_recall"))
    dense = _densest_block(parse_html(html))
    if dense is not None:
        node, label = dense
        _prune(node, prune_xpaths)
        tries.append((node_text(node), f"density:{label}"))
    plausible = [t for t in tries if _plausible(t[0])] or tries
    text, how = max(plausible, key=lambda t: _length(t[0]))
    return text, how if text else "none"


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
    candidates = _WITH_CLASS_OR_ID(root) if _BARE_IS_QUIET else root.iterdescendants()
    doomed = [el for el in candidates
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
        node = largest(compile_selector(selector)(tree))
        if node is not None:
            return node, selector
    pooled = _known_matches(tree)
    if not pooled:
        return None
    nodes = {n for n, _ in pooled}
    # outermost only: a Custom_UnionStyle inside a TRS_Editor is the same body
    outer = [(n, s) for n, s in pooled if not any(a in nodes for a in n.iterancestors())]
    best = max(outer, key=lambda ns: _own_text_length(ns[0]))
    return best if _own_text_length(best[0]) >= MIN_BODY_CHARS else None


#: ``tag.class`` / ``tag#id`` / ``.class`` / ``#id``: the selectors :func:`_known_matches` reads itself.
_SIMPLE_SELECTOR = re.compile(r"^([a-z][a-z0-9]*)?([.#])([A-Za-z_][A-Za-z0-9_-]*)$")
_SIMPLE_KNOWN = [_SIMPLE_SELECTOR.match(s) for s in KNOWN_BODY_SELECTORS]
#: XPath's normalize-space() splits a class attribute on these four, and only these.
_CLASS_SEP = re.compile("[ \t\r\n]+")
#: The page's elements with a class or an id, itself included, in page order (inside libxml2).
_SELF_OR_DESCENDANTS_WITH_CLASS_OR_ID = etree.XPath("descendant-or-self::*[@class or @id]")


def _known_matches(tree) -> list:
    """``(node, selector)`` for every match of every known container selector: selector by
    selector, each in page order - what running each compiled selector gives. All of them
    are one class or one id (with a tag at most): one pass over the elements that have a
    class or an id answers them all, instead of thirteen walks of the whole page."""
    if not all(_SIMPLE_KNOWN):  # a selector of another shape in the data file
        return [(n, s) for s in KNOWN_BODY_SELECTORS for n in compile_selector(s)(tree)]
    by_class: dict[str, list] = {}
    by_id: dict[str, list] = {}
    for el in _SELF_OR_DESCENDANTS_WITH_CLASS_OR_ID(tree):
        classes = el.get("class")
        if classes:
            for name in dict.fromkeys(_CLASS_SEP.split(classes)):
                by_class.setdefault(name, []).append(el)
        ident = el.get("id")
        if ident is not None:
            by_id.setdefault(ident, []).append(el)
    pooled = []
    for selector, m in zip(KNOWN_BODY_SELECTORS, _SIMPLE_KNOWN):
        tag, kind, name = m.groups()
        nodes = (by_class if kind == "." else by_id).get(name, ())
        pooled.extend((n, selector) for n in nodes if tag is None or n.tag == tag)
    return pooled


def _prune(node, prune_xpaths: tuple[str, ...]) -> None:
    """Drop non-body blocks inside the chosen container (in place)."""
    doomed = []
    for xp in prune_xpaths:
        doomed.extend(e for e in compile_selector(xp)(node) if e is not node)
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
