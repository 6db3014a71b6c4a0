"""Site configs: validation on load, and each config checked against its mirror pages.

The mirror's pages are the real saved pages and the pages built in each site's
layout; these tests apply a config's selectors and patterns to them directly.
The whole crawl through the Scrapy engine is in test_crawl.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urldefrag, urljoin

import pytest
from scrapy.selector import Selector

from crawler.mirror.pages import build_mirror
from crawler.siteconfig import DEFAULT_CRAWL_STATUSES, SiteConfigError, load_site, load_sites, required_cited
from crawler.spiders.djcrawl import DjSpider
from pipelines.decode import decode_bytes
from pipelines.document import Document
from pipelines.documents import document_from_html

CONFIGS = {c.name: c for c in load_sites(every=True)}
PAGES, SITES = build_mirror()
#: the configs the offline mirror serves; the others rest on public evidence alone
MIRRORED = sorted(set(CONFIGS) & set(SITES))

GOOD = Path(__file__).resolve().parent.parent / "seeds" / "sites" / "sx_jcy.toml"
#: real article and list URLs of each site, harvested from public crawlers and code (never the mirror)
REAL_URLS = json.loads((Path(__file__).resolve().parent / "fixtures" / "site_urls.json").read_text(encoding="utf-8"))["sites"]
#: the configs the offline mirror serves (sites configured from public evidence alone have no mirror pages)
MIRRORED = sorted(n for n in CONFIGS if n in SITES)


def test_at_least_the_required_sites_are_configured():
    hosts = {d for c in CONFIGS.values() for d in c.allowed_domains}
    for host in ("www.spp.gov.cn", "www.jcrb.com", "news.jcrb.com", "cpc.people.com.cn",
                 "dangjian.people.com.cn", "www.12309.gov.cn", "www.dangjian.cn", "www.zmdnews.cn"):
        assert host in hosts
    assert sum(1 for h in hosts if h.endswith(".jcy.gov.cn")) >= 7
    # every config says what is and is not confirmed by a real page
    assert all(c.cited or c.unconfirmed for c in CONFIGS.values())


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "old, new, field",
    [
        ('name = "sx_jcy"', 'name = "other"', "name"),
        ('link_selector = "ul.list li a, div.list li a"', 'link_selector = "ul.list li[[a"', "list.link_selector"),
        ("url_patterns = ['^https?", "url_patterns = ['^(https?", "article.url_patterns"),
        ('pagination = "createPageHTML"', 'pagination = "infinite-scroll"', "list.pagination"),
        ('page_url = "index_{n}.shtml"', 'page_url = "index.shtml"', "list.page_url"),
        ('start_urls = ["http://www.sx.jcy.gov.cn/jcdt/dwjs/index.shtml"]',
         'start_urls = ["http://elsewhere.example.com/index.shtml"]', "start_urls"),
        ('published = ["meta[name=PubDate]"]', 'published_on = ["meta[name=PubDate]"]', "article.meta.published_on"),
        ("prune_xpaths = ['//script'", "prune_xpaths = ['//script['", "article.prune_xpaths"),
        ('title = "山西省人民检察院"\n', "", "title"),
        ('status = "unconfirmed"', 'status = "probably"', "status"),
        # a status above unconfirmed needs the fields it rests on cited
        ('status = "unconfirmed"', 'status = "partial"', "status"),
        ("[evidence]\n", '[evidence.cited]\n"list.colour" = ["a/b c.py@0123456789abcdef: x"]\n[evidence]\n',
         "evidence.cited.list.colour"),
        ("[evidence]\n", '[evidence.cited]\nstart_urls = ["the project notes say so"]\n[evidence]\n',
         "evidence.cited.start_urls"),
    ],
)
def test_a_bad_config_names_the_file_and_the_field(tmp_path, old, new, field):
    text = GOOD.read_text(encoding="utf-8")
    assert old in text
    path = _write(tmp_path, "sx_jcy", text.replace(old, new, 1))
    with pytest.raises(SiteConfigError) as err:
        load_site(path)
    message = str(err.value)
    assert str(path) in message and f"'{field}'" in message
    assert "\n" not in message


def test_a_config_that_is_not_toml_is_refused_in_one_line(tmp_path):
    path = _write(tmp_path, "broken", 'name = "broken\n[list')
    with pytest.raises(SiteConfigError, match="broken.toml: not valid TOML"):
        load_site(path)


def test_an_unknown_site_name_is_refused():
    with pytest.raises(SiteConfigError, match="unknown site nosuchsite"):
        load_sites(["spp", "nosuchsite"])


def test_every_mirror_site_has_a_config():
    assert set(SITES) <= set(CONFIGS) and MIRRORED


@pytest.mark.parametrize("name", MIRRORED)
def test_config_list_pages_yield_its_article_urls(name):
    """Walking the mirror's lists with the config (selector, pattern, pagination) finds every article."""
    cfg, site = CONFIGS[name], SITES[name]
    assert set(cfg.start_urls) == set(site.channels)
    found, pages_walked = set(), 0
    for start in cfg.start_urls:
        url = start
        while url:
            page = PAGES[url]
            pages_walked += 1
            text, _ = decode_bytes(page.body, page.content_type)
            sel = Selector(text=text)
            for node in sel.css(cfg.list.link_selector):
                for href in node.xpath("self::a/@href | .//a/@href").getall():
                    # the spider drops a #fragment before asking, as here
                    link = urldefrag(urljoin(url, href))[0]
                    if cfg.is_article_url(link):
                        found.add(link)
            url = DjSpider._next_list_page(cfg, url, url, text, sel)
            assert url is None or url in PAGES, f"{name}: pagination leads to {url}, which the site does not have"
    expected = set(site.article_urls) | set(site.error_urls) | set(site.forbidden_urls)
    assert found == expected
    assert pages_walked > len(cfg.start_urls), "the mirror paginates every site's lists"
    # list pages themselves are not article URLs
    assert not any(cfg.is_article_url(u) for u in cfg.start_urls)


