"""Loopback sites whose lists are not HTML pages of links (``list.kind``), in the shapes the
evidence records, and the temporary site configs that read them.

- ``dangjian_cn`` with ``list.kind = "api"``, ``format = "js"``: GET
  ``/mi4-rest-api/pageArticles.js?wbId=91&subjectId=…&limit=…&page=N`` answered as
  ``text/javascript``: ``var _totalCnt=…;//总数量`` … ``var MI4_PAGE_ARTICLE = [{…}]`` with the
  record fields of the real answer (index file 71311451362, cited in seeds/sites/dangjian_cn.toml);
  ``external_link``, when not empty, is the article's address.
- ``spp_12309`` with ``list.kind = "api"``, ``method = "POST"``: ``POST /getFileListByPage`` with
  ``page, size, fileType, channelWebPath, channelLevels`` (the parameters ../shared/SITE_EVIDENCE.md
  reports). The JSON answer's shape is not recorded anywhere (spp_12309.toml says so): the one here
  is an ordinary ``{"results": {"list": [...]}}``, and its end is an empty page (no total given).
"""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from faults import server as s
from faults.site import _sentence, article_html, seed_paragraphs

ROOT = Path(__file__).resolve().parents[1]

MI4_LIST = """[list]
kind = "api"
format = "js"
params = { limit = 4, noChild = 1 }
page_param = "page"
first_page = 1
items_path = "MI4_PAGE_ARTICLE"
url_fields = ["external_link", "url"]
total_path = "_totalCnt"
max_pages = 30
"""
MI4_START = 'start_urls = ["http://www.dangjian.cn/mi4-rest-api/pageArticles.js?wbId=91&subjectId=50754"]'

POST_LIST = """[list]
kind = "api"
method = "POST"
params = { size = 4, fileType = "1", channelWebPath = "/12309/djgz/", channelLevels = "1" }
page_param = "page"
first_page = 1
format = "json"
items_path = "results.list"
url_fields = ["url"]
max_pages = 30
"""
POST_START = 'start_urls = ["http://www.12309.gov.cn/getFileListByPage"]'


def _with_list(config: str, start: str, list_table: str) -> str:
    """A real config with its ``start_urls`` and its ``[list]`` table replaced."""
    config = re.sub(r"(?ms)^start_urls = \[.*?\]\n", start + "\n", config, count=1)
    config = re.sub(r"(?ms)^\[list\]\n.*?(?=^\[)", list_table + "\n", config, count=1)
    assert "kind = " in config and start in config
    return config


def write_configs(directory: Path) -> None:
    sites = ROOT / "seeds" / "sites"
    (directory / "dangjian_cn.toml").write_text(
        _with_list((sites / "dangjian_cn.toml").read_text(encoding="utf-8"), MI4_START, MI4_LIST), encoding="utf-8")
    (directory / "spp_12309.toml").write_text(
        _with_list((sites / "spp_12309.toml").read_text(encoding="utf-8"), POST_START, POST_LIST), encoding="utf-8")


