"""Article links found without selectors (``pipelines.listlinks``), ``djcrawl links``, and
the spider's fallback when a site's selector has gone stale.

The list pages are real (``tests/fixtures/list_pages``, byte-for-byte copies, or the
``real_sites`` fixture a gold's ``page`` names; origins in each ``.gold.json``), their gold made by hand. The command runs as a child process on
files and on a page served on 127.0.0.1; the fallback runs the real crawl against a
loopback site whose config's selector matches nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from pipelines.decode import decode_bytes
from pipelines.document import doc_id_for_url
from pipelines.htmltree import parse_html
from pipelines.listlinks import article_links, list_articles, same_site, site_of

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "tests" / "fixtures" / "list_pages"
GOLD = sorted(PAGES.glob("*.gold.json"))


def page_file(name: str, gold: dict) -> Path:
    """The page a gold file scores: beside it, or the fixture its ``page`` names (not copied twice)."""
    return (PAGES / gold["page"]).resolve() if "page" in gold else PAGES / f"{name}.html"


def _page(name: str):
    gold = json.loads((PAGES / f"{name}.gold.json").read_text(encoding="utf-8"))
    text, _ = decode_bytes(page_file(name, gold).read_bytes())
    return parse_html(text), gold


def _f1(found, gold) -> float:
    hit = len(set(found) & set(gold))
    if not hit:
        return 0.0
    p, r = hit / len(set(found)), hit / len(set(gold))
    return 2 * p * r / (p + r)


# --------------------------------------------------------------------------- real pages

def test_there_are_real_pages_with_gold():
    assert len(GOLD) >= 8
    for path in GOLD:
        gold = json.loads(path.read_text(encoding="utf-8"))
        assert gold["source"]["repo"] and len(gold["source"]["commit"]) == 40 and gold["how"]
        assert len(gold["links"]) >= 10 and len(set(gold["links"])) == len(gold["links"])


@pytest.mark.parametrize("gold_path", GOLD, ids=lambda p: p.name.split(".")[0])
def test_each_real_list_page_gives_its_articles(gold_path):
    tree, gold = _page(gold_path.name[: -len(".gold.json")])
    found = article_links(tree, gold["url"])
    assert _f1(found, gold["links"]) >= 0.9, sorted(set(found) ^ set(gold["links"]))[:10]
    # in page order, once each, absolute, without fragments, on the page's site
    assert len(found) == len(set(found))
    assert [u for u in gold["links"] if u in found] == [u for u in found if u in gold["links"]]
    for url in found:
        assert urlsplit(url).scheme in ("http", "https") and "#" not in url and same_site(url, gold["url"])


def test_the_mean_f1_over_the_real_pages_reaches_the_goal():
    scores = []
    for path in GOLD:
        tree, gold = _page(path.name[: -len(".gold.json")])
        scores.append(_f1(article_links(tree, gold["url"]), gold["links"]))
    assert sum(scores) / len(scores) >= 0.9, scores


def test_a_dated_list_beats_its_navigation_and_its_sidebar():
    # Tencent's main list is headed 热点精选 and its sidebar's lists are dated too: the
    # main list must still win (the box word halves a score, it does not drop the list)
    tree, gold = _page("gerapy_tencent_important_news")
    assert article_links(tree, gold["url"]) == gold["links"]
    # NetEase's rolling list: a [社会] category link beside every headline is not an article
    tree, gold = _page("gerapy_netease_rolling_news")
    found = article_links(tree, gold["url"])
    assert found == gold["links"] and not any(u.rstrip("/").endswith("/shehui") for u in found)


# --------------------------------------------------------------------------- rules on a small page

_LIST = """<html><head><title>党建工作</title></head><body>
<div class="nav"><ul>{nav}</ul></div>
<div class="main"><ul class="news">{rows}</ul>
<div class="pages"><a href="index_1.html">下一页</a> <a href="index_1.html">2</a> <a href="index_9.html">尾页</a></div></div>
<div class="side"><h3>热点新闻</h3><ul>{hot}</ul></div>
<div class="friend">友情链接 <a href="http://www.other.gov.cn/">其他单位的门户网站</a></div>
</body></html>"""


def _small_page(rows: str, hot: str = "") -> str:
    nav = "".join(f'<li><a href="/{c}/">{c}工作动态栏目</a></li>' for c in ("dj", "dwjs", "jcwh", "dflz"))
    return _LIST.format(nav=nav, rows=rows, hot=hot)


def test_rows_of_dated_links_win_and_the_rest_of_the_page_does_not():
    rows = "".join(f'<li><a href="/dj/202401/t2024011{i}_{i}.html#top">第{i}次党支部主题党日活动</a>'
                   f'<span>[2024-01-1{i}]</span></li>' for i in range(1, 6))
    rows += '<li><a href="/dj/202401/t20240111_1.html">第1次党支部主题党日活动</a><span>01-11</span></li>'  # again
    rows += '<li><a href="javascript:void(0)">不是链接的一行标题文字</a><span>01-10</span></li>'
    rows += '<li><a href="mailto:a@b.cn">写信给我们的信箱地址</a><span>01-10</span></li>'
    rows += '<li><a href="http://elsewhere.com/a.html">别的网站上的一篇文章</a><span>01-09</span></li>'
    hot = "".join(f'<li><a href="/hot/{i}.html">热点文章的标题第{i}篇</a><span>01-0{i}</span></li>' for i in range(1, 4))
    tree = parse_html(_small_page(rows, hot))
    found = list_articles(tree, "http://www.sx.jcy.gov.cn/dj/index.html")
    assert [u for u, _ in found] == [f"http://www.sx.jcy.gov.cn/dj/202401/t2024011{i}_{i}.html" for i in range(1, 6)]
    assert found[0][1] == "第1次党支部主题党日活动"


def test_without_a_url_the_page_canonical_link_is_used():
    rows = "".join(f'<li><a href="a{i}.html">关于开展第{i}批专项工作的通知</a> 2024年05月1{i}日</li>' for i in range(5))
    html = _small_page(rows).replace("<title>", '<link rel="canonical" href="https://www.spp.gov.cn/dj/"><title>')
    assert article_links(parse_html(html)) == [f"https://www.spp.gov.cn/dj/a{i}.html" for i in range(5)]


def test_a_page_without_a_repeated_list_gives_nothing():
    html = "<html><body><p>只有一段正文，没有任何文章列表。</p><a href='/a.html'>一篇孤零零的文章标题</a></body></html>"
    assert article_links(parse_html(html), "http://www.spp.gov.cn/") == []
    assert article_links(None, "http://www.spp.gov.cn/") == []


def test_sites_are_registrable_domains():
    assert site_of("http://news.163.com/x") == site_of("https://ent.163.com/") == "163.com"
    assert site_of("http://www.spp.gov.cn/spp/") == "spp.gov.cn" != site_of("http://www.jcrb.com/")
    assert site_of("http://127.0.0.1:8080/a") == "127.0.0.1"


# --------------------------------------------------------------------------- djcrawl links

def djcrawl(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJ_", "DJCRAWL_"))}
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)


def _one_line_error(proc, fragment):
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("djcrawl: error: ") and fragment in lines[0], proc.stderr


def test_links_prints_the_articles_of_a_saved_page():
    name = "gerapy_rtfund_xxpl"
    _, gold = _page(name)
    proc = djcrawl("links", str(page_file(name, gold)), "--url", gold["url"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == gold["links"]
    proc = djcrawl("links", str(page_file(name, gold)), "--url", gold["url"], "--format", "json")
    out = json.loads(proc.stdout)
    assert out["page"] == gold["url"] and [x["url"] for x in out["links"]] == gold["links"]
    assert all(x["title"] for x in out["links"])


class _OnePage(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):
        if self.path != "/dj/index.html":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html")  # no charset: decoded by the bytes
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def one_page_server():
    rows = "".join(f'<li><a href="/dj/202405/t2024051{i}_{i}.shtml">检察机关党建工作第{i}篇报道</a>'
                   f'<span>2024-05-1{i}</span></li>' for i in range(6))
    _OnePage.body = _small_page(rows).encode("gbk")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OnePage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_links_fetches_an_http_url(one_page_server):
    proc = djcrawl("links", f"{one_page_server}/dj/index.html")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"{one_page_server}/dj/202405/t2024051{i}_{i}.shtml" for i in range(6)]
    _one_line_error(djcrawl("links", f"{one_page_server}/missing.html"), "HTTP 404")


def test_links_refuses_bad_input_in_one_line(tmp_path):
    (tmp_path / "empty.html").write_bytes(b"")
    (tmp_path / "binary.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00" + bytes(range(256)))
    (tmp_path / "text.txt").write_text("这只是一段文字，没有链接。", encoding="utf-8")
    _one_line_error(djcrawl("links", str(tmp_path / "nope.html")), "no such file")
    _one_line_error(djcrawl("links", str(tmp_path)), "is a directory")
    _one_line_error(djcrawl("links", str(tmp_path / "empty.html")), "is empty")
    _one_line_error(djcrawl("links", str(tmp_path / "binary.html")), "binary")
    _one_line_error(djcrawl("links", str(tmp_path / "text.txt")), "no HTML links")
    _one_line_error(djcrawl("links", "file:///etc/passwd"), "only http(s) URLs")
    _one_line_error(djcrawl("links", "ftp://127.0.0.1/list.html"), "only http(s) URLs")


# --------------------------------------------------------------------------- the spider's fallback

def _redesigned_list(rows, page_index: int, total: int) -> bytes:
    """A list page in a layout no selector of the config knows (a redesign): the articles are
    ``<dl>`` rows of a ``div.newslist``, beside navigation and a 热点 box of other articles."""
    items = "".join(f'<dl><dt><a href="{url}">{title}</a></dt><dd>2023-02-14</dd></dl>' for url, title in rows)
    hot = "".join(f'<li><a href="/jcdt/dwjs/202302/t20230214_{900 + i}.shtml">热点文章第{i}篇的标题</a></li>'
                  for i in range(3))
    nav = "".join(f'<li><a href="/{c}/">{c}栏目的名称很长</a></li>' for c in ("jcdt", "jcyw", "dwjs", "jcwh"))
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>队伍建设</title></head><body>
<div class="topnav"><ul>{nav}</ul></div>
<div class="content"><div class="newslist">{items}</div>
<script type="text/javascript">createPageHTML({total}, {page_index}, "index", "shtml");</script></div>
<div class="hotnews"><h3>热点推荐</h3><ul>{hot}</ul></div>
</body></html>""".encode()