@pytest.mark.parametrize("name", MIRRORED)
def test_config_article_pages_become_documents_with_title_and_date(name):
    cfg, site = CONFIGS[name], SITES[name]
    docs = []
    for url in site.article_urls:
        outcome = document_from_html(PAGES[site.redirects.get(url, url)].body, url=url, hints=cfg.hints())
        if isinstance(outcome, Document):
            docs.append(outcome)
    # every site has at least two documents, and most of its pages become documents
    assert len(docs) >= 2 and len(docs) >= len(site.article_urls) // 2
    assert all(d.site == name and d.url in site.article_urls for d in docs)
    dated = [d for d in docs if d.title and d.published]
    assert len(dated) >= 2, [(d.url, d.title, d.published) for d in docs]
    # a selector reading a whole byline (date and 来源 in one block) yields the source alone
    labelled = [d.source_name for d in docs if d.source_name and re.search(r"来源|发布时间|[:：]", d.source_name)]
    assert labelled == []


def test_sites_command_lists_and_validates(tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    root = GOOD.parent.parent.parent
    run = lambda env: subprocess.run([sys.executable, "-m", "crawler.cli", "sites"], cwd=root,  # noqa: E731
                                     env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    ok = run({})
    assert ok.returncode == 0, ok.stderr
    assert all(f"\n{name} " in ok.stdout for name in CONFIGS)
    header = ok.stdout.splitlines()[0].split()
    assert header[:2] == ["site", "title"] and "kind" in header and "evidence" in header and "crawl" in header
    shown = {line.split()[0]: line.split() for line in ok.stdout.splitlines()[2:] if line.split()
             and line.split()[0] in CONFIGS}
    for name, cfg in CONFIGS.items():
        cols = shown[name]
        assert cfg.list.kind in cols and cfg.status in cols and str(len(cfg.cited)) in cols
        assert ("yes" if cfg.status != "unconfirmed" else "no") in cols
    assert f"{len(load_sites())} in the default crawl" in ok.stdout
    shutil.copy(GOOD, tmp_path / "sx_jcy.toml")
    (tmp_path / "bad.toml").write_text(GOOD.read_text(encoding="utf-8").replace('name = "sx_jcy"', 'name = "bad"')
                                       .replace("max_pages = 30", "max_pages = -1"), encoding="utf-8")
    bad = run({"DJ_SITES_DIR": str(tmp_path)})
    assert bad.returncode == 1
    assert "bad.toml: field 'list.max_pages'" in bad.stderr and "Traceback" not in bad.stderr
    assert "1 valid, 1 invalid" in bad.stdout


def test_an_encoding_hint_only_fills_in_for_pages_that_declare_nothing():
    cfg = CONFIGS["cpc_people"]
    gbk = "<html><body><p>检察机关党建</p></body></html>".encode("gbk")
    assert cfg.content_type_for(gbk, None) == "text/html; charset=gb18030"
    assert decode_bytes(gbk, cfg.content_type_for(gbk, None))[0].count("检察机关党建") == 1
    declared = b'<meta charset="big5">' + gbk
    assert cfg.content_type_for(declared, "text/html") == "text/html"


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_config_accepts_the_real_article_urls_and_no_real_list_url(name):
    """The configs against URLs of the real sites (tests/fixtures/site_urls.json): every article
    URL a public source shows is an article of its site, with or without its #fragment (the
    spider drops it); no list, channel, search or API URL of any site is an article."""
    cfg, real = CONFIGS[name], REAL_URLS[name]
    missed = [a["url"] for a in real["articles"] if not cfg.is_article_url(a["url"])]
    assert missed == []
    assert all(cfg.is_article_url(urldefrag(a["url"])[0]) for a in real["articles"])
    lists = [entry["url"] for site in REAL_URLS.values() for entry in site["lists"]]
    assert [u for u in lists if cfg.is_article_url(u)] == []
    # every real URL names where it was read
    assert all(e["source"].strip() for e in real["articles"] + real["lists"])


def test_real_urls_cover_the_variety_the_sites_have():
    articles = {n: [a["url"] for a in r["articles"]] for n, r in REAL_URLS.items()}
    assert set(REAL_URLS) == set(CONFIGS)
    assert any("/n/" in u for u in articles["cpc_people"]) and any("/n1/" in u for u in articles["cpc_people"])
    assert {u.split(":")[0] for u in articles["cpc_people"]} == {"http", "https"}
    assert any("#" in u for u in articles["spp"]) and any("/spp/" not in u for u in articles["spp"])
    assert any(re.search(r"/[A-Z]{2,}/", u) for u in articles["jcrb"])
    assert any("showinfo-" in u for u in articles["zmdnews"])
    # a site whose articles no public source shows cannot be more than unconfirmed
    for name, urls in articles.items():
        if len(urls) < 2:
            assert CONFIGS[name].status == "unconfirmed", name


#: a TRS article address: channel folders, then the month folder and t{date}_{id}
TRS_ARTICLE = re.compile(r"^(https?://[^/]+/)((?:[a-z0-9_]+/)+)(\d{6}/t\d{8}_\d+\.s?html?)$")


@pytest.mark.parametrize("name", sorted(REAL_URLS))
def test_trs_articles_are_accepted_with_their_real_variants(name):
    """TRS sites answer the same article over http and https, under upper-case channel folders
    (jcrb's XSJC, YAJJ) and with a ``#1`` page fragment: each real article of a TRS-shaped site is
    accepted in every such variant, and none of its real list pages is."""
    cfg = CONFIGS[name]
    trs = [m for a in REAL_URLS[name]["articles"] if (m := TRS_ARTICLE.match(a["url"]))]
    for m in trs:
        base, folders, rest = m.groups()
        for scheme in ("http://", "https://"):
            url = scheme + base.split("://", 1)[1]
            for variant in (url + folders + rest, url + folders.upper() + rest, url + folders + rest + "#1"):
                assert cfg.is_article_url(variant), variant
    for entry in REAL_URLS[name]["lists"]:
        assert not cfg.is_article_url(entry["url"]), entry["url"]


def test_the_default_crawl_leaves_unconfirmed_sites_out_but_a_named_one_is_crawled():
    default = {c.name for c in load_sites()}
    assert default == {n for n, c in CONFIGS.items() if c.status in DEFAULT_CRAWL_STATUSES}
    assert {"ccdi", "cn12371", "cpc_people", "jcrb", "spp", "gd_jcy"} <= default
    unconfirmed = {n for n, c in CONFIGS.items() if c.status == "unconfirmed"}
    assert {"dangjian_cn", "jcrb_epaper", "spp_12309", "sn_jcy", "sx_jcy", "tzwb", "zmdnews", "zmdrb",
            "nmetuoke_jcy", "hi_jcy"} <= unconfirmed
    assert not default & unconfirmed
    assert [c.name for c in load_sites(["sx_jcy"])] == ["sx_jcy"]
    assert {c.name for c in load_sites(every=True)} == set(CONFIGS)


def test_evidence_cites_public_sources_never_the_mirror():
    for cfg in CONFIGS.values():
        for field, citations in cfg.cited:
            for c in citations:
                # another repository's path may be its recording of the real site (tests/fixtures/…);
                # what the citation says must never point at this project's mirror or fixtures
                said = re.sub(r"^[\w.-]+/[\w.-]+ \S+@[0-9a-f]+", "", c)
                assert not re.search(r"mirror|fixtures|real_sites|127\.0\.0\.1|seeds/", said), (cfg.name, field, c)
        if cfg.status != "unconfirmed":
            fields = {f for f, _ in cfg.cited}
            assert set(required_cited("partial", cfg.list.kind)) <= fields, cfg.name
            # and what is not cited is said to be unconfirmed
            assert cfg.unconfirmed, cfg.name


def _gd_jcy_list(rows: list[tuple[str, str]], current: int) -> str:
    """A list page of www.gd.jcy.gov.cn in the shape a public crawler recorded (legal-job-tracker
    tests/fixtures/gd_jcy_list.html): nested layout tables, rows ``· <a href="./YYYYMM/t…shtml"
    class=b16>`` beside ``<span class="h12">(MM-DD)</span>``, a breadcrumb and the province's site
    links also ``a.b16``, and the pager written by a script after a commented-out createPageHTML."""
    row = ('<tr><td height="38" align="left"><table width="100%"><tr><td height="42" align="left">'
           '· <a href="{href}" target=_blank class=b16>{title}</a></td>'
           '<td width="58"> <span class="h12">(06-11)</span></td></tr></table></td></tr>')
    return ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>'
            '<table><tr><td><div class="TRS_Editor"><ul id="navMenu"><li><a class="w18" '
            'href="http://www.gd.jcy.gov.cn/sygk/sygk1/201312/t20131211_1270894.shtml">省院概况</a></li></ul></div>'
            '<div class="TRS_Editor"><a class="b16" href="http://www.shenzhen.jcy.gov.cn/">深圳</a>'
            '<a class="b16" href="http://www.gd.jcy.gov.cn/tl/">广铁</a></div></td></tr></table>'
            '<table><tr><td class=b16>当前位置：<a href="../" class=b16>首页</a>><a href="./" class=b16>通知公告</a>'
            '</td></tr></table><table>'
            + "".join(row.format(href=h, title=t) for h, t in rows)
            + '</table><SCRIPT LANGUAGE="JavaScript">\n//createPageHTML(2, %d, "index", "shtml");\n'
              'var currentPage = %d;\nvar countPage = 2\n</SCRIPT></body></html>' % (current, current))


def test_gd_jcy_reads_its_recorded_list_shape():
    """gd_jcy's selector, pattern and pagination on a page in the shape a public crawler
    recorded: only the rows are articles (not the breadcrumb, the navigation or the other
    sites' links), page 1 leads to index_1.shtml and the last page ends the list."""
    cfg = CONFIGS["gd_jcy"]
    start = "http://www.gd.jcy.gov.cn/tzgg/"
    pages = {
        start: _gd_jcy_list([("./202606/t20260611_7770799.shtml", "拟录用人员名单公示"),
                             ("./202303/t20230308_4035474.shtml", "资格审核公告")], 0),
        start + "index_1.shtml": _gd_jcy_list([("./202104/t20210415_3204716.shtml", "情况通报")], 1),
    }
    found, url, walked = [], start, []
    while url:
        walked.append(url)
        text = pages[url]
        sel = Selector(text=text)
        for node in sel.css(cfg.list.link_selector):
            for href in node.xpath("self::a/@href | .//a/@href").getall():
                link = urldefrag(urljoin(url, href))[0]
                if cfg.is_article_url(link) and link not in found:
                    found.append(link)
        url = DjSpider._next_list_page(cfg, url, url, text, sel)
    assert walked == [start, start + "index_1.shtml"]
    assert found == ["http://www.gd.jcy.gov.cn/tzgg/202606/t20260611_7770799.shtml",
                     "http://www.gd.jcy.gov.cn/tzgg/202303/t20230308_4035474.shtml",
                     "http://www.gd.jcy.gov.cn/tzgg/202104/t20210415_3204716.shtml"]
    # the navigation's article link is an article of the site, but not a row of this list
    assert cfg.is_article_url("http://www.gd.jcy.gov.cn/sygk/sygk1/201312/t20131211_1270894.shtml")


def test_configs_without_mirror_pages_are_the_evidence_only_ones():
    """Every site the project first configured is served by the mirror; the sites configured from
    public evidence alone are not, and none of them shares a host with a mirrored site (the mirror
    would otherwise answer for a site it never built)."""
    assert {"cpc_people", "dangjian_cn", "jcrb", "sn_jcy", "spp", "spp_12309", "sx_jcy", "zmdnews"} <= set(MIRRORED)
    unmirrored = set(CONFIGS) - set(MIRRORED)
    mirrored_hosts = {d for n in MIRRORED for d in CONFIGS[n].allowed_domains}
    assert unmirrored and not {d for n in unmirrored for d in CONFIGS[n].allowed_domains} & mirrored_hosts


def _drop_citation(text: str, field: str) -> str:
    """The config's text without the ``[evidence.cited]`` entry of ``field`` (a quoted key, a list)."""
    start = text.index(f'"{field}" = [')
    return text[:start] + text[text.index("\n]\n", start) + 3:]


@pytest.mark.parametrize("name, field", [("zmdrb", "list.issue_url"), ("zmdrb", "list.page_pattern"),
                                         ("zmdrb", "list.article_selector"), ("cn12371", "list.script_var"),
                                         ("cn12371", "list.url_fields")])
def test_a_status_rests_on_the_fields_of_the_configs_list_kind(tmp_path, name, field):
    """An e-paper has no start URLs and no list rows: its issue URL, page pattern and article
    selector stand for them; a script list's variable and URL fields stand for the rows."""
    text = CONFIGS[name].path.read_text(encoding="utf-8")
    partial = re.sub(r'^status = "\w+"', 'status = "partial"', text, count=1, flags=re.M)
    assert load_site(_write(tmp_path, name, partial)).status == "partial"
    with pytest.raises(SiteConfigError) as err:
        load_site(_write(tmp_path, name, _drop_citation(partial, field)))
    assert "'status'" in str(err.value) and field in str(err.value)


@pytest.mark.parametrize("name", sorted(n for n, c in CONFIGS.items() if c.list.kind == "epaper"))
def test_an_epapers_pages_issues_and_articles_are_told_apart(name):
    """Against the real URLs: an issue page of a real date is the URL the config builds for that
    date, an article is never taken for a page, and no issue or page URL is an article."""
    from datetime import date

    from crawler.listkinds import issue_urls

    epaper, real = CONFIGS[name].list.epaper, REAL_URLS[name]
    lists = [e["url"] for e in real["lists"]]
    assert not [a["url"] for a in real["articles"] if re.search(epaper.page_pattern, a["url"])]
    for url in lists:
        if m := re.search(r"/(\d{4})(\d{2})(\d{2})/", url):
            day = date(int(m[1]), int(m[2]), int(m[3]))
            assert issue_urls(epaper, day)[0] in lists
    assert not CONFIGS[name].is_article_url(issue_urls(epaper)[0])
    assert any(re.search(epaper.page_pattern, u) for u in lists) or not any("page_" in u for u in lists)