def _dangjian_article(title: str, paragraphs: list[str]) -> bytes:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}-党建网</title></head>
<body><div class="nav"><a href="/">首页</a> <a href="/xccs/">宣传阐释</a></div>
<div id="title_tex"><p>{html.escape(title)}</p></div>
<div class="time"><span id="time_tex">发表时间：2026-09-30 10:29</span> <span id="time_ly">来源：人民日报</span></div>
<div id="tex" class="article"><div class="TRS_Editor">
{body}
</div></div>
<div class="footer">党建网 版权所有</div></body></html>""".encode()


class KindsSite:
    def __init__(self):
        self.routes: dict[str, s.Behaviour] = {"/robots.txt": s.page(b"User-agent: *\nDisallow:\n", "text/plain")}
        #: site -> [(article URL, sentence its document must hold)]
        self.articles: dict[str, list[tuple[str, str]]] = {"dangjian_cn": [], "spp_12309": []}
        #: site -> route keys of its list pages, in order
        self.list_keys: dict[str, list[str]] = {}
        self.not_followed: list[str] = []  # paths the crawl must never ask for
        paras = iter(seed_paragraphs())
        self._mi4(paras)
        self._post(paras)

    def article_paths(self, site: str) -> set[str]:
        return {urlsplit(u).path for u, _ in self.articles[site]}

    def _article(self, site: str, url: str, title: str, paras, page) -> None:
        ps = [next(paras) for _ in range(3)]
        self.routes[urlsplit(url).path] = s.page(page(title, ps))
        self.articles[site].append((url, _sentence(ps[1])))

    def _mi4(self, paras, n: int = 10, limit: int = 4) -> None:
        rows = []
        for i in range(n):
            url = f"http://www.dangjian.cn/xccs/2026/09/30/detail_2026093078382{i:02d}.html"
            row = {"miViewCnt": 475, "miCover11": "", "shortTitle": "", "title": f"党建理论文章{i}",
                   "pub_date": "2026-09-30 10:29", "subNm": "宣传阐释", "miSummary": "", "miType": 4,
                   "miRespAuthor": "王寒", "pubAuthor": "", "miAuthor": "", "url": url, "external_link": "",
                   "subtitle": "", "miOrigin": "人民日报", "miTags": "党建,理论"}
            if i == 3:
                # an external link off the site: that is the article's address, not ours to fetch
                row["external_link"] = "http://www.people.com.cn/n1/2026/0930/c1001-4000000.html"
                self.not_followed.append(urlsplit(url).path)
            else:
                if i == 5:
                    # an external link on the site wins over url (which would answer 404)
                    row["url"] = "http://www.dangjian.cn/xccs/2026/09/30/detail_999.html"
                    row["external_link"] = url
                    self.not_followed.append("/xccs/2026/09/30/detail_999.html")
                self._article("dangjian_cn", url, row["title"], paras, _dangjian_article)
            rows.append(row)
        pages = [rows[i:i + limit] for i in range(0, n, limit)]
        keys = []
        for number, page_rows in enumerate(pages, 1):
            key = f"/mi4-rest-api/pageArticles.js?wbId=91&subjectId=50754&limit={limit}&noChild=1&page={number}"
            body = (f"var _totalCnt={n};//总数量\nvar _totalPage={len(pages)};//总页数\n"
                    f"var _currPage={number};//当前页码\nvar _pageSize={limit};//页显示数量\n"
                    f"var MI4_PAGE_ARTICLE = {json.dumps(page_rows, ensure_ascii=False)}")
            self.routes[key] = s.page(body.encode("utf-8"), "text/javascript;charset=UTF-8")
            keys.append(key)
        self.list_keys["dangjian_cn"] = keys
        # the page after the total: never asked for (the total ends the list)
        self.not_followed.append(keys[-1].replace(f"page={len(pages)}", f"page={len(pages) + 1}"))

    def _post(self, paras, n: int = 9, size: int = 4) -> None:
        rows = []
        for i in range(n):
            url = f"http://www.12309.gov.cn/12309/gj/djgz/202301/t20230105_{700 + i}.shtml"
            rows.append({"id": 700 + i, "title": f"检察机关党建工作{i}", "url": urlsplit(url).path,
                         "publishedTimeStr": "2023-01-05"})
            self._article("spp_12309", url, rows[-1]["title"], paras,
                          lambda t, ps: article_html(t, ps).encode())
        pages = [rows[i:i + size] for i in range(0, n, size)] + [[]]  # an empty page ends it
        keys = []
        for number, page_rows in enumerate(pages, 1):
            form = urlencode([("size", size), ("fileType", "1"), ("channelWebPath", "/12309/djgz/"),
                              ("channelLevels", "1"), ("page", number)])
            key = f"/getFileListByPage#{form}"
            body = json.dumps({"success": True, "results": {"list": page_rows}}, ensure_ascii=False)
            self.routes[key] = s.page(body.encode(), "application/json;charset=UTF-8")
            keys.append(key)
        self.list_keys["spp_12309"] = keys


# --------------------------------------------------------------------------- 12371.cn: an inline script array

#: A site on 12371.cn's shape: the channel page's list is ``item=[{'title':…,'brief':…,'link_add':…}];``
#: in a ``<script language="javascript">`` (DIYgod/RSSHub lib/routes/12371/zxfb.ts@050e31f287fb reads
#: it with /item=(\[{.*?}]);/, single quotes for double, fields title, brief, link_add; body ``.word``).
#: http here: the loopback mirror is an HTTP proxy, the real site is https.
SCRIPT_CONFIG = """name = "dj12371"
title = "共产党员网"
allowed_domains = ["www.12371.cn"]
start_urls = ["http://www.12371.cn/zxfb/"]
encoding_hint = "utf-8"

