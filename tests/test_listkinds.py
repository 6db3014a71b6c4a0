"""Lists that are not HTML pages of links (``list.kind``): the config fields, the readers in
crawler/listkinds.py, and the real crawl against loopback sites in the real answers' shapes
(tests/kinds_sites.py)."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

import pytest

from crawler.listkinds import NotReadable, api_request_args, js_assignments, read_api
from crawler.siteconfig import SiteConfigError, load_site
from kinds_sites import MI4_LIST, KindsSite, write_configs
from pipelines.document import doc_id_for_url

SITES = ("dangjian_cn", "spp_12309")

# the start of a real answer of dangjian.cn's pageArticles.js (index file 71311451362)
MI4_ANSWER = """var _totalCnt=5605;//总数量
var _totalPage=225;//总页数
var _currPage=1;//当前页码
var _pageSize=25;//页显示数量
var MI4_PAGE_ARTICLE = [{"miViewCnt":475,"miCover11":"","shortTitle":"",
  "title":"以习近平党建思想规定中共党史党建学学科根本使命","pub_date":"2026-09-30 10:29",
  "subNm":"宣传阐释","miSummary":"程美东 习近平党建思想… var x = 1","miType":4,"miRespAuthor":"王寒",
  "url":"http://www.dangjian.cn/xccs/2026/09/30/detail_202609307838225.html","external_link":"",
  "subtitle":"","miOrigin":"《中州学刊》2026年第8期","miTags":"研究,理论,机制,党建,治理"},
  {"title":"外链","url":"http://www.dangjian.cn/a.html","external_link":"/gddj/2020/03/13/detail_202003135472756.html"}]
