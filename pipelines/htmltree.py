"""The parsed page: parsing with our repairs, selectors compiled once, text as lines.

Body extraction, HTML metadata and attachment links all read the same tree, and
read its text the same way (:func:`node_text`), so a byline and the body never
disagree about what a line is.
"""

from __future__ import annotations

import re
from functools import lru_cache

from cssselect import GenericTranslator, SelectorError
import lxml.html
import trafilatura.utils
from lxml import etree
from trafilatura.utils import load_html

from .errors import DjcrawlError

__all__ = ["parse_html", "compile_selector", "node_text", "text_length", "BLOCK_TAGS", "SKIP_TAGS"]

_CLOSING_ROOT = re.compile(r"</(?:html|body)\s*>", re.I)
_FRAGMENT = re.compile(r"\s*<(?:p|div|table|article|section|span|font|h[1-6]|ul|ol|center|td|tr)[\s>]", re.I)


def html_class_lookup() -> etree.ElementNamespaceClassLookup:
    """The element classes of ``lxml.html`` (``HtmlElement``; ``FormElement`` for ``<form>`` and
    the other four form tags; ``HtmlComment`` ...) chosen inside lxml, without a Python call.

    ``lxml.html``'s own lookup is a Python method called each time an element is touched
    from Python for the first time: on our pages that was ~2,300 calls, a fifth of the
    time metadata and container search took. This one gives every node the class that
    one gives it (the HTML parser lowercases tag names, which is all that lookup adds).
    """
    fallback = etree.ElementDefaultClassLookup(element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
                                               pi=lxml.html.HtmlProcessingInstruction,
                                               entity=lxml.html.HtmlEntity)
    lookup = etree.ElementNamespaceClassLookup(fallback)
    by_tag = lookup.get_namespace(None)
    for tag, cls in lxml.html.HtmlElementClassLookup._default_element_classes.items():
        by_tag[tag] = cls
    return lookup


# trafilatura's loader parses with its own module parser: given this lookup, every tree it
# builds - ours, and the copies trafilatura makes of it - is the same tree, read faster.
_TRAFILATURA_PARSER = getattr(trafilatura.utils, "HTML_PARSER", None)
if isinstance(_TRAFILATURA_PARSER, lxml.html.HTMLParser):
    _TRAFILATURA_PARSER.set_element_class_lookup(html_class_lookup())


def parse_html(html: str):
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


@lru_cache(maxsize=256)
def compile_selector(selector: str) -> etree.XPath:
    """A CSS selector (or an XPath when it starts with '/' or '(') compiled once per process."""
    try:
        expr = selector if selector.startswith(("/", "(")) else GenericTranslator().css_to_xpath(selector)
        return etree.XPath(expr)
    except (SelectorError, etree.XPathSyntaxError) as exc:
        raise DjcrawlError(f"bad body selector {selector!r}: {exc}") from None


BLOCK_TAGS = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 tr table tbody thead section article blockquote pre center dd dt dl "
    "figure figcaption header footer aside nav hr".split())
#: Never text a reader sees.
SKIP_TAGS = frozenset("script style noscript template head title textarea select option svg".split())
_WS = re.compile(r"[ \t\r\f\v\u00a0\u3000\u2002\u2003\u200b\ufeff]+")
_SPACE = re.compile(r"\s+")


def text_length(text: str | None) -> int:
    """Characters without whitespace: how much text there is, whatever the layout."""
    return len(_SPACE.sub("", text or ""))


def node_text(node, block_tags: frozenset[str] = BLOCK_TAGS, cell_tags: tuple[str, ...] = ("td", "th")) -> str:
    """Lines of visible text under ``node`` ("\\n"-separated, whitespace runs collapsed).

    Table cells are joined with a space so that a "label: value" row stays one line.
    ``block_tags``/``cell_tags`` let other vocabularies (trafilatura's XML) be read the same way.
    """
    pieces: list[str] = []
    append = pieces.append

    def walk(el):
        tag = el.tag if isinstance(el.tag, str) else None
        if tag is None or tag in SKIP_TAGS:
            return
        block = tag in block_tags
        if block:
            append("\n")
        if el.text:
            append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                append(child.tail)
        if block:
            append("\n")
        elif tag in cell_tags:
            append(" ")

    walk(node)
    # (blocks leave many empty lines between them: they are skipped before the regex, not after)
    lines = (_WS.sub(" ", line).strip() for line in "".join(pieces).split("\n") if line)
    return "\n".join(line for line in lines if line)
