"""Publish dates: relative bylines (3小时前, 昨天, 前天) read against the fetch time on China's
clock, with provenance; dates after China's today or before 1990 refused on both paths."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.clean import clean_text
from pipelines.dates import CHINA, china_today, parse_date, relative_date
from pipelines.documents import document_from_html
from pipelines.page import Page
from pipelines.documents import document_from_page

PARA = "人民检察院深入推进党建工作与检察业务深度融合，以高质量党建引领检察工作高质量发展。" * 3
UTC = dt.timezone.utc


def page(byline: str) -> str:
    return (f"<html><head><meta charset='utf-8'></head><body><h1>检察官走进社区开展普法宣传</h1>"
            f"<div class='info'>{byline}</div><p>{PARA}</p></body></html>")


@pytest.mark.parametrize("byline, fetched, date, words", [
    ("发布时间：3小时前 来源：检察日报", dt.datetime(2024, 5, 10, 1, 0, tzinfo=UTC), dt.date(2024, 5, 10), "3小时前"),
    # 02:00 in China is 18:00 UTC the day before: three hours earlier is still the 9th in China
    ("发布时间：3小时前 来源：检察日报", dt.datetime(2024, 5, 9, 18, 0, tzinfo=UTC), dt.date(2024, 5, 9), "3小时前"),
    ("45分钟前 来源：检察日报", dt.datetime(2024, 5, 10, 0, 20, tzinfo=UTC), dt.date(2024, 5, 10), "45分钟前"),
    ("昨天 08:30 来源：检察日报", dt.datetime(2024, 3, 1, 2, 0, tzinfo=UTC), dt.date(2024, 2, 29), "昨天"),
    ("前天 来源：检察日报", dt.datetime(2024, 5, 10, 20, 0, tzinfo=UTC), dt.date(2024, 5, 9), "前天"),
    ("2天前", dt.datetime(2024, 1, 1, 3, 0, tzinfo=UTC), dt.date(2023, 12, 30), "2天前"),
])
def test_relative_bylines_are_dated_from_the_fetch_time(byline, fetched, date, words):
    doc = document_from_html(page(byline), fetched_at=fetched)
    assert doc.published == date
    assert doc.provenance["published"] == (f"byline:relative:{words}@"
                                           f"{fetched.astimezone(CHINA):%Y-%m-%dT%H:%M%z}")


def test_a_crawled_page_is_dated_from_its_recorded_fetch_time():
    fetched = dt.datetime(2024, 5, 10, 9, 0, tzinfo=CHINA).astimezone().replace(tzinfo=None)  # naive local, as recorded
    p = Page(url="https://example.cn/news/1.html", site=None, kind="article", status=200,
             body=page("发布时间：昨天 来源：检察日报").encode("utf-8"), fetched_at=fetched)
    doc = document_from_page(p)
    assert doc.published == dt.date(2024, 5, 9) and doc.provenance["published"].startswith("byline:relative:昨天@")


def test_without_a_fetch_time_a_relative_date_is_no_date():
    doc = document_from_html(page("发布时间：3小时前 来源：检察日报"))
    assert doc.published is None and "published" not in doc.provenance
    assert relative_date("3小时前", None) is None


def test_a_relative_phrase_in_a_paragraph_is_not_the_pages_date():
    html = (f"<html><body><h1>检察官走进社区开展普法宣传</h1><p>3天前，检察官们走进社区，为群众讲解法律知识，"
            f"回答群众提出的问题，受到欢迎。</p><p>{PARA}</p></body></html>")
    doc = document_from_html(html, fetched_at=dt.datetime(2024, 5, 10, 1, 0, tzinfo=UTC))
    assert doc.published is None


def test_future_is_judged_by_chinas_today_on_both_paths():
    today = china_today()
    tomorrow = today + dt.timedelta(days=1)
    assert parse_date(today.isoformat()) == today
    assert parse_date(tomorrow.isoformat()) is None
    for day, expected in ((today, today), (tomorrow, None)):
        doc = document_from_html(page(f"发布时间：{day.isoformat()} 来源：检察日报"))
        assert doc.published == expected
        cleaned = clean_text(f"检察官走进社区开展普法宣传\n发布时间：{day.isoformat()}\n{PARA}")
        assert cleaned.meta.published == expected
    assert parse_date("1989-12-31") is None and parse_date("1990-01-01") == dt.date(1990, 1, 1)


def test_a_relative_date_is_never_after_the_fetch_day():
    assert relative_date("刚刚", dt.datetime(2024, 5, 10, 1, 0, tzinfo=UTC)) == (dt.date(2024, 5, 10), "刚刚")
    assert relative_date("3小时前", dt.datetime(1990, 1, 1, 0, 30, tzinfo=CHINA)) is None  # before 1990


def test_the_text_path_dates_a_relative_byline_from_the_fetch_time_too():
    from pipelines.documents import document_from_text

    fetched = dt.datetime(2024, 5, 10, 1, 0, tzinfo=UTC)
    doc = document_from_text(f"检察官走进社区开展普法宣传\n发布时间：昨天 来源：检察日报\n{PARA}", doc_id="t", fetched_at=fetched)
    assert doc.published == dt.date(2024, 5, 9)
    assert doc.provenance["published"] == "body:relative:昨天@2024-05-10T09:00+0800"
    assert document_from_text(f"检察官走进社区开展普法宣传\n发布时间：昨天\n{PARA}", doc_id="t").published is None
    # a paragraph's "3天前" is the report's own story, not its date
    doc = document_from_text(f"检察官走进社区开展普法宣传\n3天前，检察官们走进社区，为群众讲解法律知识，回答群众提出的问题。\n{PARA}",
                             doc_id="t", fetched_at=fetched)
    assert doc.published is None
