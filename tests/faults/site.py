"""A small site in the layout of one real config (``seeds/sites/sx_jcy.toml``, a TRS site).

Its channel list links to healthy articles and to one article per fault; the
list's pagination never ends (``createPageHTML`` always announces one more page)
and its pages link to themselves and to each other. Article texts are paragraphs
of the seed reports, so every healthy article is a distinct real report text.

The cases are data: each says which path misbehaves how, and what the crawl must
leave behind (a document with a known sentence, or no document and a failure
counted under a reason).
"""

from __future__ import annotations

import hashlib
import html
import random
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from crawler.siteconfig import SiteConfig, load_sites

from . import server as s

__all__ = ["SITE", "Case", "FaultSite", "build_fault_site", "build_paged_site", "article_html", "seed_paragraphs"]

ROOT = Path(__file__).resolve().parents[2]
SITE = "sx_jcy"
#: Well over the suite's DOWNLOAD_MAXSIZE (2 MB, faults.crawl.FAST): cut by it, not by the timeout.
HUGE = 5 * 1024 * 1024


def seed_paragraphs() -> list[str]:
    """Long paragraphs of the Simplified seed reports (they also encode as GBK), each once."""
    out, seen = [], set()
    for path in sorted((ROOT / "seeds" / "documents").glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = unicodedata.normalize("NFKC", line.strip())
            if len(line) < 80 or not line.endswith("。") or line in seen:
                continue
            try:
                line.encode("gbk")
            except UnicodeEncodeError:
                continue
            seen.add(line)
            out.append(line)
    return out


def article_html(title: str, paragraphs: list[str], *, charset: str = "utf-8", date: str = "2023-01-05") -> str:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<meta name="ArticleTitle" content="{html.escape(title)}">
<meta name="PubDate" content="{date} 09:30">
<meta name="ContentSource" content="山西省人民检察院">
<title>{html.escape(title)}</title>
</head>
<body>
<div class="header"><a href="/">山西省人民检察院</a> <a href="/">首页</a></div>
<div class="article">
<h1>{html.escape(title)}</h1>
<div class="TRS_Editor">
{body}
</div>
<div class="share">【打印本页】【关闭窗口】</div>
</div>
<div class="footer">山西省人民检察院 版权所有</div>
</body>
</html>
"""


def list_html(rows: list[tuple[str, str]], page_index: int, total: int, extra_links: list[str] = ()) -> str:
    items = "\n".join(f'<li><a href="{href}" target="_blank">{html.escape(title)}</a>'
                      f'<span class="time">2023-01-05</span></li>' for href, title in rows)
    extra = " ".join(f'<a href="{href}">第{i}页</a>' for i, href in enumerate(extra_links))
    return f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>党风廉政</title></head>
<body>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; 党建</div>
<ul class="list">
{items}
</ul>
<div class="page">{extra}
<script type="text/javascript">createPageHTML({total}, {page_index}, "index", "shtml");</script>
</div>
</body></html>
"""


@dataclass
class Case:
    name: str
    #: URL path on the site (the server's route key).
    path: str
    behaviour: s.Behaviour
    #: A sentence the stored document must contain; None: no document may be stored.
    sentence: str | None = None
    #: The reason crawl_run_counts must count this case under (None: a document, or not listed).
    reason: str | None = None
    #: How many requests the server must have seen for it (retries), if it matters.
    requests: int | None = None
    url: str = ""
    #: Linked from the list (a redirect's target and the loop's second hop are not).
    listed: bool = True


@dataclass
class FaultSite:
    config: SiteConfig
    cases: list[Case]
    routes: dict[str, s.Behaviour]
    #: list pages the crawl may fetch (the pagination is endless)
    list_paths: list[str]
    robots: bytes

    def case(self, name: str) -> Case:
        return next(c for c in self.cases if c.name == name)

    @property
    def good(self) -> list[Case]:
        return [c for c in self.cases if c.sentence is not None]


def _sentence(paragraph: str) -> str:
    """A stretch from the middle of a paragraph: what the stored text must contain."""
    mid = len(paragraph) // 2
    return paragraph[mid - 12: mid + 12]


def build_fault_site(n_good: int = 8) -> FaultSite:
    """The site of the fault suite."""
    cfg = load_sites([SITE])[0]
    channel = cfg.start_urls[0]
    base = urljoin(channel, "./")
    paras = seed_paragraphs()
    assert len(paras) >= 3 * (n_good + 8), "not enough seed paragraphs for the fault site"
    chunks = iter([paras[i:i + 3] for i in range(0, len(paras) - 2, 3)])
    serial = iter(range(100, 10_000))

    def article_url() -> str:
        url = urljoin(base, f"202301/t20230105_{next(serial)}.shtml")
        assert cfg.is_article_url(url), f"{url} does not match {SITE}'s article.url_patterns"
        return url

    def good_page(title: str, charset: str = "utf-8") -> tuple[str, str]:
        ps = next(chunks)
        return article_html(title, ps, charset=charset), _sentence(ps[1])

    cases: list[Case] = []

    def add(name, behaviour=None, *, sentence=None, reason=None, requests=None, url=None, listed=True):
        url = url or article_url()
        path = urlsplit(url).path
        if behaviour is None:
            behaviour = s.page(doc.encode("utf-8"))
        cases.append(Case(name, path, behaviour, sentence, reason, requests, url, listed))
        return url

    for i in range(n_good):
        doc, sentence = good_page(f"基层党建工作报告之{i}")
        add(f"good-{i}", sentence=sentence)

    doc, sentence = good_page("慢而健康的服务器")
    add("slow-but-healthy", s.delayed(0.3, s.page(doc.encode())), sentence=sentence)
    doc, sentence = good_page("两次503后恢复")
    add("503-twice-then-ok", s.flaky(2, s.page(doc.encode())), sentence=sentence, requests=3)
    doc, sentence = good_page("连接重置后恢复")
    add("reset-once-then-ok", s.reset_then(1, doc.encode()), sentence=sentence, requests=2)
    doc, sentence = good_page("标签残缺的页面")
    # unclosed and stray tags, a comment never closed at the end, no </body></html>
    broken = (doc.replace("</p>", "").replace("<p>", "<p><b><i>", 1).replace("</h1>", "</span></h3>")
              .replace('<div class="article">', '<div class="article"><table><tr><td>')
              .replace("</body>\n</html>", "<div><span><!-- 未闭合"))
    add("broken-tags", s.page(broken.encode()), sentence=sentence)
    doc, sentence = good_page("GBK页面声明为UTF-8", charset="utf-8")
    add("gbk-declared-utf8", s.page(doc.encode("gbk"), "text/html; charset=utf-8"), sentence=sentence)
    doc, sentence = good_page("UTF-8页面声明为GBK", charset="gbk")
    add("utf8-declared-gbk", s.page(doc.encode("utf-8"), "text/html; charset=gb2312"), sentence=sentence)
    doc, sentence = good_page("跳转到正文")
    target = add("redirect-target", listed=False)
    # stored once, under the URL the list links to
    add("redirect-ok", s.redirect(target, 301), sentence=sentence, requests=1)

    # failures: nothing stored, counted by reason
    doc, _ = good_page("服务器错误")
    for code in (500, 502, 503):
        add(f"http-{code}", s.status(code), reason=f"http-{code}", requests=3)  # RETRY_TIMES = 2
    for code in (404, 410):
        add(f"http-{code}", s.status(code), reason=f"http-{code}", requests=1)
    add("stall", s.stall(), reason="error-DownloadTimeoutError", requests=3)
    add("slow-body", s.slow_body(doc.encode()), reason="error-DownloadTimeoutError", requests=3)
    add("reset-mid-body", s.reset_mid_body(doc.encode()), reason="error-ResponseDataLossError", requests=3)
    loop_a, loop_b = article_url(), article_url()
    add("redirect-loop", s.redirect(loop_b), reason="redirect-loop", url=loop_a)
    add("redirect-loop-b", s.redirect(loop_a), url=loop_b, listed=False)
    forbidden = add("robots-disallowed", reason="robots-disallowed", requests=0)
    add("huge-announced", s.huge(HUGE, announce=True), reason="error-DownloadCancelledError")
    add("huge-streamed", s.huge(HUGE, announce=False), reason="error-DownloadCancelledError")
    rnd = random.Random(7)
    binary = b"\x89PNG\r\n\x1a\n" + bytes(rnd.randrange(256) for _ in range(30_000))
    add("binary-as-html", s.page(binary, "text/html"), reason="no-body")
    add("gzip-that-lies", s.lying_gzip(doc.encode()), reason="error-BadGzipFile")
    add("gzip-truncated", s.truncated_gzip(doc.encode()), reason="error-TruncatedBody")
    add("empty-200", s.page(b""), reason="empty")

    # the list: every article on the first page, then pages that never end
    rows = [(c.url, f"文章{c.name}") for c in cases if c.listed]
    list_paths = [urlsplit(channel).path] + [urlsplit(urljoin(base, f"index_{n}.shtml")).path
                                             for n in range(1, cfg.list.max_pages + 5)]
    routes: dict[str, s.Behaviour] = {c.path: c.behaviour for c in cases}
    for n, path in enumerate(list_paths):
        here = urljoin(channel, path)
        # each page links to itself, to the first page and to the next page (the pager)
        extra = [here, channel, urljoin(base, f"index_{n + 1}.shtml")]
        page_rows = rows if n == 0 else rows[:2]  # later pages repeat articles already seen
        routes[path] = s.page(list_html(page_rows, n, n + 2, extra).encode())
    robots = f"User-agent: *\nDisallow: {urlsplit(forbidden).path}\n".encode()
    routes["/robots.txt"] = s.page(robots, "text/plain")
    return FaultSite(cfg, cases, routes, list_paths, robots)


def build_paged_site(n_articles: int = 16, per_page: int = 4) -> FaultSite:
    """A healthy site: ``n_articles`` articles, ``per_page`` rows a list page, a pager that ends.

    The crash tests hold pages back by replacing routes (``site.routes[path] = ...``);
    the running server reads the dict on each request.
    """
    cfg = load_sites([SITE])[0]
    channel = cfg.start_urls[0]
    base = urljoin(channel, "./")
    paras = seed_paragraphs()
    assert len(paras) >= 3 * n_articles, "not enough seed paragraphs"
    cases = []
    for i in range(n_articles):
        ps = paras[3 * i: 3 * i + 3]
        url = urljoin(base, f"202302/t20230214_{500 + i}.shtml")
        assert cfg.is_article_url(url), f"{url} does not match {SITE}'s article.url_patterns"
        body = article_html(f"党支部工作报告第{i}号", ps).encode()
        cases.append(Case(f"article-{i}", urlsplit(url).path, s.page(body), _sentence(ps[1]), url=url))
    pages = [cases[i:i + per_page] for i in range(0, n_articles, per_page)]
    list_paths = [urlsplit(channel).path] + [urlsplit(urljoin(base, f"index_{n}.shtml")).path
                                             for n in range(1, len(pages))]
    routes: dict[str, s.Behaviour] = {c.path: c.behaviour for c in cases}
    for n, (path, rows) in enumerate(zip(list_paths, pages)):
        routes[path] = s.page(list_html([(c.url, c.name) for c in rows], n, len(pages)).encode())
    robots = b"User-agent: *\nDisallow:\n"
    routes["/robots.txt"] = s.page(robots, "text/plain")
    site = FaultSite(cfg, cases, routes, list_paths, robots)
    site.pages = pages
    return site


def content_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
