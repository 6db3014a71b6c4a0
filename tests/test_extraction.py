"""Extraction cascade, HTML metadata with provenance, attachments.

Real pages come from tests/fixtures/real_sites (byte-exact copies, see SOURCES.md);
small hand-written pages pin down one behaviour each.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import struct
import subprocess
import sys
import unicodedata
from pathlib import Path

import lxml.html
import pytest

from crawler.mirror.files import pdf_bytes

from pipelines.dates import url_date
from pipelines.decode import decode_bytes
from pipelines.documents import NotArticle, SiteHints, document_from_file, document_from_html
from pipelines.errors import DjcrawlError
from pipelines.extract import attachments_of, extract_html
from pipelines.extract.files import AttachmentError, attachment_text
from pipelines.extract.meta import extract_meta, plausible_name
from pipelines.extract.title import clean_title
from pipelines.htmltree import parse_html
from pipelines.links import attachment_kind, attachment_links

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "fixtures" / "real_sites"


def real(name: str) -> str:
    return decode_bytes((REAL / f"{name}.html").read_bytes())[0]


def page(body: str, head: str = "") -> str:
    return f"<html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


PARA = "人民检察院深入推进党建工作与检察业务深度融合，以高质量党建引领检察工作高质量发展。" * 3


# --------------------------------------------------------------------------- body cascade

def test_trs_body_wins_over_trs_footer():
    # bayannur reuses TRS_Editor for its footer (联系电话, 网站标识码); the body is the big one
    e = extract_html(real("gov_local/bayannur_gov_zhengxie"))
    assert e.body_from == "container:.TRS_Editor"
    assert e.text.startswith("新征程催人奋进")
    assert "联系电话" not in e.text and "政府网站标识码" not in e.text


def test_related_picture_list_not_in_body():
    # plain trafilatura appends the 强图打榜 picture list of this youth.cn page to the report
    e = extract_html(real("youth_cn/news_youth_gj_trs"))
    assert "强图打榜" not in e.text and "【详细】" not in e.text
    assert e.text.rstrip().endswith("谈判破裂。")


def test_link_dense_comment_and_related_blocks_dropped_inside_container():
    html = page(
        "<div class='TRS_Editor'>"
        f"<p>{PARA}</p>"
        "<ul><li><a href='/a'>另一篇报道的标题一</a></li><li><a href='/b'>另一篇报道的标题二</a></li></ul>"
        "<div class='comment-box'>网友评论：写得好</div>"
        "<div class='bdshare'>分享到微信</div>"
        f"<p>第二段。{PARA}</p>"
        "<p style='display:none'>隐藏的统计代码说明文字</p>"
        "</div>"
    )
    e = extract_html(html)
    assert e.body_from == "container:.TRS_Editor"
    assert e.text.split("\n") == [PARA, f"第二段。{PARA}"]


def test_site_body_selector_and_prune_xpath():
    html = page(f"<div id='main'><p>{PARA}</p><p class='ad-note'>本文广告位招租热线说明</p></div>"
                f"<div class='TRS_Editor'><p>{'导航栏目' * 30}</p></div>")
    e = extract_html(html, body_selectors=("#main",), prune_xpaths=("//p[@class='ad-note']",))
    assert e.body_from == "container:#main"
    assert e.text == PARA


def test_bad_site_selector_is_a_djcrawl_error():
    with pytest.raises(DjcrawlError, match="bad body selector"):
        extract_html(page(f"<p>{PARA}</p>"), body_selectors=("div[[",))


def test_without_known_container_trafilatura_extracts():
    e = extract_html(real("southcn/news_southcn"))
    assert e.body_from.startswith("trafilatura")
    assert "海葵一号" in e.text


def test_short_container_falls_through_to_trafilatura():
    # a TRS_Editor holding only a caption is not the body
    html = page(f"<div class='TRS_Editor'>图片说明</div><article><p>{PARA}</p><p>{PARA}</p></article>")
    e = extract_html(html)
    assert e.body_from.startswith("trafilatura")
    assert PARA in e.text


def test_stray_closing_html_tag_does_not_end_the_page():
    # gov.cn pages carry a </html> from a header include long before the report
    e = extract_html(real("gov_npc/gne_npc_jueyi"))
    assert e.body_from == "container:#UCAP-CONTENT"
    assert "批准发行15500亿元特别国债购买外汇" in e.text


def test_density_fallback_finds_the_paragraph_block():
    from pipelines.extract.body import _densest_block, _plausible

    html = page("<div class='nav'>" + "".join(f"<a href='/{i}'>栏目{i}</a>" for i in range(30)) + "</div>"
                f"<table><tr><td id='body'><font>{PARA}</font><br><font>第二段。{PARA}</font></td></tr></table>"
                "<div class='links'><p><a href='/x'>一篇很长的相关报道标题文字在这里出现</a></p></div>")
    node, label = _densest_block(parse_html(html))
    assert label == "td#body"
    assert not _plausible("首页\n简\n繁\nEN\n登录\n个人中心\n退出\n邮箱\n无障碍\n" * 5)
    assert _plausible(PARA)


def test_trafilatura_list_and_table_markup_is_not_page_text():
    # trafilatura's text output writes "- " before list items and "| a | b |" around rows
    items = "".join(f"<li>{PARA[:30]}第{i}条</li>" for i in range(3))
    html = page(f"<article><p>{PARA}</p><ul>{items}</ul>"
                f"<table><tr><td>发文机关</td><td>某某市人民检察院</td></tr></table><p>{PARA}</p></article>")
    e = extract_html(html)
    assert e.body_from.startswith("trafilatura")
    assert not any(line.startswith(("- ", "|")) or line.endswith("|") for line in e.text.split("\n"))
    assert "发文机关 某某市人民检察院" in e.text


def test_html_fragment_is_read_as_a_page():
    e = extract_html(f"<p>{PARA}</p><p>第二段。{PARA}</p>")
    assert e.text.split("\n") == [PARA, f"第二段。{PARA}"]


def test_empty_and_junk_pages_give_no_text():
    assert extract_html("").text == ""
    assert extract_html("   \n ").text == ""
    assert isinstance(document_from_html(b"<html><body><a href='/x'>home</a></body></html>"), NotArticle)


# --------------------------------------------------------------------------- metadata

@pytest.mark.parametrize("raw, expected", [
    ("在新时代中部地区崛起中争先出彩（推动高质量发展·权威发布）--经济·科技--人民网",
     "在新时代中部地区崛起中争先出彩（推动高质量发展·权威发布）"),
    ("我国首届养老专业本科生迎来毕业季 “银发浪潮”到来，年轻人可大展拳脚_新闻频道_中国青年网",
     "我国首届养老专业本科生迎来毕业季 “银发浪潮”到来，年轻人可大展拳脚"),
    ("习近平主持召开深入推进长三角一体化发展座谈会-中国科普网", "习近平主持召开深入推进长三角一体化发展座谈会"),
    ("话剧《约定无期限》河北各市巡演结束 _ 新华网", "话剧《约定无期限》河北各市巡演结束"),
    ("书记市长这一周 | 奋马扬鞭争春色，“虎”力全开向未来", "书记市长这一周 | 奋马扬鞭争春色，“虎”力全开向未来"),
    ("17种产品、1个园区入选国家绿色制造名单 - 要闻云南 - 云南日报网", "17种产品、1个园区入选国家绿色制造名单"),
])
def test_title_site_suffix_removed(raw, expected):
    assert clean_title(raw) == expected


def meta_of(html: str, url: str | None = None, today=dt.date(2024, 6, 1)):
    return extract_meta(lxml.html.document_fromstring(html), url, today=today)


@pytest.mark.parametrize("byline, source, published", [
    ("2023年06月12日 来源：最高人民检察院", "最高人民检察院", "2023-06-12"),
    ("发布时间：2020年12月16日\u3000来源：中国共产党新闻网", "中国共产党新闻网", "2020-12-16"),
    ("来源:检察日报 发布时间:2019-12-02 字号:大 中 小", "检察日报", "2019-12-02"),
    # the first date is the issue the source refers to; the labelled one is the page's
    ("来源：检察日报2019年11月30日第3版　发布时间：2019-12-02", "检察日报", "2019-12-02"),
])
def test_a_site_selector_reading_a_whole_byline_keeps_only_the_labelled_part(byline, source, published):
    """One block holds both date and 来源 (spp's div.detail_extend1): each key takes its own part."""
    html = page(f"<div class='detail_tit'>关于开展主题党日活动的通知</div><div class='detail_extend1'>{byline}</div>"
                f"<div id='fontzoom'><p>{PARA}</p></div>")
    meta = extract_meta(lxml.html.document_fromstring(html), None, today=dt.date(2024, 6, 1),
                        meta_selectors={"published": "div.detail_extend1", "source_name": "div.detail_extend1"})
    assert meta.source_name == source and meta.provenance["source_name"] == "site:div.detail_extend1"
    assert meta.published.isoformat() == published and meta.provenance["published"] == "site:div.detail_extend1"


def test_a_site_selector_value_without_a_label_is_kept_whole():
    html = page(f"<span class='src'>最高人民检察院</span><span class='t'>2023-06-12 08:30</span><p>{PARA}</p>")
    meta = extract_meta(lxml.html.document_fromstring(html), None, today=dt.date(2024, 6, 1),
                        meta_selectors={"published": "span.t", "source_name": "span.src"})
    assert meta.source_name == "最高人民检察院" and meta.published == dt.date(2023, 6, 12)


def test_meta_pubdate_source_and_provenance():
    html = page(f"<h1>关于开展主题党日活动的通知</h1><p>{PARA}</p>",
                head="<title>关于开展主题党日活动的通知_某某市人民检察院</title>"
                     "<meta name='PubDate' content='2024-05-10 09:30'>"
                     "<meta name='ContentSource' content='某某市人民检察院'>")
    meta = meta_of(html)
    assert meta.title == "关于开展主题党日活动的通知" and meta.provenance["title"] == "h1"
    assert meta.published == dt.date(2024, 5, 10) and meta.provenance["published"] == "meta[name=PubDate]"
    assert meta.source_name == "某某市人民检察院" and meta.provenance["source_name"] == "meta[name=ContentSource]"


def test_byline_date_source_authors_editor():
    html = page("<h1>检察官走进社区开展普法宣传</h1>"
                "<div class='info'><span>发布时间：</span><span>2024年05月10日06:58</span>"
                " 来源：检察日报 作者：张三、李四</div>"
                f"<p>{PARA}</p><p>责任编辑：王五</p>")
    meta = meta_of(html)
    assert (meta.published, meta.provenance["published"]) == (dt.date(2024, 5, 10), "byline:发布时间")
    assert (meta.source_name, meta.provenance["source_name"]) == ("检察日报", "byline:来源")
    assert (meta.authors, meta.provenance["authors"]) == (["张三", "李四"], "byline:作者")
    assert (meta.editor, meta.provenance["editor"]) == ("王五", "byline:责任编辑")


def test_baidu_news_protocol_elements():
    e = extract_html(real("youth_cn/news_youth_gj_trs"))
    assert (e.meta.editor, e.meta.provenance["editor"]) == ("张毅", "#editor_baidu")
    e = extract_html(real("southcn/news_southcn"))
    assert (e.meta.published, e.meta.provenance["published"]) == (dt.date(2024, 5, 12), "#pubtime_baidu")
    assert (e.meta.source_name, e.meta.provenance["source_name"]) == ("新华网", "#source_baidu")
    # a hidden <div id="BaiduSpider"> block: labels stripped, the linked source name read
    e = extract_html(real("chinanews/gerapy_chinanews_detail"))
    assert (e.meta.source_name, e.meta.provenance["source_name"]) == ("求是网", "#source_baidu")
    assert (e.meta.published, e.meta.provenance["published"]) == (dt.date(2020, 7, 4), "#pubtime_baidu")
    assert (e.meta.authors, e.meta.provenance["authors"]) == (["陈海峰"], "#author_baidu")


def test_date_from_url_and_rejection_of_future_and_ancient_dates():
    body = f"<h1>标题文字在这里</h1><p>{PARA}</p>"
    meta = meta_of(page(body), url="https://news.youth.cn/gn/202405/t20240513_15249693.htm")
    assert (meta.published, meta.provenance["published"]) == (dt.date(2024, 5, 13), "url:t20240513")
    future = page(body, head="<meta name='publishdate' content='2031-01-01'>")
    meta = meta_of(future, url="https://example.cn/2024-05/20/content_1.htm")
    assert (meta.published, meta.provenance["published"]) == (dt.date(2024, 5, 20), "url:20240520")
    ancient = page(body, head="<meta name='publishdate' content='1970-01-01'>")
    meta = meta_of(ancient)
    assert meta.published != dt.date(1970, 1, 1)
    assert url_date("https://example.cn/t20991231_1.html") is None


def test_cms_user_ids_are_not_authors():
    assert not plausible_name("L_104485") and not plausible_name("105464") and not plausible_name("青网新闻张毅")
    assert plausible_name("葛灵丹") and plausible_name("尼赞·阿隆")
    html = page(f"<h1>某地检察院召开党组会议</h1><p>{PARA}</p>", head="<meta name='author' content='L_104485'>")
    meta = meta_of(html)
    assert not meta.has("authors") and meta.authors == []


def test_real_page_metadata_with_provenance():
    e = extract_html(real("gbk_legacy/jiangsu_fanxiao_gb2312"))
    assert e.meta.title == "江苏多地要求中高风险地区师生员工暂不返校"
    assert (e.meta.published, e.meta.provenance["published"]) == (dt.date(2022, 2, 13), "meta[name=publishdate]")
    assert e.meta.source_name == "新华日报"
    assert e.meta.authors == ["葛灵丹"]  # the meta author L_104485 is a CMS id
    # government document: 成文日期 (the document's date), not the portal's upload day in PubDate
    e = extract_html(real("gov_local/jilin_gov_tonggao"))
    assert (e.meta.published, e.meta.provenance["published"]) == (dt.date(2022, 1, 27), "byline:成文日期")
    assert (e.meta.source_name, e.meta.provenance["source_name"]) == ("吉林省人民政府", "byline:发文机关")


def test_document_keeps_html_metadata_and_drops_bylines_from_text():
    doc = document_from_html((REAL / "people_com_cn/finance_people_n1.html").read_bytes(),
                             url="http://finance.people.com.cn/n1/2024/0510/c1004-40232587.html")
    assert doc.title == "在新时代中部地区崛起中争先出彩(推动高质量发展·权威发布)"
    assert doc.published == dt.date(2024, 5, 10)
    assert doc.provenance["published"] == "meta[name=publishdate]"
    assert doc.source_name == "人民日报"
    assert "责编" not in doc.text and "小字号" not in doc.text


def test_cli_clean_json_shows_metadata_and_provenance():
    out = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "clean", str(REAL / "gov_local/nmg_gov_tax_policy.html"),
         "--url", "https://www.nmg.gov.cn/zwyw/jrgz/202202/t20220211_2004628.html", "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    doc = data[0] if isinstance(data, list) else data
    assert doc["published"] == "2022-02-11"
    assert doc["provenance"]["published"] == "meta[name=PubDate]"
    assert doc["source_name"] == "内蒙古日报" and doc["provenance"]["source_name"] == "meta[name=ContentSource]"


# --------------------------------------------------------------------------- attachments

def test_attachment_links_resolved_in_page_order():
    html = page("<p>附件：<a href='./P020240510.pdf'>1.实施方案</a> <a href='/files/名单.docx'>2.名单</a>"
                " <a href='../old/表格.DOC'>3.表格</a> <a href='./P020240510.pdf'>重复</a>"
                " <a href='javascript:void(0)'>打印</a> <a href='/news/1.html'>新闻</a></p>")
    e = extract_html(html, "http://www.jcy.gov.cn/dj/202405/t20240510_1.html")
    assert e.attachments == [
        "http://www.jcy.gov.cn/dj/202405/P020240510.pdf",
        "http://www.jcy.gov.cn/files/名单.docx",
        "http://www.jcy.gov.cn/dj/old/表格.DOC",
    ]


def test_file_links_outside_the_report_are_not_attachments():
    # an e-paper's page PDFs in its navigation, a logo link: not the report's attachments
    html = page("<div class='nav'><a href='/epaper/A01.pdf'><img src='a.gif'></a> <a href='/epaper/A02.pdf'>A02版</a></div>"
                f"<div class='TRS_Editor'><p>{PARA}</p><p><a href='/dj/report.docx'>工作报告全文</a></p></div>"
                "<div class='fujian'><a href='/dj/list.xls'>名单</a> <a href='/dj/名单.pdf'>名单</a></div>")
    e = extract_html(html, "http://www.jcy.gov.cn/dj/t1.html")
    assert e.attachments == ["http://www.jcy.gov.cn/dj/report.docx", "http://www.jcy.gov.cn/dj/名单.pdf"]
    # the jilin notice links its own PDF and DOC ("pdf下载", "word下载") outside the body container
    e = extract_html(real("gov_local/jilin_gov_tonggao"))
    assert e.attachments == ["http://xxgk.jl.gov.cn/PDFfile/202201/8389416.pdf",
                             "http://xxgk.jl.gov.cn/PDFfile/202201/8389416.doc"]


def _docx_bytes(paragraphs: list[str]) -> bytes:
    import docx

    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "单位", "第一检察部"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _doc_bytes(text: str) -> bytes:
    """A Word 97-2003 file: an OLE2 compound file with a WordDocument stream (FIB + UTF-16 text)
    and a 1Table stream holding the piece table, written sector by sector."""
    sector = 512
    text_fc = 0x800
    word = bytearray(4096)
    struct.pack_into("<H", word, 0, 0xA5EC)  # wIdent
    struct.pack_into("<H", word, 0x0A, 0x0200)  # fWhichTblStm: the table is 1Table
    encoded = text.encode("utf-16-le")
    word[text_fc:text_fc + len(encoded)] = encoded
    n_chars = len(text)
    plc = struct.pack("<II", 0, n_chars) + struct.pack("<HIH", 0, text_fc, 0)
    clx = b"\x02" + struct.pack("<I", len(plc)) + plc
    struct.pack_into("<II", word, 0x01A2, 0, len(clx))  # fcClx, lcbClx
    table = bytearray(4096)
    table[:len(clx)] = clx
    word_sectors, table_sectors = len(word) // sector, len(table) // sector
    first_word, first_table = 2, 2 + word_sectors
    fat = [0xFFFFFFFD, 0xFFFFFFFE]  # sector 0: FAT itself, sector 1: directory
    for start, count in ((first_word, word_sectors), (first_table, table_sectors)):
        fat += [start + i + 1 for i in range(count - 1)] + [0xFFFFFFFE]
    fat += [0xFFFFFFFF] * (128 - len(fat))
    header = bytearray(512)
    header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 40, 0, 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE)
    struct.pack_into("<I", header, 72, 0)  # number of DIFAT sectors
    struct.pack_into("<I", header, 76, 0)  # DIFAT[0]: the FAT is sector 0
    for i in range(1, 109):
        struct.pack_into("<I", header, 76 + 4 * i, 0xFFFFFFFF)

    def entry(name, kind, left, right, child, start, size):
        e = bytearray(128)
        raw = (name + "\0").encode("utf-16-le")
        e[:len(raw)] = raw
        struct.pack_into("<HBB III", e, 64, len(raw), kind, 1, left, right, child)
        struct.pack_into("<II", e, 116, start, size)
        return bytes(e)

    none = 0xFFFFFFFF
    directory = (entry("Root Entry", 5, none, none, 1, 0xFFFFFFFE, 0)
                 + entry("WordDocument", 2, 2, none, none, first_word, len(word))
                 + entry("1Table", 2, none, none, none, first_table, len(table))
                 + bytes(128))
    return bytes(header) + struct.pack("<128I", *fat) + directory + bytes(word) + bytes(table)