[list]
kind = "script"
script_var = "item"
url_fields = ["link_add"]

[article]
url_patterns = ['^https?://www\\.12371\\.cn/\\d{4}/\\d{2}/\\d{2}/ARTI\\d+\\.shtml$']
body_selectors = [".word"]

[article.meta]
title = ["h1.big_title", "h1"]
"""


def _word_article(title: str, paragraphs: list[str]) -> bytes:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}_共产党员网</title></head>
<body><div class="nav"><a href="/">首页</a></div><h1 class="big_title">{html.escape(title)}</h1>
<div class="word">
{body}
</div><div class="footer">共产党员网</div></body></html>""".encode()


class ScriptSite:
    def __init__(self, n: int = 6):
        self.routes: dict[str, s.Behaviour] = {"/robots.txt": s.page(b"User-agent: *\nDisallow:\n", "text/plain")}
        self.articles: list[tuple[str, str]] = []
        paras = iter(seed_paragraphs())
        items = []
        for i in range(n):
            url = f"http://www.12371.cn/2024/01/05/ARTI17044412345678{i:02d}.shtml"
            title = f"共产党员网最新发布{i}"
            ps = [next(paras) for _ in range(3)]
            self.routes[urlsplit(url).path] = s.page(_word_article(title, ps))
            self.articles.append((url, _sentence(ps[1])))
            items.append("{'title':'%s','brief':'2024-01-05 1%d:00:00','link_add':'%s'}" % (title, i, url))
        # a row linking off the articles (a special page): not an article URL, never fetched
        items.append("{'title':'专题','brief':'2024-01-05 09:00:00','link_add':'http://www.12371.cn/special/zt/'}")
        self.not_followed = ["/special/zt/"]
        self.list_path = "/zxfb/"
        page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>最新发布_共产党员网</title>
<script type="text/javascript" src="/js/jquery.js"></script></head>
<body><div class="nav"><a href="/">首页</a> <a href="/zxfb/">最新发布</a></div>
<div class="list" id="list"></div>
<script language="javascript">
var num = 0;
item=[{",".join(items)}];
for (var i = 0; i < item.length; i++) {{ document.write('<li><a href="' + item[i].link_add + '">' + item[i].title + '</a></li>'); }}
</script>
</body></html>"""
        self.routes[self.list_path] = s.page(page.encode())


def write_script_config(directory: Path) -> None:
    (directory / "dj12371.toml").write_text(SCRIPT_CONFIG, encoding="utf-8")


# --------------------------------------------------------------------------- zmdrb: a date-addressed e-paper

#: 驻马店日报's e-paper as public crawlers show it (xiaoxiaosuaxuan/newscrapy
#: newscrapy/spiders/zhumadiandaily.py, index file 13140982390): the issue
#: /zmdrb/{yyyymmdd}/html/index.htm links page_NN.htm, each page links content_{yyyymmdd}{NNN}{NNN}.htm;
#: title div.bmnr_con_biaoti (引题 bmnr_con_yinti, 副题 bmnr_con_futi), body div#zoom.
EPAPER_CONFIG = """name = "zmdrb"
title = "驻马店日报"
allowed_domains = ["zmdrb.zmdnews.cn"]
encoding_hint = "utf-8"

