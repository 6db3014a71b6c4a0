"""Titles are text: never markup, never the site's or channel's name; a headline's 引题 / 副题
go to ``subtitle`` (schema 8's column), the main title stays in ``title``."""

from __future__ import annotations

from pathlib import Path

from pipelines.clean import clean_text
from pipelines.decode import decode_bytes
from pipelines.documents import document_from_html, document_from_text
from pipelines.extract import extract_html
from pipelines.extract.title import split_headline
from pipelines.metadata import Metadata

REAL = Path(__file__).resolve().parent / "fixtures" / "real_sites"
PARA = "人民检察院深入推进党建工作与检察业务深度融合，以高质量党建引领检察工作高质量发展。" * 3


def page(body: str, head: str = "") -> str:
    return f"<html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


def test_markup_in_the_headline_field_is_the_subtitle_not_title_text():
    html = decode_bytes((REAL / "gov_local" / "bayannur_gov_zhengxie.html").read_bytes())[0]
    doc = document_from_html(html)
    assert doc.title == "为现代化巴彦淖尔建设凝聚强大智慧和力量"
    assert doc.subtitle == "热烈祝贺市政协五届一次会议开幕"
    assert doc.provenance["subtitle"] == "meta[name=ArticleTitle]:副题"
    assert "<" not in doc.title and "<" not in doc.subtitle


def test_split_headline():
    assert split_headline("主题文字很长<div>——副题也有几个字</div>") == ("主题文字很长", "副题也有几个字")
    assert split_headline("主题文字很长——副题也有几个字") == ("主题文字很长", "副题也有几个字")
    # a name before the dash is part of the headline
    assert split_headline("李简——新外科运动向我们走来") == ("李简——新外科运动向我们走来", None)
    assert split_headline("<b>检察官</b>走进社区") == ("检察官走进社区", None)


def test_site_name_is_never_the_title():
    # the logo's <h1> and og:title say the site; the headline is the element styled as the title
    html = page(f"<h1>松花江网</h1><div class='article_title'>检察官走进社区开展普法宣传</div><p>{PARA}</p>",
                head="<title>松花江网</title><meta property='og:title' content='松花江网'>")
    assert extract_html(html).meta.title == "检察官走进社区开展普法宣传"


def test_subtitle_element_beside_the_headline():
    html = page(f"<h3 class='yinti'>以高质量党建引领检察工作</h3><h1>检察官走进社区开展普法宣传</h1><p>{PARA}</p>")
    meta = extract_html(html).meta
    assert (meta.title, meta.subtitle, meta.provenance["subtitle"]) == (
        "检察官走进社区开展普法宣传", "以高质量党建引领检察工作", "h3.yinti")


def test_subtitle_line_under_the_headline_on_both_paths():
    text = f"检察官走进社区开展普法宣传\n——某某区人民检察院党建工作剪影\n{PARA}"
    from_text = document_from_text(text, doc_id="t")
    html = page(f"<h1>检察官走进社区开展普法宣传</h1><div class='TRS_Editor'><p>检察官走进社区开展普法宣传</p>"
                f"<p>——某某区人民检察院党建工作剪影</p><p>{PARA}</p></div>")
    from_html = document_from_html(html)
    for doc in (from_text, from_html):
        assert (doc.title, doc.subtitle) == ("检察官走进社区开展普法宣传", "某某区人民检察院党建工作剪影")
        assert doc.text == from_text.text and not doc.text.startswith("——")


def test_a_dash_line_deep_in_the_body_is_body():
    cleaned = clean_text(f"检察官走进社区开展普法宣传\n{PARA}\n{PARA}\n{PARA}\n——摘自某某日报评论员文章内容",
                         Metadata(title="检察官走进社区开展普法宣传"))
    assert cleaned.meta.subtitle is None and "——摘自某某日报" in cleaned.text


def test_channel_name_after_a_dash_is_not_the_title():
    html = page(f"<div class='nav'>■ 纪检监察</div><div><b>中华人民共和国监察法</b></div><p>{PARA}</p>",
                head="<title>中华人民共和国监察法-纪检</title>")
    meta = extract_html(html).meta
    assert (meta.title, meta.provenance["title"]) == ("中华人民共和国监察法", "title:channel-removed")
    # a headline with a long part after "|" keeps it
    html = page(f"<div>书记市长这一周</div><p>{PARA}</p>", head="<title>书记市长这一周 | 奋马扬鞭争春色，虎力全开向未来</title>")
    assert extract_html(html).meta.title == "书记市长这一周 | 奋马扬鞭争春色，虎力全开向未来"


def test_a_site_selector_that_reads_the_logo_gives_way():
    from pipelines.documents import SiteHints

    html = page(f"<h1>松花江网</h1><h2>土豆不“土” 土豆无“土”</h2><p>{PARA}</p>", head="<title>土豆不“土” 土豆无“土”_松花江网</title>")
    doc = document_from_html(html, hints=SiteHints(meta_selectors=(("title", "h1"),)))
    assert doc.title == "土豆不“土” 土豆无“土”"


def test_a_site_selector_that_reads_the_navigation_gives_way():
    """A real page whose first <h1> is its menu ("全部导航"), crawled with a config whose
    title selector falls back to ``h1``: the page's own headline wins."""
    from pipelines.documents import SiteHints

    html = decode_bytes((REAL / "gmw_cn" / "news_gmw.html").read_bytes())[0]
    doc = document_from_html(html, hints=SiteHints(meta_selectors=(("title", "h1"),)))
    assert doc.title == "中国“太空养鱼”项目进展顺利 “鱼航员”状态良好"


def test_a_subtitle_class_far_from_the_headline_is_no_subtitle():
    html = page(f"<h1>检察官走进社区开展普法宣传</h1><p>{PARA}</p>"
                "<div class='footer'><h3 class='footer-subtitle'>友情链接</h3><a href='/'>某某网</a></div>")
    assert extract_html(html).meta.subtitle is None


def test_a_dash_heading_under_the_headline_is_its_subtitle():
    html = page(f"<h1>为现代化巴彦淖尔建设凝聚强大智慧和力量</h1><h2>——热烈祝贺市政协五届一次会议开幕</h2>"
                f"<div class='TRS_Editor'><p>{PARA}</p></div>")
    doc = document_from_html(html)
    assert (doc.title, doc.subtitle, doc.provenance["subtitle"]) == (
        "为现代化巴彦淖尔建设凝聚强大智慧和力量", "热烈祝贺市政协五届一次会议开幕", "h2:after-h1")