REPORT = ["某某市人民检察院党组关于2024年度党建工作情况的报告",
          "一、坚持以政治建设为统领，深入学习贯彻习近平新时代中国特色社会主义思想。" * 2,
          "二、持续推进党建与业务深度融合，全年办理各类案件一千余件。" * 2]


def test_docx_attachment_text_and_document():
    body = _docx_bytes(REPORT)
    assert attachment_kind("http://x.cn/a.bin", None, body) == "docx"
    text = attachment_text(body, "docx")
    assert text.split("\n")[:3] == REPORT and "单位 第一检察部" in text
    doc = document_from_file(body, url="http://www.jcy.gov.cn/dj/P1.docx",
                                   parent_url="http://www.jcy.gov.cn/dj/t20240510_1.html")
    assert doc.origin == "attachment"
    assert doc.url == "http://www.jcy.gov.cn/dj/P1.docx"
    assert doc.parent_url == "http://www.jcy.gov.cn/dj/t20240510_1.html"
    assert "深入学习贯彻习近平新时代中国特色社会主义思想" in doc.text
    assert doc.provenance["attachment"] == "docx"


def test_pdf_attachment_text():
    # the mirror's hand-written PDF (a ToUnicode text layer, no embedded glyphs), in Latin and Chinese
    body = pdf_bytes(["Annual Report of the Procuratorate", "Party building work in 2024", "机关党建工作报告"])
    assert attachment_kind(None, "application/pdf", None) == "pdf"
    text = attachment_text(body, attachment_kind("http://x.cn/r.pdf", None, body))
    assert "Annual Report of the Procuratorate" in text and "Party building work in 2024" in text
    assert "机关党建工作报告" in text


