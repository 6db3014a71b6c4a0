"""HTML -> main text, metadata with provenance, attachment links.

The cascade (each step only runs when the one before found nothing usable):

1. Metadata first, on the untouched page (:func:`pipelines.extract.meta.extract_meta`),
   because bylines often sit in blocks that body pruning removes.
2. Known body containers (site selectors, then the big Chinese CMSs' containers);
3. trafilatura with the settings measured best on the gold pages;
4. fallbacks when the result is implausible (:mod:`pipelines.extract.body` says how).

Attachment links are read between 2 and 3: lists of files are link-dense, and pruning
would drop them.

The text is not cleaned here: :func:`pipelines.clean.clean_text` does that next
(boilerplate lines, bylines), see :func:`pipelines.documents.document_from_html`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..htmltree import parse_html
from ..links import attachment_links
from ..metadata import Metadata
from .body import KNOWN_BODY_SELECTORS, MIN_BODY_CHARS, body_text, find_container
from .meta import extract_meta

__all__ = ["Extracted", "extract_html", "attachments_of", "KNOWN_BODY_SELECTORS", "MIN_BODY_CHARS"]


@dataclass
class Extracted:
    #: Main text, paragraphs separated by "\n"; not yet cleaned by pipelines.clean.
    text: str
    #: Metadata found in the HTML, each value with its provenance ("meta[name=PubDate]",
    #: "#source_baidu", "url:t20240513", ...).
    meta: Metadata = field(default_factory=Metadata)
    #: Which cascade step gave the text: "container:.TRS_Editor", "trafilatura",
    #: "density:div#content", "none", "unparseable".
    body_from: str = "none"
    #: Absolute links to attachments (PDF/DOC/DOCX...) found on the page, in page order.
    attachments: list[str] = field(default_factory=list)


def extract_html(
    html: str,
    url: str | None = None,
    *,
    body_selectors: tuple[str, ...] = (),
    prune_xpaths: tuple[str, ...] = (),
    meta_selectors: dict[str, str] | None = None,
    fetched_at=None,
    with_attachments: bool = True,
) -> Extracted:
    """Main text and metadata of one decoded HTML page (see the module docstring for the cascade);
    ``fetched_at`` (a datetime) dates relative bylines (``3小时前``, ``昨天``). Without
    ``with_attachments`` the attachment links are not looked for (``attachments`` is empty):
    a document does not need them (the crawl reads them with :func:`attachments_of`), and
    testing every link of a page costs ~2 ms."""
    tree = parse_html(html)
    if tree is None:
        return Extracted(text="", body_from="unparseable")
    meta = extract_meta(tree, url, meta_selectors=meta_selectors, fetched=fetched_at)
    found = find_container(tree, tuple(body_selectors))
    attachments = attachment_links(tree, url, body=found[0] if found else None) if with_attachments else []
    text, body_from = body_text(html, tree, found, url, tuple(prune_xpaths))
    return Extracted(text=text, meta=meta, body_from=body_from, attachments=attachments)


def attachments_of(tree, url: str | None, body_selectors: tuple[str, ...] = ()) -> list[str]:
    """``extract_html(html, url, body_selectors=...).attachments`` of the page parsed as ``tree``
    (:func:`pipelines.htmltree.parse_html`), without extracting its text: what the crawl needs
    to fetch the files before the article is made a document."""
    if tree is None:
        return []
    found = find_container(tree, tuple(body_selectors))
    return attachment_links(tree, url, body=found[0] if found else None)
