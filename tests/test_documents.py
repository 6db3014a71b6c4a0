"""The composer (pipelines.documents) and the leaves it stands on: dates, metadata, decode.

``document_from_page`` is the one call the crawl's workers make; it must make exactly the
document the chain made before the redesign from the same bytes (the demo corpus test in
tests/test_crawl.py holds the whole crawl to that).
"""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path

import pytest

from crawler.mirror.pages import build_mirror
from crawler.siteconfig import load_sites
from pipelines.dates import MIN_DATE, parse_date, url_date
from pipelines.decode import decode_as, decode_bytes
from pipelines.document import doc_id_for_url
from pipelines.documents import NotArticle, SiteHints, document_from_html, document_from_page
from pipelines.extract.multipage import join_pages
from pipelines.metadata import Metadata
from pipelines.page import Page

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "fixtures" / "real_sites"
TODAY = dt.date(2024, 6, 1)


# --------------------------------------------------------------------------- dates

@pytest.mark.parametrize("text, date", [
    ("2024-05-10", dt.date(2024, 5, 10)),
    ("发布时间：2024年05月10日06:58", dt.date(2024, 5, 10)),
    ("2022.01.20 来源：检察日报", dt.date(2022, 1, 20)),
    ("2024 / 5 / 1", dt.date(2024, 5, 1)),
    ("2024-05-1012:00", dt.date(2024, 5, 10)),  # a time glued to the day
    ("/img/MAIN/2016/05/116444/css/lib.css", None),  # an asset path is no date
    ('channelinfo:"1238_2007.08.2020059"', None),  # nor an id
    ("2024-13-01", None), ("2024-02-30", None),
    ("1989-12-31", None), ("1990-01-01", MIN_DATE),
    ("2024-06-01", TODAY), ("2024-06-02", None),
    (None, None), ("", None),
])
def test_parse_date(text, date):
    assert parse_date(text, TODAY) == date


def test_the_cleaner_allows_one_day_ahead_and_only_the_cleaner():
    assert parse_date("2024-06-02", TODAY) is None
    assert parse_date("2024-06-02", TODAY, days_ahead=1) == dt.date(2024, 6, 2)
    assert parse_date("2024-06-03", TODAY, days_ahead=1) is None


def test_url_date():
    assert url_date("https://news.youth.cn/gn/202405/t20240513_15249693.htm", TODAY) == (dt.date(2024, 5, 13),
                                                                                        "url:t20240513")
    assert url_date("http://politics.gmw.cn/2024-05/13/content_1.htm", TODAY) == (dt.date(2024, 5, 13), "url:20240513")
    assert url_date("http://www.he.news.cn/20240515/d5/c.html", TODAY) == (dt.date(2024, 5, 15), "url:20240515")
    assert url_date("https://example.cn/t20991231_1.html", TODAY) is None


# --------------------------------------------------------------------------- metadata

def test_metadata_first_value_wins_and_authors_add_up():
    meta = Metadata()
    assert meta.offer("title", "标题", "h1") and not meta.offer("title", "别的标题", "title")
    assert not meta.offer("editor", "", "byline") and not meta.has("editor")
    meta.add_authors(["张三", "李四"], "body:author-line")
    meta.add_authors(["李四", "王五", "王五"], "body:trailing-author")
    assert meta.authors == ["张三", "李四", "王五"] and meta.provenance["authors"] == "body:author-line"
    with pytest.raises(KeyError):
        meta.offer("colour", "red", "x")


def test_metadata_update_lets_the_other_win_and_keeps_the_order():
    text = Metadata()
    text.offer("published", dt.date(2024, 5, 1), "body:date-alone")
    text.offer("title", "正文里的标题", "body:first-line")
    html = Metadata()
    html.offer("title", "网页标题", "h1")
    html.offer("source_name", "检察日报", "byline:来源")
    text.update(html)
    assert text.as_dict() == {"published": dt.date(2024, 5, 1), "title": "网页标题", "source_name": "检察日报"}
    assert list(text.provenance.items()) == [("published", "body:date-alone"), ("title", "h1"),
                                             ("source_name", "byline:来源")]


def test_metadata_map_converts_text_only():
    meta = Metadata(title="標題", authors=["張三"], published=dt.date(2024, 5, 1))
    assert meta.provenance == {"title": "given", "published": "given", "authors": "given"}
    mapped = meta.map(lambda s: s + "!")
    assert (mapped.title, mapped.authors, mapped.published) == ("標題!", ["張三!"], dt.date(2024, 5, 1))
    assert mapped.provenance == meta.provenance and meta.title == "標題"


