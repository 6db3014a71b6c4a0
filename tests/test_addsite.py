"""``djcrawl add-site`` and ``djcrawl sites --check``, on 127.0.0.1.

A site whose config is taken away (a copy of ``seeds/sites`` without ``cpc_people.toml``) is
found again from its front page on the offline mirror: the draft add-site writes loads, and a
real crawl through the mirror with it stores the articles of the site's 党建 channel.
``sites --check`` runs a good config and one whose selector is stale. The inference itself
(``pipelines.siteprobe``) is tested on small pages in the shapes the sites use, and the
command's errors on a loopback site of its own.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.mirror.pages import MANIFEST
from crawler.settings import USER_AGENT
from crawler.siteconfig import load_sites
from pipelines.htmltree import parse_html
from pipelines.siteprobe import CHANNEL_WORDS, channel_links, link_selector, matching_links, pagination, url_patterns
from pipelines.store import Store

ROOT = Path(__file__).resolve().parents[1]
REMOVED = "cpc_people"
FRONT = "http://dangjian.people.com.cn/"
DRAFT = "dangjian_people"


def djcrawl(*args, sites_dir=None, mirror=None, timeout=300):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJ_", "DJCRAWL_"))}
    if sites_dir:
        env["DJ_SITES_DIR"] = str(sites_dir)
    if mirror:
        env["DJ_MIRROR_URL"] = mirror.url
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=timeout)


def one_line_error(proc, fragment: str):
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("djcrawl: error:")]
    assert len(lines) == 1 and fragment in lines[0], proc.stderr


def _channels_of(site: str) -> list[dict]:
    return tomllib.loads(MANIFEST.read_text(encoding="utf-8"))["sites"][site]["channels"]


@pytest.fixture(scope="module")
def without_site(tmp_path_factory):
    """``seeds/sites`` copied without the removed site's config."""
    d = tmp_path_factory.mktemp("sites")
    for p in (ROOT / "seeds" / "sites").glob("*.toml"):
        if p.stem != REMOVED:
            shutil.copy(p, d / p.name)
    return d


@pytest.fixture(scope="module")
def added(without_site, mirror):
    asked_before = len(mirror.log)
    proc = djcrawl("add-site", FRONT, "--mirror", sites_dir=without_site, mirror=mirror)
    assert proc.returncode == 0, proc.stderr
    return proc, mirror.log[asked_before:]


def test_the_removed_site_is_gone_but_the_mirror_still_serves_it(without_site, mirror):
    assert REMOVED not in {c.name for c in load_sites(directory=without_site, every=True)}
    assert urlsplit(FRONT).hostname in mirror.site(REMOVED).hosts


def test_add_site_writes_a_draft_that_loads_unconfirmed(without_site, added, mirror):
    proc, asked = added
    path = without_site / f"{DRAFT}.toml"
    assert f"wrote {path}" in proc.stdout
    cfg = load_sites([DRAFT], directory=without_site)[0]
    assert cfg.status == "unconfirmed" and not cfg.in_default_crawl and not cfg.cited
    # the start URL is the front page's 党建 channel, found by its anchor text
    party = [c["url"] for c in _channels_of(REMOVED) if any(w in c["title"] for w in CHANNEL_WORDS)]
    assert list(cfg.start_urls) == party
    host = urlsplit(FRONT).hostname
    assert cfg.allowed_domains == (host,)
    # the patterns accept the channel's articles over http and https, and no list page
    articles = [u for u in mirror.site(REMOVED).article_urls if urlsplit(u).hostname == host]
    assert {urlsplit(u).scheme for u in articles} == {"http", "https"}
    assert all(cfg.is_article_url(u) for u in articles), (cfg.article.url_patterns, articles)
    lists = [FRONT, *party, *(url for _, url, _, _ in asked if "index" in url)]
    assert len(lists) > 2  # the list's next page was asked for too
    assert not any(cfg.is_article_url(u) for u in lists)
    assert cfg.list.pagination == "links" and cfg.list.page_url == "index{n}.html"
    assert cfg.list.first_next_number == 2
    # [evidence] says it was discovered, when, and from which pages
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert cfg.notes[0].startswith(f"discovered {today}")
    seen = " ".join(cfg.notes)
    for url in (FRONT, party[0], party[0] + "index2.html"):
        assert url in seen
    assert any(n.startswith(f"seen {today}") and ": article " in n and cfg.is_article_url(n.split()[-1])
               for n in cfg.notes)
    assert any("inferred" in u for u in cfg.unconfirmed)
    listed = djcrawl("sites", sites_dir=without_site)
    assert listed.returncode == 0, listed.stderr
    assert re.search(rf"^{DRAFT}\s.*unconfirmed.*\bno\b", listed.stdout, re.M), listed.stdout
    # asked politely: the crawl's User-Agent, robots.txt first
    assert asked and all(ua == USER_AGENT for _, _, _, ua in asked)
    assert asked[0][1] == FRONT + "robots.txt"


