"""The configs of sites the offline mirror does not serve (seeds/sites/cn12371.toml, ccdi.toml,
jcrb_epaper.toml, unchanged), crawled through the real engine against the mirror's loopback
server (http and https) answering with pages made here in the shapes their [evidence] cites:

- 共产党员网: the channel /zxfb/ holds its list in ``item=[{'title','brief','link_add'}];`` inside a
  ``<script language="javascript">`` (single-quoted JavaScript); the body is ``.word``.
- 中央纪委国家监委: rows ``.list_news_dl2 li`` (a + ``span.more`` date) linking
  ``./YYYYMM/tYYYYMMDD_ID.html``; the body ``.content``; one article answered by the
  seccaptcha challenge page a feed route stops on.
- 检察日报 e-paper: ``/{yyyy}/{yyyymmdd}/{yyyymmdd}_plist.htm`` lists the pages in
  ``div.bancititle a``, each page maps its articles with ``area.areablock``; GBK pages that
  declare no charset; title ``td.font01``, body ``td.font6``, date ``span.default``.

Only the page texts are made here; what the pages look like beyond the cited selectors is not
claimed to be the sites'.
"""

from __future__ import annotations

import html
from collections import Counter

import pytest

from crawler.listkinds import china_today
from crawler.mirror.pages import MirrorPage, MirrorSite
from crawler.mirror.server import MirrorServer
from faults.site import _sentence, seed_paragraphs
from pipelines.document import doc_id_for_url

NAMES = ("cn12371", "ccdi", "jcrb_epaper")


def _paragraphs(paras, n=2):
    return [next(paras) for _ in range(n)]


def _page(body: bytes, content_type: str = "text/html; charset=utf-8") -> MirrorPage:
    return MirrorPage(200, body, content_type)


class ShapesServer(MirrorServer):
    """The mirror's server (a proxy for http, TLS inside CONNECT for https) serving these pages
    instead of the mirror's: robots.txt allows everything, an unknown URL is a 404."""

    def __init__(self, pages: dict[str, MirrorPage]):
        self.pages = pages
        hosts = {u.split("/")[2] for u in pages}
        self.sites = {"shapes": MirrorSite("shapes", hosts, b"User-agent: *\nDisallow:\n", [])}
        self.port, self._server, self._thread, self._tmp = 0, None, None, None