def test_doc_attachment_text():
    text = "\r".join(REPORT) + "\r"
    body = _doc_bytes(text)
    assert attachment_kind("http://x.cn/r.doc", None, body) == "doc"
    assert attachment_text(body, "doc").split("\n") == REPORT


def test_broken_attachments_are_one_line_errors():
    for kind, body in (("pdf", b"%PDF-1.4 truncated"), ("docx", b"PK\x03\x04 not a zip"),
                       ("doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 short")):
        with pytest.raises(AttachmentError) as info:
            attachment_text(body, kind)
        assert "\n" not in str(info.value) and kind in str(info.value)
    with pytest.raises(AttachmentError, match="not a PDF/DOC/DOCX"):
        document_from_file(b"<html></html>", url="http://x.cn/a.html", parent_url=None)


def test_attachment_without_text_is_not_a_document():
    result = document_from_file(_docx_bytes(["附件1"]), url="http://x.cn/a.docx", parent_url=None)
    assert isinstance(result, NotArticle) and result.reason == "attachment-no-text"


def test_site_hints_reach_extraction():
    html = page(f"<div class='zoom-area'><p>{PARA}</p></div><div class='TRS_Editor'><p>{'页脚' * 40}</p></div>")
    doc = document_from_html(html, url="http://www.jcy.gov.cn/a.html", hints=SiteHints(body_selectors=(".zoom-area",)))
    assert doc.text.startswith("人民检察院深入推进党建工作")