def test_a_crawl_with_the_draft_through_the_mirror_finds_the_sites_articles(without_site, added, mirror, tmp_path):
    db = tmp_path / "crawl.duckdb"
    proc = djcrawl("crawl", DRAFT, "--mirror", "--db", str(db), "--workers", "0", sites_dir=without_site,
                   mirror=mirror)
    assert proc.returncode == 0, proc.stderr[-2000:]
    host = urlsplit(FRONT).hostname
    expected = {u for u in mirror.site(REMOVED).article_urls if urlsplit(u).hostname == host}
    with Store(db, read_only=True) as store:
        stored = {url for url, in store.query("SELECT url FROM documents WHERE site = ?", [DRAFT])[1]}
        dated = store.query("SELECT count(*) FROM documents WHERE site = ? AND title IS NOT NULL "
                            "AND published IS NOT NULL", [DRAFT])[1][0][0]
    assert stored == expected
    assert dated == len(expected)


def test_sites_check_says_ok_for_the_draft_and_a_seed_config(without_site, added, mirror):
    for name in (DRAFT, "spp"):
        proc = djcrawl("sites", "--check", name, "--mirror", sites_dir=without_site, mirror=mirror)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        verdict = proc.stdout.strip().splitlines()[-1]
        assert verdict.startswith("verdict: ok"), proc.stdout
        n = int(re.search(r"(\d+) match article\.url_patterns", proc.stdout).group(1))
        assert n >= 1
        assert re.search(r"title '.+', published \d{4}-\d{2}-\d{2}, body \d+ characters", proc.stdout)
        assert "next list page" in proc.stdout and "next list page (links): none" not in proc.stdout


def test_sites_check_fails_on_a_stale_selector(tmp_path, mirror):
    text = (ROOT / "seeds" / "sites" / "spp.toml").read_text(encoding="utf-8")
    stale = text.replace('link_selector = "div.commonList_con ul.li_line li"', 'link_selector = "div.ej_list_box li"')
    assert stale != text
    (tmp_path / "spp.toml").write_text(stale, encoding="utf-8")
    proc = djcrawl("sites", "--check", "spp", "--mirror", sites_dir=tmp_path, mirror=mirror)
    assert proc.returncode == 1, proc.stdout
    assert "'div.ej_list_box li': 0 links" in proc.stdout
    verdict = proc.stdout.strip().splitlines()[-1]
    assert verdict.startswith("verdict: FAILED") and "matches nothing" in verdict


def test_sites_check_refuses_an_unknown_site(without_site):
    one_line_error(djcrawl("sites", "--check", REMOVED, sites_dir=without_site), f"unknown site {REMOVED}")


def test_add_site_on_a_front_page_without_a_channel_fails_in_one_line(tmp_path, mirror):
    # spp's front page on the mirror links its news channels (最高检新闻 ...) and a 党建 headline only
    proc = djcrawl("add-site", "https://www.spp.gov.cn/", "--mirror", "--out", str(tmp_path), mirror=mirror)
    one_line_error(proc, "no channel link")
    assert list(tmp_path.iterdir()) == []


