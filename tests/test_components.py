"""The crawl's Scrapy components one at a time: extensions, middlewares and item pipelines
built the way Scrapy builds them (``get_crawler`` with the project's settings,
``build_from_crawler``), on real DuckDB files, without a crawl. The real crawls are in
``test_crawl.py``, ``test_faults.py`` and ``test_crash.py``."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import pytest
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

import crawler.settings as project
from crawler import outcomes
from crawler.extensions import RunRecorder, StoreExtension
from crawler.items import Processed
from crawler.middlewares import ConditionalRequestMiddleware, MirrorMiddleware, TruncatedBody, TruncatedGzipMiddleware
from crawler.pipelines import DocumentPipeline, StorePipeline
from crawler.spiders.djcrawl import DjSpider
from pipelines.document import doc_id_for_url
from pipelines.errors import DjcrawlError
from pipelines.page import Page
from pipelines.seeds import load_seed_dir
from pipelines.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "real_sites"
#: a real report page (TRS layout) and where a spp-like site would serve it
REPORT = next(p for p in sorted(FIXTURES.rglob("*.html")) if p.stat().st_size > 20_000)
ARTICLE_URL = "https://www.spp.gov.cn/spp/djgz/202305/t20230512_612345.shtml"


def project_settings(**overrides) -> dict:
    """The settings `scrapy crawl djcrawl` runs with (crawler/settings.py), plus ``overrides``."""
    return {**{k: getattr(project, k) for k in dir(project) if k.isupper()}, **overrides}


@pytest.fixture
def make_crawler(tmp_path):
    built = []

    def make(**overrides):
        settings = project_settings(**{"DJ_DUCKDB_PATH": str(tmp_path / "components.duckdb"), "DJ_WORKERS": 0,
                                       "DJ_SITES": ["spp"], **overrides})
        crawler = get_crawler(DjSpider, settings)
        crawler.spider = DjSpider.from_crawler(crawler, sites="spp")
        built.append(crawler)
        return crawler

    yield make
    for crawler in built:
        crawler.get_extension(StoreExtension).close()


def store_of(crawler) -> Store:
    return crawler.get_extension(StoreExtension).store


def article(body: bytes | None = None, url: str = ARTICLE_URL, **fields) -> Page:
    return Page(url=url, site="spp", kind="article", status=200, body=REPORT.read_bytes() if body is None else body,
                **fields)


# --------------------------------------------------------------------------- extensions

def test_the_store_extension_opens_the_configured_file_and_closes_it_when_the_engine_stops(make_crawler, tmp_path):
    crawler = make_crawler()
    ext = crawler.get_extension(StoreExtension)
    assert ext.store.path == tmp_path / "components.duckdb"
    crawler.signals.send_catch_log(signals.engine_stopped)
    assert ext.store is None
    with Store(tmp_path / "components.duckdb", read_only=True) as store:  # released
        assert store.schema_version > 0


def test_a_site_walks_its_whole_lists_after_a_run_that_did_not_finish_or_was_cut(make_crawler):
    crawler = make_crawler()
    ext, store = crawler.get_extension(StoreExtension), store_of(crawler)
    assert not ext.must_walk_whole_lists("spp", None)  # never crawled
    for run_id, status, reasons, expected in (("r1", "finished", {}, False),
                                              ("r2", "interrupted", {}, True),
                                              ("r3", "finished", {("spp", "list-failed"): 1}, True),
                                              ("r4", "finished", {("spp", "max-pages-reached"): 2}, True),
                                              ("r5", "finished", {("spp", "document"): 3}, False)):
        store.start_run(run_id, ["spp"])
        store.finish_run(run_id, status, {}, reasons)
        assert ext.must_walk_whole_lists("spp", "now") is expected, run_id
    store.start_run("now", ["spp"])  # the run under way is never its own "last run"
    assert not ext.must_walk_whole_lists("spp", "now")


def test_the_run_recorder_writes_a_run_row_and_its_counts(make_crawler):
    crawler = make_crawler(DJ_RUN_ID="run-a")
    store = store_of(crawler)
    store.start_run("killed", ["spp"])  # left 'running' by a crawl that was killed
    recorder = crawler.get_extension(RunRecorder)
    assert recorder.run_id == "run-a"
    crawler.signals.send_catch_log(signals.spider_opened, spider=crawler.spider)
    assert store.get_run("killed")["status"] == "interrupted"
    run = store.get_run("run-a")
    assert run["status"] == "running" and run["sites"] == ["spp"]
    outcomes.count(crawler.stats, "spp", "document", 3)
    outcomes.count(crawler.stats, "spp", "http-500")
    crawler.stats.inc_value(outcomes.total_key("pages_fetched"), 7)
    crawler.signals.send_catch_log(signals.spider_closed, spider=crawler.spider, reason="finished")
    run = store.get_run("run-a")
    assert (run["status"], run["pages_fetched"], run["errors"]) == ("finished", 7, 1)
    assert store.run_counts("run-a") == {("spp", "document"): 3, ("spp", "http-500"): 1}


def test_a_run_closed_for_any_other_reason_is_recorded_interrupted(make_crawler):
    crawler = make_crawler()
    recorder = crawler.get_extension(RunRecorder)
    assert recorder.run_id  # made when none is set
    crawler.signals.send_catch_log(signals.spider_opened, spider=crawler.spider)
    crawler.signals.send_catch_log(signals.spider_closed, spider=crawler.spider, reason="shutdown")
    assert store_of(crawler).get_run(recorder.run_id)["status"] == "interrupted"


# --------------------------------------------------------------------------- middlewares

def test_list_requests_carry_the_validators_of_their_stored_copy(make_crawler):
    crawler = make_crawler()
    url = "https://www.spp.gov.cn/spp/djgz/index.shtml"
    store_of(crawler).put_pages([Page(url=url, site="spp", kind="list", status=200, body=b"<html></html>",
                                      etag='"abc"', last_modified="Tue, 01 Dec 2026 10:00:00 GMT")])
    mw = build_from_crawler(ConditionalRequestMiddleware, crawler)
    marked = Request(url, meta={"dj_conditional": url})
    mw.process_request(marked)
    assert marked.headers[b"If-None-Match"] == b'"abc"'
    assert marked.headers[b"If-Modified-Since"] == b"Tue, 01 Dec 2026 10:00:00 GMT"
    plain = Request(url)  # an article, or --refresh: asked for in full
    mw.process_request(plain)
    assert b"If-None-Match" not in plain.headers and b"If-Modified-Since" not in plain.headers
    never_stored = Request(url + "?x", meta={"dj_conditional": url + "?x"})
    mw.process_request(never_stored)
    assert b"If-None-Match" not in never_stored.headers


def test_mirror_mode_sends_configured_hosts_to_the_mirror_and_drops_the_others(make_crawler):
    mw = build_from_crawler(MirrorMiddleware, make_crawler(DJ_MIRROR_URL="http://127.0.0.1:9/"))
    request = Request("https://www.spp.gov.cn/spp/djgz/index.shtml")
    mw.process_request(request)
    assert request.meta["proxy"] == "http://127.0.0.1:9"
    with pytest.raises(IgnoreRequest):
        mw.process_request(Request("https://example.org/"))
    real = build_from_crawler(MirrorMiddleware, make_crawler())
    untouched = Request("https://example.org/")
    real.process_request(untouched)
    assert "proxy" not in untouched.meta


def test_a_gzip_body_cut_short_is_refused_and_a_whole_one_passes(make_crawler):
    mw = build_from_crawler(TruncatedGzipMiddleware, make_crawler())
    whole = gzip.compress("<p>检察机关党建工作</p>".encode() * 200)
    headers = {"Content-Encoding": "gzip"}
    request = Request("https://www.spp.gov.cn/a.shtml")
    ok = Response(request.url, body=whole, headers=headers)
    assert mw.process_response(request, ok) is ok
    with pytest.raises(TruncatedBody):
        mw.process_response(request, Response(request.url, body=whole[: len(whole) // 2], headers=headers))
    not_gzip = Response(request.url, body=b"plain", headers=headers)  # HttpCompressionMiddleware says so
    assert mw.process_response(request, not_gzip) is not_gzip


# --------------------------------------------------------------------------- item pipelines

def processed(pipeline: DocumentPipeline, page: Page) -> Processed:
    return asyncio.run(pipeline.process_item(page))


def test_the_document_pipeline_makes_a_document_and_its_index_entry(make_crawler):
    pipeline = build_from_crawler(DocumentPipeline, make_crawler())
    pipeline.open_spider()
    try:
        item = processed(pipeline, article())
        listed = processed(pipeline, Page(url="https://www.spp.gov.cn/spp/djgz/", site="spp", kind="list",
                                          status=200, body=b"<html><a href='x'>x</a></html>"))
        empty = processed(pipeline, article(b"", url=ARTICLE_URL.replace("612345", "1")))
    finally:
        pipeline.close_spider()
    assert item.document is not None and item.document.doc_id == doc_id_for_url(ARTICLE_URL) == item.page.doc_id
    assert item.document.site == "spp" and len(item.document.text) > 500
    assert item.entry is not None and item.entry.doc_id == item.document.doc_id and item.entry.relevance is not None
    assert (listed.document, listed.page.reason) == (None, "list-page")
    assert (empty.document, empty.page.reason, empty.page.doc_id) == (None, "empty", None)


def test_an_article_under_the_relevance_setting_makes_no_document(make_crawler):
    crawler = make_crawler()
    load_seed_dir(store_of(crawler))  # the reference set of relevance
    kept = build_from_crawler(DocumentPipeline, crawler)
    kept.open_spider()
    score = processed(kept, article()).entry.relevance
    kept.close_spider()
    assert 0 < score < 1
    strict = build_from_crawler(DocumentPipeline, make_crawler(DJ_MIN_RELEVANCE=str(min(1.0, score + 0.01))))
    strict.open_spider()
    try:
        item = processed(strict, article())
    finally:
        strict.close_spider()
    assert item.document is None and item.page.reason == "irrelevant" and item.page.doc_id is None
    assert outcomes.category("irrelevant") == "not-article"


@pytest.mark.parametrize("setting, value, message", [("DJ_MIN_RELEVANCE", "high", "DJ_MIN_RELEVANCE"),
                                                     ("DJ_WORKERS", "many", "DJ_WORKERS"),
                                                     ("DJ_WORKERS", -1, "--workers must be 0")])
def test_a_bad_setting_is_one_clear_error(make_crawler, setting, value, message):
    with pytest.raises(DjcrawlError, match=message):
        build_from_crawler(DocumentPipeline, make_crawler(**{setting: value}))


def test_the_store_pipeline_writes_pages_and_documents_a_batch_at_a_time(make_crawler):
    crawler = make_crawler(DJ_BATCH_SIZE=3)
    maker = build_from_crawler(DocumentPipeline, crawler)
    maker.open_spider()
    first = article()
    first.parts.append(Page(url=ARTICLE_URL.replace(".shtml", "_1.shtml"), site="spp", kind="article-part",
                            status=200, body=REPORT.read_bytes(), part_of=ARTICLE_URL, part_no=1))
    items = [processed(maker, first),
             processed(maker, Page(url="https://www.spp.gov.cn/spp/djgz/", site="spp", kind="list", status=200,
                                   body=b"<html></html>")),
             processed(maker, article(b"<html><body>x</body></html>", url=ARTICLE_URL.replace("612345", "2")))]
    maker.close_spider()
    pipeline = build_from_crawler(StorePipeline, crawler)
    pipeline.open_spider()
    store = store_of(crawler)
    pipeline.process_item(items[0])  # the article and its part: two rows of the batch of three
    assert store.query("SELECT count(*) FROM pages")[1] == [(0,)]
    pipeline.process_item(items[1])
    assert store.query("SELECT count(*) FROM pages")[1] == [(3,)]
    assert store.document_count() == 1
    pipeline.process_item(items[2])
    assert store.query("SELECT count(*) FROM pages")[1] == [(3,)]
    pipeline.close_spider()  # the rest
    rows = dict(((url, kind), (reason, doc_id)) for url, kind, reason, doc_id in
                store.query("SELECT url, kind, reason, doc_id FROM pages")[1])
    doc_id = doc_id_for_url(ARTICLE_URL)
    assert rows == {(ARTICLE_URL, "article"): (None, doc_id),
                    (ARTICLE_URL.replace(".shtml", "_1.shtml"), "article-part"): (None, doc_id),
                    ("https://www.spp.gov.cn/spp/djgz/", "list"): ("list-page", None),
                    (ARTICLE_URL.replace("612345", "2"), "article"): ("no-body", None)}
    part = store.get_page(ARTICLE_URL.replace(".shtml", "_1.shtml"))
    assert (part.part_of, part.part_no) == (ARTICLE_URL, 1)
    stats = crawler.stats
    assert stats.get_value(outcomes.count_key("spp", "document")) == 1
    assert stats.get_value(outcomes.count_key("spp", "list-page")) == 1
    assert stats.get_value(outcomes.count_key("spp", "no-body")) == 1
    assert stats.get_value(outcomes.total_key("documents_new")) == 1


# --------------------------------------------------------------------------- settings

def _settings_in(env: dict, code: str) -> str:
    import os
    import subprocess
    import sys

    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJ_", "DJCRAWL_"))}
    return subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
                          check=True, cwd=Path(__file__).resolve().parent.parent).stdout.strip()


def test_every_dj_setting_reads_the_environment_and_the_command_line_wins():
    code = ("from crawler.run import crawl_settings as c; s = c(db='x.duckdb'); t = c(db='x.duckdb', max_pages=5);"
            "print(s.getint('DJ_MAX_PAGES'), t.getint('DJ_MAX_PAGES'), s.getbool('DJ_REFRESH'), s.get('DJ_CONTACT'),"
            " s.get('DJ_MIN_RELEVANCE'), s.getint('DJ_BATCH_SIZE'), s['USER_AGENT'])")
    env = {"DJ_MAX_PAGES": "3", "DJ_REFRESH": "1", "DJCRAWL_CONTACT": "mailto:old@example.org",
           "DJ_MIN_RELEVANCE": "0.4", "DJ_BATCH_SIZE": "7"}
    assert _settings_in(env, code).split(" ", 6) == ["3", "5", "True", "mailto:old@example.org", "0.4", "7",
                                                     "djcrawl/0.1 (+mailto:old@example.org)"]
    # the new name wins over the old one
    both = _settings_in({"DJCRAWL_DB": "old.duckdb", "DJ_DUCKDB_PATH": "new.duckdb"},
                        "from crawler.cli.options import db_path; print(db_path(), db_path('given.duckdb'))")
    assert both == "new.duckdb given.duckdb"