# --------------------------------------------------------------------------- cleaner rows added for news/government pages

def test_cleaner_rows_for_extracted_news_boilerplate():
    from pipelines.clean import clean_text

    body = [PARA, f"第二段。{PARA}", f"第三段。{PARA}"]
    text = "\n".join([
        "位置:首页 > 新闻动态",
        "添加收藏夹 \\ 设为首页 \\ 关于我们",
        "2024年05月17日08:59  来源:北京青年报",
        "光明日报记者 王建宏 张文攀",
        body[0], body[1],
        "关注公众号:人民网财经",
        body[2],
        "原创版权禁止商业转载 授权>>",
        "转载申请事宜以及报告非法侵权行为,请联系我们:010-56807194",
        "加载更多", "-", "大数据“坑熟客”,技术之罪需规则规避", "-", "热帖", "热词",
    ])
    cleaned = clean_text(text)
    nfkc = [unicodedata.normalize("NFKC", p) for p in body]  # the cleaner's output form
    assert cleaned.text.split("\n") == nfkc
    assert cleaned.meta.source_name == "北京青年报"
    assert cleaned.meta.published == dt.date(2024, 5, 17)
    assert cleaned.meta.authors == ["王建宏", "张文攀"]
    # a dated related-list item and a teaser go, a sentence that merely mentions 详细 stays
    tail = clean_text("\n".join([PARA, "- 2020年07月08日 13:36:14", "致敬改革开放四十年 邀请文化大家讲述 【详细】",
                                 "会议详细部署了下一步工作。"]))
    assert tail.text.split("\n") == [nfkc[0], "会议详细部署了下一步工作。"]
    # a credit in brackets alone on the last line is an author; (待续) is not
    credit = clean_text(f"{PARA}\n（袁源）")
    assert credit.text == nfkc[0] and credit.meta.authors == ["袁源"]
    assert clean_text(f"{PARA}\n（待续）").text.endswith("(待续)")


