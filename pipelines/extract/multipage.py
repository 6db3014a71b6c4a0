"""Join the pages of a multi-page article (``t..._1.shtml``, ``c...-2.html``) into one HTML page.

Sites split long reports over several pages, each with the full site chrome.
Extraction must see one article, so the body container of every later page is
appended to the body container of the first page, and the result goes through
the normal chain (:func:`pipelines.documents.document_from_html`) as one page.
"""

from __future__ import annotations

from collections.abc import Sequence

import lxml.html
from lxml.cssselect import CSSSelector

__all__ = ["join_pages"]


def _container(doc, selectors: Sequence[str]):
    for css in selectors:
        try:
            found = CSSSelector(css, translator="html")(doc)
        except Exception:  # a selector lxml cannot compile is skipped, the next one tried
            continue
        if found:
            return found[0]
    return doc.find(".//body")


def join_pages(texts: Sequence[str], body_selectors: Sequence[str] = ()) -> str:
    """``texts`` are the decoded pages in reading order; returns one HTML page."""
    if len(texts) == 1:
        return texts[0]
    first = lxml.html.document_fromstring(texts[0])
    target = _container(first, body_selectors)
    if target is None:
        return texts[0]
    for text in texts[1:]:
        if not text.strip():
            continue
        part = _container(lxml.html.document_fromstring(text), body_selectors)
        if part is None:
            continue
        if part.text and part.text.strip():
            p = lxml.html.Element("p")
            p.text = part.text
            target.append(p)
        for child in list(part):
            target.append(child)
    return lxml.html.tostring(first, encoding="unicode", doctype="<!DOCTYPE html>")