# --------------------------------------------------------------------------- decode

def test_an_encoding_hint_counts_only_for_pages_that_declare_nothing():
    gbk = "<html><body><p>检察机关党建工作</p></body></html>".encode("gbk")
    assert decode_bytes(gbk, hint="big5")[1] == "big5hkscs"  # nothing declared: the hint decides
    assert decode_bytes(gbk, "text/html; charset=gbk", hint="big5")[1] == "gb18030"  # the header wins
    declared = b'<meta charset="gbk">' + gbk
    assert decode_bytes(declared, hint="big5")[1] == "gb18030"  # so does the <meta>
    utf8 = "<p>检察机关党建工作</p>".encode("utf-8")
    assert decode_bytes(utf8, hint="gb18030") == ("<p>检察机关党建工作</p>", "utf-8")  # UTF-8 bytes are UTF-8


def test_decode_as_gives_the_text_decode_bytes_gave():
    bodies = [p.read_bytes() for p in sorted(REAL.rglob("*.html"))]
    bodies += [codecs.BOM_UTF8 + "<p>党建</p>".encode(), codecs.BOM_UTF16_LE + "<p>党建</p>".encode("utf-16-le"),
               b"<p>\xff\xfe\x80 broken</p>", "<p>党建</p>".encode("gbk")]
    for body in bodies:
        text, encoding = decode_bytes(body)
        assert decode_as(body, encoding) == text, encoding


# --------------------------------------------------------------------------- document_from_page

@pytest.fixture(scope="module")
def mirror():
    pages, sites = build_mirror()
    return pages, sites, {c.name: c for c in load_sites(every=True)}


def _hints(cfg) -> SiteHints:
    h = cfg.hints()
    return SiteHints(h.site, h.body_selectors, h.prune_xpaths, h.meta_selectors, encoding_hint=cfg.encoding_hint)


def _page(url, mp, site, kind="article", encoded=False, **fields) -> Page:
    encoding = decode_bytes(mp.body, mp.content_type)[1] if encoded else None
    return Page(url=url, site=site, kind=kind, status=200, body=mp.body, content_type=mp.content_type,
                encoding=encoding, fetched_at=dt.datetime(2024, 6, 1, 12), run_id="r1", **fields)


def test_a_multi_page_article_is_joined_into_one_document(mirror):
    pages, sites, configs = mirror
    url = "https://www.spp.gov.cn/spp/gjybs/202012/t20201216_487654.shtml"
    part_url = url.replace(".shtml", "_1.shtml")
    cfg = configs["spp"]
    for encoded in (False, True):  # decoded again with the encoding the crawl found, or found again
        part = _page(part_url, pages[part_url], "spp", kind="article-part", encoded=encoded, part_of=url, part_no=1)
        doc = document_from_page(_page(url, pages[url], "spp", encoded=encoded, parts=[part]), _hints(cfg))
        joined = join_pages([decode_bytes(pages[u].body)[0] for u in (url, part_url)], cfg.article.body_selectors)
        expected = document_from_html(joined, url=url, hints=cfg.hints(), doc_id=doc_id_for_url(url),
                                      fetched_at=dt.datetime(2024, 6, 1, 12), run_id="r1")
        assert doc == expected
        first = document_from_page(_page(url, pages[url], "spp", encoded=encoded), _hints(cfg))
        assert len(doc.text) > len(first.text) + 200 and doc.text.startswith(first.text[:100])
        assert (doc.doc_id, doc.site, doc.url, doc.origin) == (doc_id_for_url(url), "spp", url, "crawl")


def test_attachments_and_list_pages(mirror):
    pages, sites, configs = mirror
    files = {f.url: f for f in sites["spp_12309"].attachments}
    outcomes = {}
    for url, f in files.items():
        page = _page(url, pages[url], "spp_12309", kind="attachment", parent_url=f.page)
        outcomes[f.broken] = document_from_page(page, _hints(configs["spp_12309"]))
    assert outcomes[True] == NotArticle("attachment-unreadable")  # cut off mid-upload
    doc = outcomes[False]
    assert doc.origin == "attachment" and doc.parent_url and doc.site == "spp_12309"
    listing = next(u for u in pages if u.endswith("/jcdj/index.shtml"))
    assert document_from_page(_page(listing, pages[listing], "spp_12309", kind="list")) == NotArticle("list-page")
    with pytest.raises(ValueError):
        document_from_page(_page(listing, pages[listing], "spp_12309", kind="article-part"))