@pytest.fixture(scope="module")
def stale_crawl(tmp_path_factory):
    from faults.crawl import run_crawl, stored
    from faults.server import FaultServer, page
    from faults.site import build_paged_site

    site = build_paged_site(n_articles=8, per_page=4)
    for n, (path, rows) in enumerate(zip(site.list_paths, site.pages)):
        site.routes[path] = page(_redesigned_list([(c.url, f"党支部工作报告{c.name}") for c in rows], n,
                                                  len(site.pages)))
    tmp = tmp_path_factory.mktemp("stale")
    sites = tmp / "sites"
    sites.mkdir()
    stale = "div.gone-after-redesign li a"
    config = (ROOT / "seeds" / "sites" / "sx_jcy.toml").read_text(encoding="utf-8")
    assert 'link_selector = "ul.list li a, div.list li a"' in config
    (sites / "sx_jcy.toml").write_text(config.replace('link_selector = "ul.list li a, div.list li a"',
                                                      f'link_selector = "{stale}"'), encoding="utf-8")
    db = tmp / "stale.duckdb"
    with FaultServer(site.routes) as server:
        proc = run_crawl(db, server.url, DJ_SITES_DIR=str(sites))
        log = list(server.log)
        first = stored(db)
        # the next run: the list pages are unchanged (304), their links come from the stored copies
        for path in site.list_paths:
            site.routes[path] = page(b"", code=304)
        again = run_crawl(db, server.url, DJ_SITES_DIR=str(sites))
    return {"site": site, "proc": proc, "db": first, "selector": stale, "log": log, "again": again,
            "db2": stored(db)}