def test_add_site_through_the_mirror_on_a_host_it_does_not_serve_fails_in_one_line(tmp_path, mirror):
    proc = djcrawl("add-site", "http://www.example.invalid/", "--mirror", "--out", str(tmp_path), mirror=mirror)
    one_line_error(proc, "the offline mirror serves no www.example.invalid")


def test_add_site_refuses_to_overwrite(without_site, added, mirror):
    proc = djcrawl("add-site", FRONT, "--mirror", "--name", DRAFT, sites_dir=without_site, mirror=mirror)
    one_line_error(proc, "exists")


# --------------------------------------------------------------------------- a loopback site of its own

class _Site(BaseHTTPRequestHandler):
    pages: dict[str, bytes] = {}

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = self.pages.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        body = body if body is not None else b"<html><body>404</body></html>"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _html(body: str) -> bytes:
    return f"<html><head><title>某某检察院</title></head><body>{body}</body></html>".encode()


def test_add_site_without_an_article_fails_in_one_line(site, tmp_path):
    server, origin = site
    rows = "".join(f'<li><a href="/dwjs/202401/t2024010{i}_{i}.html">第{i}篇队伍建设工作报道标题</a>'
                   f"<span>2024-01-0{i}</span></li>" for i in range(1, 5))
    _Site.pages = {"/": _html('<div class="nav"><a href="/dwjs/">队伍建设</a></div>'),
                   "/dwjs/": _html(f'<ul class="list">{rows}</ul>')}  # every article answers 404
    proc = djcrawl("add-site", origin + "/", "--out", str(tmp_path))
    one_line_error(proc, "no article found")
    assert list(tmp_path.iterdir()) == []


def test_add_site_on_an_unreachable_url_fails_in_one_line(site, tmp_path):
    server, origin = site
    server.shutdown()
    server.server_close()
    one_line_error(djcrawl("add-site", origin + "/", "--out", str(tmp_path)), "cannot fetch")


# --------------------------------------------------------------------------- the inference, on small pages

def test_channels_are_short_named_links_not_headlines_or_dated_pages():
    page = "http://www.example.gov.cn/"
    tree = parse_html(
        '<html><body><div class="nav"><a href="/xwzx/">新闻中心</a><a href="/jcwh/">检察文化</a>'
        '<a href="/djgz/">党建</a><a href="#">党建</a></div>'
        '<a href="/djgz/202401/t20240105_1.html">党建红引领检察蓝</a>'
        '<a href="/x/">用心用情，在党建引领中凝聚磅礴力量</a>'
        '<a href="http://other.example.com/dj/">党建</a></body></html>')
    assert channel_links(tree, page) == [("http://www.example.gov.cn/djgz/", "党建"),
                                         ("http://www.example.gov.cn/jcwh/", "检察文化")]


def test_url_patterns_generalise_dates_and_ids_and_never_accept_a_list_page():
    articles = ["http://www.a.gov.cn/dwjs/202401/t20240105_123456.shtml",
                "https://www.a.gov.cn/dwjs/202312/t20231230_99.shtml",
                "http://www.a.gov.cn/JCWH/202402/t20240201_555.shtml"]
    lists = ["http://www.a.gov.cn/dwjs/index.shtml", "http://www.a.gov.cn/dwjs/index_1.shtml"]
    patterns = url_patterns(articles, lists)
    assert patterns
    compiled = [re.compile(p) for p in patterns]
    unseen = ["https://www.a.gov.cn/dwjs/201905/t20190512_7654321.shtml", "http://www.a.gov.cn/jcwh/202405/t20240501_1.shtml"]
    for url in articles + unseen:
        assert any(p.search(url) for p in compiled), (url, patterns)
    for url in lists:
        assert not any(p.search(url) for p in compiled), (url, patterns)