# --------------------------------------------------------------------------- attachments_of

def _mirror_articles():
    """(url, decoded html, site body selectors) of every article page the mirror serves."""
    from crawler.mirror.pages import build_mirror
    from crawler.siteconfig import load_sites

    configs = {c.name: c for c in load_sites(every=True)}
    pages, sites = build_mirror()
    for name, site in sorted(sites.items()):
        cfg = configs[name]
        for url in site.article_urls:
            body = pages[site.redirects.get(url, url)].body
            yield url, decode_bytes(body, cfg.content_type_for(body, None))[0], cfg.article.body_selectors


def test_attachments_of_is_extract_html_attachments_without_extraction():
    # the crawl process calls attachments_of to fetch the files; the document is made from
    # extract_html's list later, in a worker: the two must name the same files
    cases = [(None, decode_bytes(p.read_bytes())[0], ()) for p in sorted(REAL.rglob("*.html"))]
    for url, html, selectors in _mirror_articles():
        cases += [(url, html, ()), (url, html, selectors)]
    with_files = 0
    for url, html, selectors in cases:
        expected = extract_html(html, url, body_selectors=selectors).attachments
        assert attachments_of(parse_html(html), url, selectors) == expected, (url, selectors)
        with_files += bool(expected)
    assert with_files >= 4  # jilin's PDF/DOC (fixture, and served by the mirror), the mirror's 12309 files
    assert attachments_of(None, "http://x.cn/") == [] == extract_html("").attachments
