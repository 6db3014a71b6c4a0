"""Text of an lxml element as lines: one line per block element, inline runs joined.

Shared by body extraction (``pipelines.extract``) and byline search
(``pipelines.htmlmeta``) so both see the page's text the same way.
"""

from __future__ import annotations

import re

__all__ = ["node_text", "text_length", "BLOCK_TAGS", "SKIP_TAGS"]

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
    lines = (_WS.sub(" ", line).strip() for line in "".join(pieces).split("\n"))
    return "\n".join(line for line in lines if line)