[list]
kind = "epaper"
issue_url = "http://zmdrb.zmdnews.cn/zmdrb/{yyyymmdd}/html/index.htm"
days_back = 3
page_selector = "a, area"
page_pattern = '/zmdrb/\\d{8}/html/page_\\w+\\.htm$'
article_selector = "a, area"

[article]
url_patterns = ['^https?://zmdrb\\.zmdnews\\.cn/zmdrb/\\d{8}/html/content_\\w+\\.htm$']
body_selectors = ["div#zoom"]

[article.meta]
title = ["div.bmnr_con_biaoti"]
"""


def _zmdrb_article(yinti: str, title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>　　{html.escape(p)}</p>" for p in paragraphs)
    return f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>{html.escape(title)}</title></head>
<body><div class="bmnr_con"><div class="bmnr_con_yinti">{html.escape(yinti)}</div>
<div class="bmnr_con_biaoti">{html.escape(title)}</div><div class="bmnr_con_futi">——记驻马店市检察机关</div>
<div class="bmnr_con_con"><div id="zoom">{body}<p>　　通讯员 张明</p></div></div></div></body></html>""".encode()


class EpaperSite:
    """Issues of ``days`` (days back from China's today) with ``pages`` pages of ``per_page``
    articles each; page 1 is index.htm's copy (the issue links it too), articles are linked from
    an ``<area>`` image map and from a title list."""

    def __init__(self, days=(0, 2), pages: int = 3, per_page: int = 2):
        from crawler.listkinds import china_today

        self.routes: dict[str, s.Behaviour] = {"/robots.txt": s.page(b"User-agent: *\nDisallow:\n", "text/plain")}
        self.articles: list[tuple[str, str]] = []
        self.issue_paths: list[str] = []
        paras = iter(seed_paragraphs())
        today = china_today()
        for back in days:
            ymd = (today - timedelta(days=back)).strftime("%Y%m%d")
            base = f"/zmdrb/{ymd}/html/"
            nav = "".join(f'<a href="page_{n:02d}.htm">第{n:02d}版：{"要闻" if n == 1 else "政法"}</a>'
                          for n in range(1, pages + 1))
            for n in range(1, pages + 1):
                names = [f"content_{ymd}{n:03d}{k:03d}.htm" for k in range(1, per_page + 1)]
                for name in names:
                    ps = [next(paras), next(paras)]
                    self.routes[base + name] = s.page(_zmdrb_article("检察护航", f"{ymd}第{n}版稿件{name[-7:-4]}", ps))
                    self.articles.append((f"http://zmdrb.zmdnews.cn{base}{name}", _sentence(ps[1])))
                areas = "".join(f'<area shape="polygon" coords="1,2,3,4" href="{name}">' for name in names)
                titles = "".join(f'<li><a href="{name}">稿件{name}</a></li>' for name in names)
                page = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>
<body><div class="bmdh">{nav}</div><map name="PagePicMap">{areas}</map><ul class="ul02_l">{titles}</ul>
<a href="../../../zmdrb/{ymd}/html/index.htm">首页</a></body></html>""".encode()
                self.routes[f"{base}page_{n:02d}.htm"] = s.page(page)
                if n == 1:
                    self.routes[f"{base}index.htm"] = s.page(page)
                    self.issue_paths.append(f"{base}index.htm")

    def paths(self) -> set[str]:
        return {k for k in self.routes if k.startswith("/zmdrb/")}


def write_epaper_config(directory: Path) -> None:
    (directory / "zmdrb.toml").write_text(EPAPER_CONFIG, encoding="utf-8")