def test_a_stale_selector_still_finds_and_stores_the_articles(stale_crawl):
    proc, db, site = stale_crawl["proc"], stale_crawl["db"], stale_crawl["site"]
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert sorted(db["docs"]) == sorted(doc_id_for_url(c.url) for c in site.cases)
    for case in site.cases:
        assert case.sentence in db["docs"][doc_id_for_url(case.url)]["text_original"]
    # the 热点 box's links were not followed (the server would have answered 404)
    assert not any("/t20230214_9" in path for path in stale_crawl["log"]), stale_crawl["log"]


def test_a_stale_selector_is_counted_and_warned_once(stale_crawl):
    db, proc = stale_crawl["db"], stale_crawl["proc"]
    counts = {reason: n for (_, s, reason), n in db["counts"].items() if s == "sx_jcy"}
    assert counts.get("selector-stale") == 2, counts  # both list pages
    assert "list-without-articles" not in counts
    warnings = [line for line in proc.stderr.splitlines() if "selector-stale" in line]
    assert len(warnings) == 1, proc.stderr[-3000:]
    assert "sx_jcy" in warnings[0] and stale_crawl["selector"] in warnings[0]


def test_a_stale_selector_on_an_unchanged_list_page_reads_the_stored_copy(stale_crawl):
    again, db = stale_crawl["again"], stale_crawl["db2"]
    assert again.returncode == 0, again.stderr[-3000:]
    second = db["runs"][-1]["run_id"]
    counts = {reason: n for (rid, s, reason), n in db["counts"].items() if rid == second and s == "sx_jcy"}
    # the first page's links, read without the selector from its stored copy, are all known:
    # the walk stops there, as it does for a site whose selector works
    assert counts.get("not-modified") == 1 and counts.get("selector-stale") == 1, counts
    assert counts.get("list-stop-all-known") == 1 and "list-without-articles" not in counts, counts
    assert db["doc_rows"] == stale_crawl["db"]["doc_rows"]


def test_a_list_page_without_any_list_is_still_counted_without_articles(tmp_path):
    # a page the fallback finds nothing on either (no repeated rows): list-without-articles, not stale
    from faults.crawl import run_crawl, stored
    from faults.server import FaultServer, page
    from faults.site import build_paged_site

    site = build_paged_site(n_articles=4, per_page=4)
    site.routes[site.list_paths[0]] = page("<html><body><p>网站改版中，敬请期待。</p></body></html>".encode())
    with FaultServer(site.routes) as server:
        proc = run_crawl(tmp_path / "empty.duckdb", server.url)
    assert proc.returncode == 0, proc.stderr[-3000:]
    counts = {reason: n for (_, s, reason), n in stored(tmp_path / "empty.duckdb")["counts"].items() if s == "sx_jcy"}
    assert counts.get("list-without-articles") == 1 and "selector-stale" not in counts, counts
    assert "selector-stale" not in proc.stderr
