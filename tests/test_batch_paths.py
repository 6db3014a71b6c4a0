"""Batch paths the speed work relies on: reading stored pages in batches while writing.

``djcrawl reprocess`` reads pages with ``Store.iter_pages`` and stores documents every
50 pages on the same connection; every page must still be read. Real DuckDB file.
"""

from __future__ import annotations

from pipelines.document import doc_id_for_url
from pipelines.page import Page
from pipelines.store import Store


def _page(i: int, text: str) -> Page:
    body = (f"<html><head><title>报道{i}</title></head><body><div class='TRS_Editor'>"
            f"<p>{text}</p></div></body></html>").encode("utf-8")
    url = f"http://www.example-jcy.gov.cn/djgz/t{i:05d}.html"
    return Page(url=url, site="example", status=200, body=body, kind="article",
                content_type="text/html; charset=utf-8", doc_id=doc_id_for_url(url))


def test_iter_pages_reads_every_page_when_the_store_is_written_between_batches(tmp_path):
    with Store(tmp_path / "x.duckdb") as store:
        store.put_pages([_page(i, f"第{i}篇") for i in range(23)])
        seen = []
        for page in store.iter_pages(kind="article", batch=4):
            seen.append(page.url)
            store.put_pages([Page(url=f"http://other.example/{len(seen)}", site="other", status=200,
                                  body=b"x", kind="list")])  # a write between reads
        assert len(seen) == 23
        assert seen == sorted(seen)
        assert len(set(seen)) == 23
