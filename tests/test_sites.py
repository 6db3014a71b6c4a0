"""Site configs: validation on load, and each config checked against its mirror pages.

The mirror's pages are the real saved pages and the pages built in each site's
layout; these tests apply a config's selectors and patterns to them directly.
The whole crawl through the Scrapy engine is in test_crawl.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urldefrag, urljoin

import pytest
from scrapy.selector import Selector

from crawler.mirror.pages import build_mirror
from crawler.siteconfig import SiteConfigError, load_site, load_sites
from crawler.spiders.djcrawl import DjSpider
from pipelines.decode import decode_bytes
from pipelines.document import Document
from pipelines.documents import document_from_html

CONFIGS = {c.name: c for c in load_sites(every=True)}
PAGES, SITES = build_mirror()

GOOD = Path(__file__).resolve().parent.parent / "seeds" / "sites" / "sx_jcy.toml"


def test_at_least_the_required_sites_are_configured():
    hosts = {d for c in CONFIGS.values() for d in c.allowed_domains}
    for host in ("www.spp.gov.cn", "www.jcrb.com", "news.jcrb.com", "cpc.people.com.cn",
                 "dangjian.people.com.cn", "www.12309.gov.cn", "www.dangjian.cn", "www.zmdnews.cn"):
        assert host in hosts
    assert sum(1 for h in hosts if h.endswith(".jcy.gov.cn")) >= 2
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


@pytest.mark.parametrize("name", sorted(CONFIGS))
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


@pytest.mark.parametrize("name", sorted(CONFIGS))
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
