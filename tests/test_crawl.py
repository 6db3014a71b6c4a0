"""The crawl end to end: the real Scrapy engine, in a child process as users run it, against
the offline mirror on 127.0.0.1, writing a real DuckDB file.

One database is crawled by ``djcrawl demo`` and then re-crawled (plain, then --refresh) by
module fixtures; most tests read it, so the module runs few crawls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from scrapy.selector import Selector

from crawler.mirror.pages import build_mirror
from crawler.siteconfig import load_sites
from pipelines.document import doc_id_for_url
from pipelines.store import Store

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "real_sites"
PAGES, SITES = build_mirror()
#: the sites the mirror serves: the demo and every crawl here (a site configured from public
#: evidence alone, with no mirror pages, is not crawled through the mirror)
CONFIGS = {c.name: c for c in load_sites(every=True) if c.name in SITES}
#: the sites the --refresh run crawls again: a multi-page article (spp) and attachments (spp_12309)
REFRESHED = ("spp", "spp_12309")


def djcrawl(mirror, *args, timeout=180) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJ_MIRROR_URL": mirror.url}
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def rows(db: Path, sql: str, params=None) -> list[tuple]:
    with Store(db, read_only=True) as store:
        return store.query(sql, params)[1]


def last_run(db: Path) -> dict:
    with Store(db, read_only=True) as store:
        (run_id,), = store.query("SELECT run_id FROM crawl_runs ORDER BY started_at DESC LIMIT 1")[1]
        return {**store.get_run(run_id), "counts": store.run_counts(run_id)}


@pytest.fixture(scope="module")
def first_run(mirror, tmp_path_factory):
    """``djcrawl demo`` into a new database; while it runs, a second crawl on the same file is tried.

    The mirror holds the answer to one of the demo's first requests until the second crawl
    has returned, so the demo is known to be crawling, its database open, meanwhile."""
    tmp = tmp_path_factory.mktemp("crawl")
    db, out_path, err_path = tmp / "dj.duckdb", tmp / "demo.out", tmp / "demo.err"
    env = {**os.environ, "DJ_MIRROR_URL": mirror.url}
    start = len(mirror.log)
    args = [sys.executable, "-m", "crawler.cli", "demo", "--db", str(db)]
    held_url = CONFIGS["spp"].start_urls[0]
    with mirror.hold(held_url) as hold:
        with open(out_path, "w") as out, open(err_path, "w") as err:
            demo = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=err)
        try:
            # time limits here only turn a hang into a failure
            assert hold.asked.wait(timeout=180), err_path.read_text()
            refused = djcrawl(mirror, "crawl", "--mirror", "--db", str(db))
            still_running = demo.poll() is None
        except BaseException:
            demo.kill()
            raise
    try:
        returncode = demo.wait(timeout=300)
    finally:
        if demo.poll() is None:
            demo.kill()
    result = subprocess.CompletedProcess(args, returncode, out_path.read_text(), err_path.read_text())
    assert result.returncode == 0, result.stderr
    (runs,), = rows(db, "SELECT count(*) FROM crawl_runs")
    return {"db": db, "result": result, "log": mirror.log[start:], "run": last_run(db), "pid": demo.pid,
            "refused": refused, "still_running": still_running, "runs": runs}


@pytest.fixture(scope="module")
def first(first_run):
    return first_run["db"], first_run["result"], first_run["log"], first_run["run"]


@pytest.fixture(scope="module")
def second(first, mirror):
    db = first[0]
    start = len(mirror.log)
    result = djcrawl(mirror, "demo", "--db", str(db))
    assert result.returncode == 0, result.stderr
    return result, mirror.log[start:], last_run(db)


@pytest.fixture(scope="module")
def refreshed(first, second, mirror):
    """A third run with --refresh, after the second, of the sites in REFRESHED."""
    db = first[0]
    before = rows(db, "SELECT doc_id, content_hash FROM documents ORDER BY doc_id")
    start = len(mirror.log)
    result = djcrawl(mirror, "crawl", *REFRESHED, "--mirror", "--refresh", "--db", str(db))
    assert result.returncode == 0, result.stderr
    return result, mirror.log[start:], last_run(db), before


def test_first_run_stores_documents_pages_and_a_run_row(first):
    db, result, _log, run = first
    (crawled, sites), = rows(db, "SELECT count(*), count(DISTINCT site) FROM documents WHERE origin = 'crawl'")
    assert crawled >= 20 and sites >= 5
    assert rows(db, "SELECT count(*) FROM documents WHERE origin = 'seed'") == [(5,)]
    assert run["status"] == "finished" and run["finished_at"] is not None
    (attached,), = rows(db, "SELECT count(*) FROM documents WHERE origin = 'attachment'")
    assert run["documents_new"] == crawled + attached
    (pages,), = rows(db, "SELECT count(*) FROM pages WHERE body IS NOT NULL AND content_hash IS NOT NULL")
    assert run["pages_fetched"] == pages
    (articles,), = rows(db, "SELECT count(*) FROM pages WHERE kind IN ('article', 'article-part')")
    assert run["article_pages_fetched"] == articles
    # the errors the mirror serves are counted, per site and reason
    counts = run["counts"]
    assert counts[("spp", "http-404")] == 1 and counts[("jcrb", "http-500")] == 1
    assert run["errors"] == 2
    assert counts[("spp", "robots-disallowed")] == 1
    assert all(counts[(name, "list-page")] >= len(cfg.start_urls) for name, cfg in CONFIGS.items())
    # a page at an article URL with no text is kept, not made a document, and its reason counted
    with Store(db, read_only=True) as store:
        empty = store.get_page("https://www.12309.gov.cn/12309/zjxflws/jcdj/202001/t20200102_100001.shtml")
    assert empty.kind == "article" and empty.reason and empty.doc_id is None and empty.body
    assert counts[("spp_12309", empty.reason)] >= 1
    (not_articles,), = rows(db, "SELECT count(*) FROM pages WHERE kind IN ('article', 'attachment') AND doc_id IS NULL")
    assert sum(n for (site, reason), n in counts.items() if reason not in (
        "document", "list-page", "http-404", "http-500", "robots-disallowed")) == not_articles
    # a progress line per site and a summary table, for the sites the mirror serves only
    for name in CONFIGS:
        assert f"[{name}] done:" in result.stderr
        assert f"\n{name} " in result.stdout
    unserved = {c.name for c in load_sites(every=True)} - set(SITES)
    assert unserved and not any(f"[{name}] " in result.stderr for name in unserved)
    assert "FROM documents" in result.stdout  # the example query


def test_the_demo_corpus_is_the_one_recorded_before_the_redesign(first):
    """The same documents (doc_id, content hash, reprint link, relevance) and the same page
    outcomes as the demo gave before the layers were redesigned (tests/demo_corpus.py says
    how a change meant to alter documents records it again)."""
    from demo_corpus import RECORD, record

    expected, got = json.loads(RECORD.read_text(encoding="utf-8")), record(first[0])
    assert [d[:2] for d in got["documents"]] == [d[:2] for d in expected["documents"]]
    assert got == expected


def test_crawled_documents_carry_url_site_run_and_doc_id(first):
    db, *_ , run = first
    bad = rows(db, """SELECT url FROM documents WHERE origin = 'crawl'
                      AND (url IS NULL OR site IS NULL OR fetched_at IS NULL OR run_id <> ?)""", [run["run_id"]])
    assert bad == []
    for url, doc_id in rows(db, "SELECT url, doc_id FROM documents WHERE origin = 'crawl'"):
        assert doc_id == doc_id_for_url(url)
        assert not url.startswith("http://127.0.0.1")  # the real site URL, not the mirror's


def test_raw_pages_are_kept_byte_for_byte_with_the_detected_encoding(first):
    db = first[0]
    with Store(db, read_only=True) as store:
        gbk = store.get_page("http://cpc.people.com.cn/n/2018/1120/c64387-30411111.html")
        assert gbk.body == (FIXTURES / "gbk_legacy/jiangsu_fanxiao_gb2312.html").read_bytes()
        assert gbk.encoding == "gb18030"
        # declares gb2312, bytes are UTF-8: the bytes win
        lying = store.get_page("http://cpc.people.com.cn/n1/2019/0301/c64387-30951234.html")
        assert b"gb2312" in lying.body[:2000].lower() and lying.encoding == "utf-8"
        built = store.get_page("http://dangjian.people.com.cn/n1/2020/1216/c117092-31968301.html")
        assert built.encoding == "gb18030" and built.kind == "article" and built.status == 200
        doc = store.get_document(doc_id_for_url(built.url))
        assert doc["title"] and "党建" in doc["title"] and "\ufffd" not in doc["text"]


def test_a_multi_page_article_becomes_one_document(first):
    db = first[0]
    url = "https://www.spp.gov.cn/spp/gjybs/202012/t20201216_487654.shtml"
    with Store(db, read_only=True) as store:
        doc = store.get_document(doc_id_for_url(url))
        page = store.get_page(url)
        part = store.get_page(url.replace(".shtml", "_1.shtml"))
    assert part.kind == "article-part" and part.doc_id == doc["doc_id"]

    def paragraphs(body: bytes) -> list[str]:
        sel = Selector(text=body.decode("utf-8"))
        found = [unicodedata.normalize("NFKC", p).strip() for p in sel.css("#fontzoom p::text").getall()]
        return [p for p in found if len(p) > 40]  # body paragraphs, not the 原标题 line

    first_page, second_page = paragraphs(page.body), paragraphs(part.body)
    assert first_page and second_page and not set(first_page) & set(second_page)
    text = unicodedata.normalize("NFKC", doc["text_original"])
    assert first_page[0][:30] in text and second_page[0][:30] in text
    assert text.index(first_page[0][:30]) < text.index(second_page[0][:30])


def test_files_attached_to_an_article_are_stored_and_become_documents(first):
    db, _result, log, run = first
    owner = {a.url: name for name, s in SITES.items() for a in s.attachments}
    files = [a for s in SITES.values() for a in s.attachments]
    readable = [a for a in files if not a.broken]
    assert {a.url.rsplit(".", 1)[1] for a in readable} == {"pdf", "docx"} and len(files) > len(readable)
    with Store(db, read_only=True) as store:
        for a in files:
            page = store.get_page(a.url)
            assert page.kind == "attachment" and page.status == 200 and page.site == owner[a.url]
            assert page.body == PAGES[a.url].body  # the raw file, byte for byte
            assert store.get_page(a.page).kind == "article"
            doc = store.get_document(doc_id_for_url(a.url))
            if a.broken:
                assert page.reason == "attachment-unreadable" and page.doc_id is None and doc is None
                continue
            assert page.reason is None and page.doc_id == doc["doc_id"]
            assert doc["origin"] == "attachment" and doc["url"] == a.url and doc["parent_url"] == a.page
            assert doc["site"] == owner[a.url] and doc["run_id"] == run["run_id"]
            # the file was published with its article: an undated file takes the article's date
            article = store.get_document(doc_id_for_url(a.page))
            assert doc["published"] is not None and doc["published"] == article["published"]
            assert json.loads(doc["provenance"])["published"] == "parent-page"
            text = unicodedata.normalize("NFKC", doc["text_original"])
            assert unicodedata.normalize("NFKC", a.text[1]) in text
    assert rows(db, "SELECT count(*) FROM documents WHERE origin = 'attachment'") == [(len(readable),)]
    broken = [a for a in files if a.broken]
    for name in {owner[a.url] for a in broken}:
        assert run["counts"][(name, "attachment-unreadable")] == sum(owner[a.url] == name for a in broken)
    fetched = [u for _m, u, _s, _ua in log]
    assert all(fetched.count(a.url) == 1 for a in files)


def test_a_redirected_article_keeps_its_linked_url_and_records_where_it_ended(first):
    db = first[0]
    (old, new), = SITES["sn_jcy"].redirects.items()
    with Store(db, read_only=True) as store:
        page = store.get_page(old)
        assert page.final_url == new and page.status == 200 and page.doc_id == doc_id_for_url(old)
        assert store.get_page(new) is None
        assert store.get_document(doc_id_for_url(old))["url"] == old


def test_the_crawl_is_polite(first):
    _db, _result, log, _run = first
    assert log and all(ua.startswith("djcrawl/") for _m, _u, _s, ua in log)
    first_seen: dict[str, int] = {}
    for i, (_m, url, _s, _ua) in enumerate(log):
        host = url.split("/")[2]
        first_seen.setdefault(host, i)
        if url.endswith("/robots.txt"):
            assert first_seen[host] == i, f"{host} was crawled before its robots.txt"
    forbidden = {u for s in SITES.values() for u in s.forbidden_urls}
    assert forbidden and not forbidden & {u for _m, u, _s, _ua in log}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_each_site_is_crawled_through_its_config(first, name):
    db = first[0]
    site = SITES[name]
    stored = {u for (u,) in rows(db, "SELECT url FROM pages WHERE site = ? AND kind = 'article'", [name])}
    assert stored == set(site.article_urls)
    lists = {u for (u,) in rows(db, "SELECT url FROM pages WHERE site = ? AND kind = 'list'", [name])}
    assert set(site.channels) <= lists and len(lists) > len(site.channels)  # it paged through the lists
    (dated,), = rows(db, """SELECT count(*) FROM documents WHERE site = ? AND origin = 'crawl'
                            AND title IS NOT NULL AND published IS NOT NULL""", [name])
    assert dated >= 2


def test_a_second_run_fetches_no_known_article(first, second):
    result, log, run = second
    assert run["status"] == "finished"
    assert run["article_pages_fetched"] == 0 and run["documents_new"] == 0 and run["documents_updated"] == 0
    known = {u for s in SITES.values() for u in s.article_urls}
    files = {a.url for s in SITES.values() for a in s.attachments}
    assert known and files and not (known | files) & {u for _m, u, _s, _ua in log}
    # list pages were asked for conditionally and answered 304
    assert sum(1 for _m, _u, status, _ua in log if status == 304) >= len(CONFIGS)
    assert run["counts"][("spp", "not-modified")] >= 1
    # lists stop at the first page holding only known articles
    lists = lambda entries: sum(1 for _m, u, _s, _ua in entries if "/index" in u)  # noqa: E731
    assert lists(log) < lists(first[2])
    assert "5 unchanged" in result.stdout  # the seeds, loaded again, change nothing


def test_reprocess_rebuilds_the_same_documents_from_stored_pages(first, second, mirror):
    db = first[0]
    before = len(mirror.log)
    # spp has a multi-page article, spp_12309 attachments (one unreadable)
    for site in ("spp", "spp_12309"):
        result = djcrawl(mirror, "reprocess", "--db", str(db), "--site", site)
        assert result.returncode == 0, result.stderr
        (n,), = rows(db, "SELECT count(*) FROM documents WHERE site = ?", [site])
        (files,), = rows(db, "SELECT count(*) FROM pages WHERE site = ? AND kind = 'attachment'", [site])
        assert f"and {files} attachments of site {site}: 0 new, 0 updated, {n} unchanged" in result.stdout
    assert files == len(SITES["spp_12309"].attachments) and "attachment-unreadable: 1" in result.stdout
    assert len(mirror.log) == before  # no network


def test_documents_made_in_the_crawl_process_equal_those_made_by_its_worker(first, mirror, tmp_path):
    # the default crawl makes documents (and their index entries) in a worker process;
    # --workers 0 makes them in the crawl process, as a machine with one core might
    db = tmp_path / "in-process.duckdb"
    assert djcrawl(mirror, "load-seeds", "--db", str(db), "--quiet").returncode == 0
    result = djcrawl(mirror, "crawl", *REFRESHED, "--mirror", "--workers", "0", "--db", str(db))
    assert result.returncode == 0, result.stderr
    sql = ("SELECT doc_id, content_hash, fingerprint, round(relevance, 9) FROM documents "
           f"WHERE site IN {REFRESHED} ORDER BY doc_id")
    here = rows(db, sql)
    assert len(here) >= 5 and all(r[2] for r in here)
    assert here == rows(first[0], sql)


def test_refresh_fetches_known_articles_again_and_finds_them_unchanged(first, refreshed):
    db = first[0]
    result, log, run, before = refreshed
    assert run["status"] == "finished" and run["sites"] == sorted(REFRESHED)
    fetched = {u for _m, u, status, _ua in log if status == 200}
    known = {u for name in REFRESHED for u in SITES[name].article_urls}
    files = {a.url for name in REFRESHED for a in SITES[name].attachments}
    assert known and files and (known | files) <= fetched
    # lists asked for without validators, and walked whole
    assert not any(status == 304 for _m, _u, status, _ua in log)
    assert {u for name in REFRESHED for u in SITES[name].channels} <= fetched
    sites = list(REFRESHED)
    (articles,), = rows(db, """SELECT count(*) FROM pages WHERE kind IN ('article', 'article-part')
                               AND site IN (SELECT unnest(?::VARCHAR[]))""", [sites])
    assert run["article_pages_fetched"] == articles
    (again,), = rows(db, "SELECT count(*) FROM pages WHERE run_id = ? AND kind IN ('article', 'attachment')",
                     [run["run_id"]])
    assert again == len(known) + len(files)
    # same pages, same documents: nothing new, nothing updated, every one reported unchanged
    assert run["documents_new"] == 0 and run["documents_updated"] == 0
    (docs,), = rows(db, """SELECT count(*) FROM documents WHERE origin IN ('crawl', 'attachment')
                           AND site IN (SELECT unnest(?::VARCHAR[]))""", [sites])
    assert f"0 new, 0 updated and {docs} unchanged documents" in result.stdout
    assert rows(db, "SELECT doc_id, content_hash FROM documents ORDER BY doc_id") == before


def _cut_at_three_pages(mirror, db: Path, site: str) -> dict:
    """``djcrawl crawl SITE --max-pages 3``: the first list page and its two articles; the run row."""
    cut = djcrawl(mirror, "crawl", site, "--mirror", "--max-pages", "3", "--db", str(db))
    assert cut.returncode == 0, cut.stderr
    run = last_run(db)
    assert run["article_pages_fetched"] == 2 and run["counts"][(site, "max-pages-reached")] == 1
    return run


def test_a_run_cut_short_by_max_pages_is_completed_by_the_next_one(mirror, tmp_path):
    """``djcrawl crawl --max-pages`` cuts the run; ``scrapy crawl`` (the same spider) completes it."""
    db = tmp_path / "cut.duckdb"
    # sx_jcy: one channel, two list pages of two and one articles; 3 requests = the first list
    # page and its two articles, so the second list page is never seen
    _cut_at_three_pages(mirror, db, "sx_jcy")
    # the first list page now holds only known articles, yet the next run goes on to the second
    scrapy = Path(sys.executable).parent / "scrapy"
    start = len(mirror.log)
    rest = subprocess.run(
        [str(scrapy), "crawl", "djcrawl", "-a", "sites=sx_jcy", "-s", f"DJ_DUCKDB_PATH={db}",
         "-s", f"DJ_MIRROR_URL={mirror.url}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
         "-s", "DJ_CONTACT=mailto:crawl-ops@example.org", "-s", "LOG_LEVEL=WARNING"],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert rest.returncode == 0, rest.stderr
    assert {ua for *_rest, ua in mirror.log[start:]} == {"djcrawl/0.1 (+mailto:crawl-ops@example.org)"}
    run = last_run(db)
    assert run["status"] == "finished" and run["sites"] == ["sx_jcy"]
    assert run["article_pages_fetched"] == 1 and run["documents_new"] == 1
    stored = {u for (u,) in rows(db, "SELECT url FROM pages WHERE kind = 'article'")}
    assert stored == set(SITES["sx_jcy"].article_urls)
    assert rows(db, "SELECT site, count(*) FROM documents GROUP BY site") == [("sx_jcy", 3)]


def test_the_files_of_a_fetched_article_are_not_cut_off_by_max_pages(mirror, tmp_path):
    db = tmp_path / "files.duckdb"
    # spp_12309's first list page holds the article linking files: 3 requests = the list page
    # and its two articles; the article's files come with it, the second list page does not
    _cut_at_three_pages(mirror, db, "spp_12309")
    files = SITES["spp_12309"].attachments
    kinds = dict(rows(db, "SELECT url, kind FROM pages"))
    assert all(kinds.get(a.url) == "attachment" for a in files) and kinds[files[0].page] == "article"
    assert rows(db, "SELECT count(*) FROM documents WHERE origin = 'attachment'") == [(sum(not a.broken for a in files),)]


def test_a_second_crawl_on_the_same_database_is_refused(first_run):
    # tried by the first_run fixture while the demo crawl held the database
    refused = first_run["refused"]
    assert first_run["still_running"], "the first crawl ended before the second one was tried"
    assert refused.returncode != 0
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "locked" in lines[0] and str(first_run["pid"]) in lines[0], refused.stderr
    run = first_run["run"]
    assert run["status"] == "finished" and run["documents_new"] >= 20
    assert first_run["runs"] == 1


@pytest.mark.parametrize("args, message", [
    (["crawl", "nosuchsite"], "unknown site nosuchsite"),
    (["crawl", "--max-pages", "0"], "--max-pages must be at least 1"),
    (["crawl", "--workers", "-1"], "--workers must be 0 (this process) or more"),
])
def test_bad_crawl_arguments_give_one_line(mirror, tmp_path, args, message):
    result = djcrawl(mirror, *args, "--db", str(tmp_path / "x.duckdb"))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"djcrawl: error: {message}"] or message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.duckdb").exists()


def test_dj_min_relevance_keeps_articles_under_it_as_pages_only(first, mirror, tmp_path):
    # The seeds first, as a user loads them: they are the reference set of relevance. The
    # demo (first) loaded them after its crawl and scored every document again, so its
    # scores are the ones this crawl computes while it runs.
    db = tmp_path / "relevant.duckdb"
    assert djcrawl(mirror, "load-seeds", "--db", str(db), "--quiet").returncode == 0
    env = {**os.environ, "DJ_MIRROR_URL": mirror.url, "DJ_MIN_RELEVANCE": "0.5"}
    # every site named: the unconfirmed ones are not in a crawl that names none
    result = subprocess.run([sys.executable, "-m", "crawler.cli", "crawl", "--mirror", "--db", str(db), *CONFIGS],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    crawled = "origin IN ('crawl', 'attachment')"
    demo = dict(rows(first[0], f"SELECT doc_id, relevance FROM documents WHERE {crawled}"))
    kept = dict(rows(db, f"SELECT doc_id, relevance FROM documents WHERE {crawled}"))
    assert kept and set(kept) == {d for d, score in demo.items() if score >= 0.5}
    assert all(score >= 0.5 for score in kept.values())
    dropped = rows(db, "SELECT url, doc_id FROM pages WHERE reason = 'irrelevant'")
    assert dropped and all(doc_id is None for _url, doc_id in dropped)
    assert {doc_id_for_url(url) for url, _ in dropped} == {d for d, score in demo.items() if score < 0.5}
    assert sum(n for (site, reason), n in last_run(db)["counts"].items() if reason == "irrelevant") == len(dropped)


def test_a_crawl_naming_no_site_leaves_the_unconfirmed_sites_out(mirror, tmp_path):
    """The default crawl is the sites whose evidence allows it; an unconfirmed one is crawled when named."""
    db = tmp_path / "default.duckdb"
    result = djcrawl(mirror, "crawl", "--mirror", "--db", str(db))
    assert result.returncode == 0, result.stderr
    default = {name for name, cfg in CONFIGS.items() if cfg.in_default_crawl}
    assert default and default != set(CONFIGS)
    # default sites the mirror does not serve are not asked for through it
    unserved = {c.name for c in load_sites()} - set(SITES)
    assert unserved and not unserved & {site for site, _reason in last_run(db)["counts"]}
    assert {site for site, _reason in last_run(db)["counts"]} == default
    assert {site for (site,) in rows(db, "SELECT DISTINCT site FROM pages")} == default
    named = djcrawl(mirror, "crawl", "zmdnews", "--mirror", "--db", str(db))
    assert named.returncode == 0, named.stderr
    assert CONFIGS["zmdnews"].status == "unconfirmed"
    assert {site for site, _reason in last_run(db)["counts"]} == {"zmdnews"}