class ConfigShapes:
    """The three sites' pages, by URL."""

    def __init__(self):
        self.routes: dict[str, MirrorPage] = {}
        self.articles: dict[str, list[tuple[str, str]]] = {n: [] for n in NAMES}
        self.blocked_url = ""
        paras = iter(seed_paragraphs())
        self._cn12371(paras)
        self._ccdi(paras)
        self._jcrb_epaper(paras)

    def _cn12371(self, paras):
        items = []
        for k, day in enumerate(("2026/09/08", "2026/09/07", "2026/09/05")):
            path = f"/{day}/ARTI178884878022538{k}.shtml"
            url = f"https://www.12371.cn{path}"
            ps = _paragraphs(paras)
            body = "".join(f"<p>{html.escape(p)}</p>" for p in ps)
            self.routes[url] = _page(f"""<html><head><meta charset="utf-8"><title>党旗在基层一线高高飘扬 {k}</title></head>
<body><div class="big_title"><h1>党旗在基层一线高高飘扬 {k}</h1></div><div class="word">{body}</div></body></html>""".encode())
            self.articles["cn12371"].append((url, _sentence(ps[1])))
            items.append(f"{{'title':'党旗在基层一线高高飘扬 {k}','brief':'{day.replace('/', '-')} 09:30:00','link_add':'{url}'}}")
        script = f"var pageSize=15;\nitem=[{','.join(items)}];\nshowList(item);"
        self.routes["https://www.12371.cn/zxfb/"] = _page(f"""<html><head><meta charset="utf-8"><title>最新发布</title></head>
<body><div class="dyw_list"></div><script language="javascript">{script}</script></body></html>""".encode())

    def _ccdi(self, paras):
        for channel in ("yaowenn", "scdcn/zggb/zjsc", "scdcn/zggb/djcf"):
            rows = []
            for k in range(2):
                ident = 257980 + len(self.articles["ccdi"]) + k
                path = f"/{channel}/202304/t2023041{k}_{ident}.html"
                url = f"https://www.ccdi.gov.cn{path}"
                rows.append(f'<li><a href="./202304/t2023041{k}_{ident}.html" target="_blank">稿件{ident}</a>'
                            f'<span class="more">2023-04-1{k}</span></li>')
                ps = _paragraphs(paras)
                body = "".join(f"<p>{html.escape(p)}</p>" for p in ps)
                self.routes[url] = _page(f"""<html><head><meta charset="utf-8"><title>稿件{ident}</title></head>
<body><h2 class="tit">稿件{ident}</h2><div class="daty"><div class="daty_con">来源：中央纪委国家监委网站
<em>发布时间：2023-04-1{k} 08:00</em></div></div><div class="content"><div class="TRS_Editor">{body}</div></div></body></html>""".encode())
                self.articles["ccdi"].append((url, _sentence(ps[1])))
            self.routes[f"https://www.ccdi.gov.cn/{channel}/"] = _page(f"""<html><head><meta charset="utf-8"></head><body>
<div class="other_Location">首页 &gt; {channel}</div><div class="list_news_dl2"><ul>{''.join(rows)}</ul></div></body></html>""".encode())
        # the last article of the last channel answers the challenge page instead
        url, _ = self.articles["ccdi"].pop()
        self.blocked_url = url
        self.routes[url] = _page(
            b'<html><head><script src="https://seccaptcha.haplat.net/static/captcha.js"></script></head>'
            b'<body><div id="captchaPage"></div></body></html>')

    def _jcrb_epaper(self, paras):
        today = china_today()
        yyyy, ymd = f"{today.year:04d}", today.strftime("%Y%m%d")
        base = f"https://newspaper.jcrb.com/{yyyy}/{ymd}/"
        editions = []
        for n in (1, 2):
            page = f"{ymd}_{n:03d}/{ymd}_{n:03d}.html"
            editions.append(f'<a href="{page}">第{n:02d}版：{"要闻" if n == 1 else "检察文化"}</a>')
            areas = []
            for k in (1, 2):
                name = f"{ymd}_{n:03d}_{k}.htm"
                ps = _paragraphs(paras)
                body = "".join(f"<p>　　{html.escape(p)}</p>" for p in ps)
                title = f"第{n}版稿件{k}"
                # GBK bytes, no charset declared anywhere: the config's encoding hint decodes them
                self.routes[f"{base}{ymd}_{n:03d}/{name}"] = _page(f"""<html><head><title>{title}</title></head><body>
<span class="default">{today.year}年{today.month:02d}月{today.day:02d}日</span><table><tr><td class="font01">{title}</td></tr>
<tr><td class="font02">本报记者 李明</td></tr><tr><td class="font6">{body}</td></tr></table></body></html>""".encode("gbk"),
                    "text/html")
                self.articles["jcrb_epaper"].append((f"{base}{ymd}_{n:03d}/{name}", _sentence(ps[1])))
                areas.append(f'<area class="areablock" shape="polygon" coords="1,2,3,4" href="{name}" name="{title}">')
            self.routes[f"{base}{ymd}_{n:03d}/{ymd}_{n:03d}.html"] = _page(
                f'<html><body><map name="PagePicMap">{"".join(areas)}</map></body></html>'.encode("gbk"), "text/html")
        # other links of the page list (yesterday's issue, the home page) are not pages of this issue
        self.routes[f"{base}{ymd}_plist.htm"] = _page(f"""<html><body><a href="../../">首页</a>
<a href="../../{yyyy}/19990101/19990101_plist.htm">往期</a><div class="bancititle">{''.join(editions)}</div></body></html>""".encode("gbk"),
            "text/html")


def _counts(state: dict, site: str) -> Counter:
    run_id = state["runs"][-1]["run_id"]
    return Counter({r: n for (rid, st, r), n in state["counts"].items() if rid == run_id and st == site})


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    from faults.crawl import run_crawl, stored

    site = ConfigShapes()
    db = tmp_path_factory.mktemp("shapes") / "shapes.duckdb"
    with ShapesServer(site.routes) as server:
        proc = run_crawl(db, server.url, NAMES)
        log = [url for _method, url, _status, _ua in server.log]
    return {"site": site, "proc": proc, "log": log, "db": stored(db)}


def test_the_crawl_finishes(crawl):
    assert crawl["proc"].returncode == 0 and "Traceback" not in crawl["proc"].stderr, crawl["proc"].stderr[-3000:]


@pytest.mark.parametrize("name", NAMES)
def test_each_config_finds_and_stores_the_articles_of_its_shape(crawl, name):
    docs = crawl["db"]["docs"]
    articles = crawl["site"].articles[name]
    assert articles
    for url, sentence in articles:
        assert doc_id_for_url(url) in docs, (name, url)
        assert sentence in docs[doc_id_for_url(url)]["text_original"], url


def test_the_epaper_walks_only_the_pages_its_page_list_names(crawl):
    log = crawl["log"]
    assert not any("19990101" in p for p in log)  # 往期 is not a page of the issue
    pages = [u for u, row in crawl["db"]["pages"].items() if "newspaper.jcrb.com" in u and row["kind"] == "list"]
    assert len(pages) == 3  # the page list and its two pages
    # the other days of the window have no paper here: counted, not errors
    assert _counts(crawl["db"], "jcrb_epaper")["epaper-no-issue"] >= 1


def test_the_ccdi_challenge_page_is_counted_blocked_and_not_stored(crawl):
    site, db = crawl["site"], crawl["db"]
    assert _counts(db, "ccdi")["blocked"] == 1
    assert doc_id_for_url(site.blocked_url) not in db["docs"]
    assert crawl["log"].count(site.blocked_url) == 1  # asked once, not retried
