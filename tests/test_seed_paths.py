"""One report, one answer: a seed read from its text and the same seed as the mirror renders
it in a site's layout give the same title, authors, editor, date and body.

Two renderings per seed:

- the mirror's own pages built from it (``crawler/mirror/manifest.toml``, ``seed = ...``),
  as ``build_mirror`` serves them, later parts joined as the crawl joins them. Their head
  prints the manifest's title, date, source and editor (the mirror chooses dates for
  seeds without one), so those fields are held to what the page prints; the body and the
  authors come from the seed's own lines and are held to the text's answer.
- the seed in each of those layouts with the text's own metadata in the head (built the
  way the mirror builds a page): then every field must be the text's.
"""

from __future__ import annotations

import html
import re
import tomllib
import unicodedata
from pathlib import Path
from string import Template

import pytest

from crawler.mirror.pages import MANIFEST, TEMPLATES, _paragraph_html, _seed_paragraphs, build_mirror
from crawler.siteconfig import load_site
from pipelines.documents import document_from_html, document_from_page, document_from_text
from pipelines.page import Page

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds" / "documents"
MANIFEST_DATA = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))


def _seed_articles() -> list[tuple[str, dict, dict]]:
    return [(name, site, a) for name, site in MANIFEST_DATA["sites"].items()
            for a in site.get("articles", []) if "seed" in a]


ARTICLES = _seed_articles()


def text_doc(stem: str):
    return document_from_text((SEEDS / f"{stem}.txt").read_text(encoding="utf-8"), doc_id=stem)


def squash(text: str | None) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def body_without_attachment_lines(doc, site: dict, url: str) -> str:
    """The mirror links the manifest's attachments at the end of a body (附件1：…): page
    text the seed does not hold."""
    titles = [f["title"] for f in site.get("attachments", []) if f["page"] == url]
    lines = doc.text.split("\n")
    return "\n".join(l for l in lines if not any(re.fullmatch(rf"附件\d+:{re.escape(t)}", l) for t in titles))


@pytest.fixture(scope="module")
def mirror_pages():
    return build_mirror()[0]


def test_every_seed_has_a_mirror_page():
    assert {a["seed"] for _, _, a in ARTICLES} == {p.stem for p in SEEDS.glob("*.txt")}


@pytest.mark.parametrize("site_name, site, a", ARTICLES, ids=[f"{a['seed'][:3]}-{n}" for n, _, a in ARTICLES])
def test_mirror_page_and_seed_text_agree(mirror_pages, site_name, site, a):
    text = text_doc(a["seed"])
    stem, _, ext = a["url"].rpartition("/")[2].rpartition(".")
    urls = [a["url"]] + [a["url"].rsplit("/", 1)[0] + f"/{stem}_{i}.{ext}" for i in range(1, a.get("parts", 1))]
    # what the crawl stores: the article page with its later parts, read with the site's hints
    page = Page(url=urls[0], site=site_name, kind="article", status=200, body=mirror_pages[urls[0]].body,
                parts=[Page(url=u, site=site_name, kind="article-part", status=200, body=mirror_pages[u].body)
                       for u in urls[1:]])
    doc = document_from_page(page, load_site(ROOT / "seeds" / "sites" / f"{site_name}.toml").hints())
    assert body_without_attachment_lines(doc, site, a["url"]) == text.text
    assert doc.authors == text.authors
    # the head prints the manifest's values
    assert squash(doc.title) == squash(a["title"])
    assert doc.published.isoformat() == a["date"]
    if text.published:
        assert doc.published == text.published
    assert doc.editor == (re.split("[、 ]", a["editor"])[0] if a.get("editor") else text.editor)


LAYOUTS = sorted({(a["seed"], a["template"], a.get("skip_lines", 1), name) for name, _, a in ARTICLES})


def render(stem: str, template: str, skip_lines: int, site_name: str, text) -> str:
    """The seed in the layout, as ``crawler.mirror.pages`` builds a page, with the text's
    own title, date, source, authors and editor in the head."""
    site = MANIFEST_DATA["sites"][site_name]
    date = text.published.isoformat() if text.published else ""
    date_cn = f"{text.published.year}年{text.published:%m}月{text.published:%d}日" if text.published else ""
    return Template((TEMPLATES / template).read_text(encoding="utf-8")).substitute(
        title=html.escape(text.title or ""), date=date, date_cn=date_cn, time="08:30:00" if date else "",
        source=html.escape(text.source_name or site["title"]), author=html.escape("、".join(text.authors)),
        editor=html.escape(text.editor or ""), site_title=site["title"],
        channel_title=site["channels"][0]["title"], body=_paragraph_html(_seed_paragraphs(stem, skip_lines)), pager="",
    )


@pytest.mark.parametrize("stem, template, skip_lines, site_name", LAYOUTS,
                         ids=[f"{s[:3]}-{t.removesuffix('.html')}" for s, t, _, _ in LAYOUTS])
def test_seed_in_a_layout_with_its_own_metadata_gives_the_texts_answer(stem, template, skip_lines, site_name):
    text = text_doc(stem)
    doc = document_from_html(render(stem, template, skip_lines, site_name, text),
                             url=f"http://127.0.0.1/seeds/{stem}.html")
    assert doc.text == text.text
    assert (doc.title, doc.authors, doc.editor, doc.published) == (text.title, text.authors, text.editor,
                                                                   text.published)
    assert getattr(doc, "subtitle", None) == getattr(text, "subtitle", None)