"""


# --------------------------------------------------------------------------- readers


def _api_config(tmp_path, list_table: str = MI4_LIST):
    from kinds_sites import MI4_START, ROOT, _with_list
    text = _with_list((ROOT / "seeds/sites/dangjian_cn.toml").read_text(encoding="utf-8"), MI4_START, list_table)
    path = tmp_path / "dangjian_cn.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_js_assignments_read_the_mi4_answer_and_not_the_strings_inside_it():
    values = js_assignments(MI4_ANSWER)
    assert values["_totalCnt"] == 5605 and values["_pageSize"] == 25
    assert len(values["MI4_PAGE_ARTICLE"]) == 2
    assert "x" not in values  # "var x = 1" inside a summary is text, not a statement


def test_an_api_answer_gives_its_article_urls_external_link_first(tmp_path):
    api = load_site(_api_config(tmp_path)).list.api
    page = read_api(api, MI4_ANSWER, "http://www.dangjian.cn/mi4-rest-api/pageArticles.js?page=1")
    assert page.urls == ["http://www.dangjian.cn/xccs/2026/09/30/detail_202609307838225.html",
                         "http://www.dangjian.cn/gddj/2020/03/13/detail_202003135472756.html"]
    assert page.total == 5605 and page.n_items == 2
    with pytest.raises(NotReadable):
        read_api(api, "<html>页面已过期</html>", "http://www.dangjian.cn/")


def test_api_requests_carry_the_parameters_and_the_page(tmp_path):
    api = load_site(_api_config(tmp_path)).list.api
    key, http, method = api_request_args(api, "http://www.dangjian.cn/p.js?wbId=91", 3)
    assert method == "GET" and key == http["url"] == "http://www.dangjian.cn/p.js?wbId=91&limit=4&noChild=1&page=3"
    post = load_site(_api_config(tmp_path, MI4_LIST.replace('kind = "api"', 'kind = "api"\nmethod = "POST"'))).list.api
    key, http, method = api_request_args(post, "http://www.dangjian.cn/list", 2)
    assert method == http["method"] == "POST" and http["body"] == "limit=4&noChild=1&page=2"
    assert key == "http://www.dangjian.cn/list#limit=4&noChild=1&page=2"  # each page kept on its own


@pytest.mark.parametrize("change, field, problem", [
    (('kind = "api"', 'kind = "rss"'), "list.kind", "must be one of"),
    (('kind = "api"', 'kind = "api"\nmethod = "PUT"'), "list.method", "GET or POST"),
    (('format = "js"', 'format = "xml"'), "list.format", "must be one of"),
    (('items_path = "MI4_PAGE_ARTICLE"\n', ''), "list.items_path", "must name the variable"),
    (('url_fields = ["external_link", "url"]\n', ''), "list.url_fields", "non-empty list"),
    (('params = { limit = 4, noChild = 1 }', 'params = { page = 1 }'), "list.params", "page parameter"),
    (('params = { limit = 4, noChild = 1 }', 'params = { limit = true }'), "list.params", "table of name"),
    (('max_pages = 30', 'max_pages = 30\nlink_selector = "li a"'), "list.link_selector", "list.kind = 'html'"),
])
def test_a_bad_api_list_is_refused_naming_the_file_and_the_field(tmp_path, change, field, problem):
    path = _api_config(tmp_path, MI4_LIST.replace(*change))
    with pytest.raises(SiteConfigError) as err:
        load_site(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{path}: field '{field}'") and problem in message, message


# --------------------------------------------------------------------------- the crawl


def _counts(state: dict, run_index: int, site: str) -> Counter:
    run_id = state["runs"][run_index]["run_id"]
    return Counter({r: n for (rid, s, r), n in state["counts"].items() if rid == run_id and s == site})


@pytest.fixture(scope="module")
def api_crawl(tmp_path_factory):
    from faults.crawl import run_crawl, stored
    from faults.server import FaultServer

    site = KindsSite()
    tmp = tmp_path_factory.mktemp("kinds")
    (tmp / "sites").mkdir()
    write_configs(tmp / "sites")
    env = {"DJ_SITES_DIR": str(tmp / "sites")}
    db, cut_db = tmp / "api.duckdb", tmp / "cut.duckdb"
    with FaultServer(site.routes) as server:
        first = run_crawl(db, server.url, SITES, **env)
        log1 = list(server.log)
        db1 = stored(db)
        second = run_crawl(db, server.url, SITES, **env)
        log2 = list(server.log)[len(log1):]
        db2 = stored(db)
        cut = run_crawl(cut_db, server.url, SITES, DJ_MAX_PAGES=3, **env)
        log3 = list(server.log)[len(log1) + len(log2):]
        db3 = stored(cut_db)
        rest = run_crawl(cut_db, server.url, SITES, **env)
        db4 = stored(cut_db)
    return {"site": site, "runs": (first, second, cut, rest), "logs": (log1, log2, log3), "db1": db1, "db2": db2,
            "db3": db3, "db4": db4}


def test_the_api_crawls_finish(api_crawl):
    for proc in api_crawl["runs"]:
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]


def test_every_article_an_api_list_names_is_stored(api_crawl):
    site, db = api_crawl["site"], api_crawl["db1"]
    expected = {doc_id_for_url(u) for name in SITES for u, _ in site.articles[name]}
    assert set(db["docs"]) == expected and len(expected) == 9 + 9
    for name in SITES:
        for url, sentence in site.articles[name]:
            assert sentence in db["docs"][doc_id_for_url(url)]["text_original"], url


def test_an_api_list_is_paged_to_its_end_and_no_further(api_crawl):
    site, log = api_crawl["site"], api_crawl["logs"][0]
    for name in SITES:
        assert [k for k in log if k in site.list_keys[name]] == site.list_keys[name]
    # off-site external_link, a url behind an external_link, the page after _totalCnt: never asked for
    assert not set(site.not_followed) & set(log), site.not_followed
    # every answer is kept in pages as a list page, a POST page under its own key
    pages = api_crawl["db1"]["pages"]
    kept = set()
    for url, p in pages.items():
        parts = urlsplit(url)
        if p["kind"] == "list":
            kept.add(parts.path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else ""))
    assert {k for name in SITES for k in site.list_keys[name]} <= kept


def test_a_second_api_crawl_fetches_no_known_article(api_crawl):
    site, log, db = api_crawl["site"], api_crawl["logs"][1], api_crawl["db2"]
    for name in SITES:
        assert not site.article_paths(name) & set(log), name
        # the first page is all known: the walk stops there
        assert [k for k in log if k in site.list_keys[name]] == site.list_keys[name][:1]
        counts = _counts(db, 1, name)
        # dangjian_cn's first page names 4 items, one of them off the site (never an article of it)
        known = {"dangjian_cn": 3, "spp_12309": 4}[name]
        assert counts["list-stop-all-known"] == 1 and counts["skipped-known"] == known, counts
    assert db["doc_rows"] == api_crawl["db1"]["doc_rows"]


def test_max_pages_cuts_an_api_list_and_the_next_run_finishes_it(api_crawl):
    site, log, cut = api_crawl["site"], api_crawl["logs"][2], api_crawl["db3"]
    for name in SITES:
        paths = site.article_paths(name) | set(site.list_keys[name])
        assert len([k for k in log if k in paths]) == 3, name  # the list's first page and two articles
        assert _counts(cut, 0, name)["max-pages-reached"] >= 1
    assert cut["doc_rows"] == 4
    # the cut run did not walk its lists to the end: the next one walks them whole
    assert set(api_crawl["db4"]["docs"]) == set(api_crawl["db1"]["docs"])


# --------------------------------------------------------------------------- script lists


def test_js_values_in_javascript_form_are_read():
    text = "var num = 0;\nitem=[{'title':'党员\\'s 学习','brief':'2024-01-05 10:00:00',link_add:\"/a.shtml\"}];"
    assert js_assignments(text)["item"] == [{"title": "党员's 学习", "brief": "2024-01-05 10:00:00",
                                             "link_add": "/a.shtml"}]
    assert js_assignments("item = [document.title];") == {}  # an expression, not a literal


def test_a_script_list_needs_its_variable(tmp_path):
    from kinds_sites import SCRIPT_CONFIG
    for change, field, problem in ((('script_var = "item"\n', ''), "list.script_var", "missing"),
                                   (('script_var = "item"', 'script_var = "item[0]"'), "list.script_var",
                                    "not a JavaScript variable name"),
                                   (('url_fields = ["link_add"]\n', ''), "list.url_fields", "non-empty list")):
        path = tmp_path / "dj12371.toml"
        path.write_text(SCRIPT_CONFIG.replace(*change), encoding="utf-8")
        with pytest.raises(SiteConfigError) as err:
            load_site(path)
        assert str(err.value).startswith(f"{path}: field '{field}'") and problem in str(err.value), err.value


@pytest.fixture(scope="module")
def script_crawl(tmp_path_factory):
    from faults.crawl import run_crawl, stored
    from faults.server import FaultServer
    from kinds_sites import ScriptSite, write_script_config

    site = ScriptSite()
    tmp = tmp_path_factory.mktemp("script")
    (tmp / "sites").mkdir()
    write_script_config(tmp / "sites")
    env = {"DJ_SITES_DIR": str(tmp / "sites")}
    db, cut_db = tmp / "script.duckdb", tmp / "cut.duckdb"
    with FaultServer(site.routes) as server:
        runs = [run_crawl(db, server.url, ("dj12371",), **env)]
        log1 = list(server.log)
        db1 = stored(db)
        runs.append(run_crawl(db, server.url, ("dj12371",), **env))
        log2 = list(server.log)[len(log1):]
        db2 = stored(db)
        runs.append(run_crawl(cut_db, server.url, ("dj12371",), DJ_MAX_PAGES=3, **env))
        db3 = stored(cut_db)
        runs.append(run_crawl(cut_db, server.url, ("dj12371",), **env))
        db4 = stored(cut_db)
    return {"site": site, "runs": runs, "logs": (log1, log2), "db1": db1, "db2": db2, "db3": db3, "db4": db4}


def test_a_script_list_crawl_stores_its_articles(script_crawl):
    for proc in script_crawl["runs"]:
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    site, db = script_crawl["site"], script_crawl["db1"]
    assert set(db["docs"]) == {doc_id_for_url(u) for u, _ in site.articles} and len(site.articles) == 6
    for url, sentence in site.articles:
        assert sentence in db["docs"][doc_id_for_url(url)]["text_original"], url
    assert not set(site.not_followed) & set(script_crawl["logs"][0])
    assert db["pages"]["http://www.12371.cn/zxfb/"]["kind"] == "list"


def test_a_second_script_list_crawl_fetches_no_known_article(script_crawl):
    site, log = script_crawl["site"], script_crawl["logs"][1]
    assert log.count(site.list_path) == 1
    assert not {urlsplit(u).path for u, _ in site.articles} & set(log), log
    counts = _counts(script_crawl["db2"], 1, "dj12371")
    assert counts["skipped-known"] == 6 and counts["list-stop-all-known"] == 1, counts


def test_max_pages_cuts_a_script_list_and_the_next_run_finishes_it(script_crawl):
    assert script_crawl["db3"]["doc_rows"] == 2  # the list page and two articles
    assert _counts(script_crawl["db3"], 0, "dj12371")["max-pages-reached"] == 1
    assert set(script_crawl["db4"]["docs"]) == set(script_crawl["db1"]["docs"])


# --------------------------------------------------------------------------- e-papers


def test_issue_urls_are_today_and_the_days_before(tmp_path):
    from datetime import date

    from crawler.listkinds import issue_urls
    from kinds_sites import EPAPER_CONFIG
    path = tmp_path / "zmdrb.toml"
    path.write_text(EPAPER_CONFIG.replace("{yyyymmdd}/html", "{yyyy}-{mm}/{dd}/html"), encoding="utf-8")
    urls = issue_urls(load_site(path).list.epaper, date(2024, 3, 1))
    assert urls == [f"http://zmdrb.zmdnews.cn/zmdrb/{d}/html/index.htm"
                    for d in ("2024-03/01", "2024-02/29", "2024-02/28", "2024-02/27")]


@pytest.mark.parametrize("change, field, problem", [
    (("{yyyymmdd}", "{date}"), "list.issue_url", "must contain"),
    (("{yyyymmdd}/html", "{yyyymmdd}/{page}"), "list.issue_url", "knows only"),
    (("http://zmdrb.zmdnews.cn", "http://example.org"), "list.issue_url", "allowed_domains"),
    (("page_pattern = '", "page_pattern = '(["), "list.page_pattern", "bad regex"),
    (("days_back = 3", "days_back = -1"), "list.days_back", "non-negative"),
    (('encoding_hint = "utf-8"', 'encoding_hint = "utf-8"\nstart_urls = ["http://zmdrb.zmdnews.cn/"]'),
     "start_urls", "list.issue_url"),
])
def test_a_bad_epaper_list_is_refused_naming_the_file_and_the_field(tmp_path, change, field, problem):
    from kinds_sites import EPAPER_CONFIG
    path = tmp_path / "zmdrb.toml"
    path.write_text(EPAPER_CONFIG.replace(*change), encoding="utf-8")
    with pytest.raises(SiteConfigError) as err:
        load_site(path)
    assert str(err.value).startswith(f"{path}: field '{field}'") and problem in str(err.value), err.value


@pytest.fixture(scope="module")
def epaper_crawl(tmp_path_factory):
    from faults.crawl import run_crawl, stored
    from faults.server import FaultServer
    from kinds_sites import EpaperSite, write_epaper_config

    site = EpaperSite()
    tmp = tmp_path_factory.mktemp("epaper")
    (tmp / "sites").mkdir()
    write_epaper_config(tmp / "sites")
    env = {"DJ_SITES_DIR": str(tmp / "sites")}
    db, cut_db = tmp / "epaper.duckdb", tmp / "cut.duckdb"
    with FaultServer(site.routes) as server:
        runs = [run_crawl(db, server.url, ("zmdrb",), **env)]
        log1 = list(server.log)
        db1 = stored(db)
        runs.append(run_crawl(db, server.url, ("zmdrb",), **env))
        log2 = list(server.log)[len(log1):]
        db2 = stored(db)
        runs.append(run_crawl(cut_db, server.url, ("zmdrb",), DJ_MAX_PAGES=6, **env))
        log3 = list(server.log)[len(log1) + len(log2):]
        db3 = stored(cut_db)
        runs.append(run_crawl(cut_db, server.url, ("zmdrb",), **env))
        db4 = stored(cut_db)
    return {"site": site, "runs": runs, "logs": (log1, log2, log3), "db1": db1, "db2": db2, "db3": db3, "db4": db4}


def test_an_epaper_crawl_walks_issue_page_article(epaper_crawl):
    for proc in epaper_crawl["runs"]:
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    site, db, log = epaper_crawl["site"], epaper_crawl["db1"], epaper_crawl["logs"][0]
    assert len(site.articles) == 12
    assert set(db["docs"]) == {doc_id_for_url(u) for u, _ in site.articles}
    for url, sentence in site.articles:
        assert sentence in db["docs"][doc_id_for_url(url)]["text_original"], url
    assert site.paths() <= set(log)  # every issue, page and article served was asked for
    assert all(db["pages"][f"http://zmdrb.zmdnews.cn{p}"]["kind"] == "list" for p in site.issue_paths)
    counts = _counts(db, 0, "zmdrb")
    # the days between and before the two issues have no paper (404): counted, not errors
    assert counts["epaper-no-issue"] >= 1 and db["runs"][0]["errors"] == 0, counts


def test_a_second_epaper_crawl_fetches_no_walked_issue(epaper_crawl):
    site, log = epaper_crawl["site"], epaper_crawl["logs"][1]
    assert not site.paths() & set(log), log
    counts = _counts(epaper_crawl["db2"], 1, "zmdrb")
    assert counts["epaper-issue-known"] == 2, counts
    assert epaper_crawl["db2"]["doc_rows"] == 12


def test_max_pages_cuts_an_epaper_and_the_next_run_finishes_it(epaper_crawl):
    site, log, cut = epaper_crawl["site"], epaper_crawl["logs"][2], epaper_crawl["db3"]
    assert len([p for p in log if p.startswith("/zmdrb/")]) == 6
    assert _counts(cut, 0, "zmdrb")["max-pages-reached"] >= 1
    assert cut["doc_rows"] < 12
    assert set(epaper_crawl["db4"]["docs"]) == set(epaper_crawl["db1"]["docs"])


def test_the_sites_command_names_each_list_kind(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from kinds_sites import write_configs, write_epaper_config, write_script_config

    for write in (write_configs, write_script_config, write_epaper_config):
        write(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJ_", "DJCRAWL_"))}
    proc = subprocess.run([sys.executable, "-m", "crawler.cli", "sites"], env={**env, "DJ_SITES_DIR": str(tmp_path)},
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    assert proc.returncode == 0, proc.stderr
    kinds = {line.split()[0]: line for line in proc.stdout.splitlines()[2:] if line and not line.startswith("(")}
    assert " api " in kinds["dangjian_cn"] and " api " in kinds["spp_12309"]
    assert " script " in kinds["dj12371"] and " epaper " in kinds["zmdrb"]
