"""HTML -> main text plus metadata with provenance.

(Minimal first version: trafilatura only. The extraction cascade of known body
containers, pruning and fallbacks replaces it.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import trafilatura

__all__ = ["Extracted", "extract_html"]


@dataclass
class Extracted:
    #: Main text, paragraphs separated by "\n"; not yet cleaned by pipelines.clean.
    text: str
    #: Metadata found in the HTML: keys title, published (ISO date str), source_name,
    #: authors (list[str]), editor, summary. Missing keys mean "not found".
    meta: dict = field(default_factory=dict)
    #: key -> where the value came from, e.g. "meta[name=PubDate]", "#source_baidu", "url".
    provenance: dict[str, str] = field(default_factory=dict)
    #: Links to attachments (PDF/DOC/DOCX) found in the body.
    attachments: list[str] = field(default_factory=list)


def extract_html(
    html: str,
    url: str | None = None,
    *,
    body_selectors: tuple[str, ...] = (),
    prune_xpaths: tuple[str, ...] = (),
    meta_selectors: dict[str, str] | None = None,
) -> Extracted:
    """Main text and metadata of one decoded HTML page."""
    text = trafilatura.extract(
        html, url=url, include_comments=False, include_tables=True, favor_precision=True,
        prune_xpath=list(prune_xpaths) or None, deduplicate=False,
    ) or ""
    meta: dict = {}
    prov: dict[str, str] = {}
    info = trafilatura.extract_metadata(html, default_url=url)
    if info is not None:
        if info.title:
            meta["title"], prov["title"] = info.title, "trafilatura"
        if info.date:
            meta["published"], prov["published"] = info.date, "trafilatura"
    return Extracted(text=text, meta=meta, provenance=prov)
