"""``pages`` rows are :class:`~pipelines.page.Page` objects, in and out, on a real DuckDB file."""

from __future__ import annotations

import datetime as dt
import zlib

from pipelines.document import doc_id_for_url
from pipelines.page import Page
from pipelines.store import Store

ARTICLE = "http://www.spp.gov.cn/spp/djgz/202012/t20201216_487654.shtml"


def _article() -> Page:
    part = Page(url=ARTICLE.replace(".shtml", "_1.shtml"), site="spp", kind="article-part", status=200,
                body="<html>第二页</html>".encode("gb18030"), encoding="gb18030", part_of=ARTICLE, part_no=1,
                fetched_at=dt.datetime(2024, 5, 6, 7, 8, 9, 123456), run_id="r1")
    return Page(url=ARTICLE, site="spp", kind="article", status=200, body="<html>第一页</html>".encode("gb18030"),
                final_url=ARTICLE.replace("http:", "https:"), content_type="text/html", encoding="gb18030",
                etag='"abc"', last_modified="Wed, 16 Dec 2020 08:00:00 GMT",
                fetched_at=dt.datetime(2024, 5, 6, 7, 8, 9, 654321), run_id="r1", parts=[part],
                doc_id=doc_id_for_url(ARTICLE))


def test_a_page_comes_back_as_it_was_stored_with_its_article_and_part_number(tmp_path):
    article = _article()
    part = article.parts[0]
    attachment = Page(url="http://www.spp.gov.cn/spp/djgz/202012/W020201216.pdf", site="spp", kind="attachment",
                      status=200, body=b"%PDF-1.4 ...", content_type="application/pdf", parent_url=ARTICLE,
                      reason="attachment-unreadable", run_id="r1")
    with Store(tmp_path / "p.duckdb") as store:
        store.put_pages([article, attachment])
        # the parts of a page are rows only when passed as pages of their own
        assert store.get_page(part.url) is None
        assert store.get_page(ARTICLE) == Page(**{**vars(article), "parts": []})
        store.put_pages([part])
        assert store.get_page(part.url) == part
        assert store.get_page(attachment.url) == attachment
        assert [(p.url, p.part_of, p.part_no) for p in store.iter_pages(kind="article-part")] == [
            (part.url, ARTICLE, 1)]
        assert [p.parent_url for p in store.iter_pages(site="spp", kind="attachment")] == [ARTICLE]
        # the body is kept compressed, and a new fetch of a URL replaces every column
        (raw,), = store.con.execute("SELECT body FROM pages WHERE url = ?", [part.url]).fetchall()
        assert raw != part.body and zlib.decompress(raw) == part.body
        store.put_pages([Page(**{**vars(part), "part_no": 2, "part_of": None, "body": b"x"})])
        again = store.get_page(part.url)
        assert (again.part_no, again.part_of, again.body) == (2, None, b"x")