def test_url_patterns_join_channel_folders_of_different_depths_and_mixed_ids():
    articles = ["https://www.a.gov.cn/xwfbh/wsfbt/202609/t20260923_737391.shtml",
                "https://www.a.gov.cn/xwfbh/dxal/202401/t20240105_639390.shtml",
                "https://www.a.gov.cn/spp/xwfbh/wsfbh/201912/t20191230_451490.shtml",
                "https://news.b.com/24/0510/08/J1KF3A5B0001899O.html",
                "https://news.b.com/24/0511/09/J1M0QKU20534B9EV.html"]
    lists = ["https://www.a.gov.cn/xwfbh/wsfbt/index.shtml", "https://www.a.gov.cn/xwfbh/wsfbt/index_1.shtml"]
    patterns = url_patterns(articles, lists)
    compiled = [re.compile(p) for p in patterns]
    assert len(patterns) == 2, patterns
    unseen = ["http://www.a.gov.cn/spp/gjybs/202012/t20201216_487654.shtml", "https://news.b.com/24/0512/10/JA0000ZZ.html"]
    for url in articles + unseen:
        assert any(p.search(url) for p in compiled), (url, patterns)
    assert not any(p.search(u) for p in compiled for u in lists)


def test_url_patterns_drop_links_shaped_like_the_list_pages():
    # a "list" link shaped like index_N cannot be told from the pager: no pattern for it
    patterns = url_patterns(["http://a.cn/dj/index_2.html", "http://a.cn/dj/index_3.html"],
                            ["http://a.cn/dj/index_1.html"])
    assert not any(re.search(p, "http://a.cn/dj/index_1.html") for p in patterns)


@pytest.mark.parametrize("markup,style,page_url,first,next_name", [
    ('<script>createPageHTML(5, 0, "index", "shtml");</script>', "createPageHTML", "index_{n}.shtml", 1,
     "index_1.shtml"),
    ('<div class="page"><a href="index.html">1</a><a href="index2.html">2</a><a href="index2.html">下一页</a></div>',
     "links", "index{n}.html", 2, "index2.html"),
    ('<div class="page"><span>1</span><a href="index_1.html">2</a><a href="index_2.html">3</a></div>',
     "links", "index_{n}.html", 1, "index_1.html"),
])
def test_pagination_styles(markup, style, page_url, first, next_name):
    url = "http://www.a.gov.cn/dwjs/index.html"
    tree = parse_html(f"<html><body><ul><li>x</li></ul>{markup}</body></html>")
    found = pagination(f"<html><body>{markup}</body></html>", tree, url)
    assert (found.style, found.page_url, found.first_next_number) == (style, page_url, first)
    assert found.next_url == "http://www.a.gov.cn/dwjs/" + next_name
    assert re.search(found.page_number_pattern, found.next_url).group(1) == str(first)
    assert pagination("<html><body><p>no pager</p></body></html>", parse_html("<p>no pager</p>"), url) is None


def test_link_selector_selects_the_main_list_not_the_sidebar():
    url = "http://www.a.gov.cn/dwjs/index.html"
    rows = "".join(f'<li><a href="./2024010{i}/t2024010{i}_{i}.html">队伍建设第{i}篇工作报道</a><span>2024-01-0{i}</span></li>'
                   for i in range(1, 6))
    side = "".join(f'<li><a href="/xw/20231{i}/t2023110{i}_{i}.html">热点新闻第{i}篇稿件标题</a></li>' for i in range(1, 4))
    tree = parse_html(f'<html><body><div class="side"><h3>热点</h3><ul>{side}</ul></div>'
                      f'<div class="main"><ul class="list">{rows}</ul></div></body></html>')
    articles = [f"http://www.a.gov.cn/dwjs/2024010{i}/t2024010{i}_{i}.html" for i in range(1, 6)]
    patterns = url_patterns(articles, [url])
    selector = link_selector(tree, url, patterns)
    assert selector is not None
    assert matching_links(tree, selector, url) == articles
