"""Authors and editors are people: byline labels (通讯员, 本报记者, 摄影, 责任编辑 ...) are
never stored as names, and several names after one label are split right, on the HTML
path (pipelines.extract.meta) and the text path (pipelines.clean) alike."""

from __future__ import annotations

import pytest

from pipelines.clean import clean_text, split_names
from pipelines.documents import document_from_html, document_from_text
from pipelines.extract import extract_html
from pipelines.metadata import Metadata, credit_names, is_role_word, role_words

PARA = "人民检察院深入推进党建工作与检察业务深度融合，以高质量党建引领检察工作高质量发展。" * 3


def page(body: str, head: str = "") -> str:
    return f"<html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


@pytest.mark.parametrize("credit, names", [
    ("卢拥军 通讯员 邱军伟", ["卢拥军", "邱军伟"]),
    ("本报记者 卢拥军 通讯员 邱军伟", ["卢拥军", "邱军伟"]),
    ("通讯员 井海燕", ["井海燕"]),
    ("通訊員 井海燕", ["井海燕"]),
    ("记者 王乐文、印朋", ["王乐文", "印朋"]),
    ("本报记者王乐文 实习生李文军", ["王乐文", "李文军"]),
    ("文/图 张三", ["张三"]),
    ("摄影：李四 编辑：王五", ["李四", "王五"]),
])
def test_credit_names_take_labels_out_and_split(credit, names):
    assert credit_names(credit) == names
    assert split_names(credit) == names


def test_every_role_word_is_a_label_not_a_name():
    assert {"通讯员", "本报记者", "实习生", "摄影", "编辑", "责任编辑", "記者"} <= role_words()
    assert all(is_role_word(w) for w in role_words())
    assert not is_role_word("李文军") and not is_role_word("文化")


def test_metadata_never_keeps_a_label_as_a_person():
    meta = Metadata()
    meta.offer("authors", ["卢拥军", "通讯员", "邱军伟"], "test")
    assert meta.authors == ["卢拥军", "邱军伟"]
    assert not meta.offer("editor", "责任编辑", "test") and not meta.has("editor")
    meta.add_authors(["记者", "张三"], "test")
    assert meta.authors == ["卢拥军", "邱军伟", "张三"]


@pytest.mark.parametrize("byline", [
    "■本报记者 卢拥军 通讯员 邱军伟",
    "本报记者 卢拥军 通讯员 邱军伟",
    "记者 卢拥军 通讯员 邱军伟",
    "（记者 卢拥军 通讯员 邱军伟）",
])
def test_html_and_text_paths_split_a_two_role_byline_alike(byline):
    body = f"<h1>检察官走进社区开展普法宣传</h1><p>{byline}</p><p>{PARA}</p>"
    doc = document_from_html(page(body), url="https://example.cn/a/t20240510_1.html")
    assert doc.authors == ["卢拥军", "邱军伟"], doc.provenance
    text = document_from_text(f"检察官走进社区开展普法宣传\n{byline}\n{PARA}", doc_id="x")
    assert text.authors == ["卢拥军", "邱军伟"]


def test_baidu_author_element_with_a_label():
    html = page("<h1>抓党建强基础 铸检魂树旗帜</h1><span id='author_baidu'>作者：通讯员 井海燕</span>"
                f"<div class='TRS_Editor'><p>{PARA}</p></div>"
                "<div>责任编辑：<span id='editor_baidu'>李娜</span></div>")
    meta = extract_html(html).meta
    assert meta.authors == ["井海燕"] and meta.editor == "李娜"


def test_site_selector_credit_with_several_labels():
    from pipelines.documents import SiteHints

    html = page(f"<h1>某地检察院召开党组会议</h1><div class='by'>本报记者 张三 实习生 李四 摄影 王五</div><p>{PARA}</p>")
    doc = document_from_html(html, hints=SiteHints(meta_selectors=(("authors", "div.by"),)))
    assert doc.authors == ["张三", "李四", "王五"]


def test_editor_label_alone_is_no_editor():
    cleaned = clean_text(f"某地检察院召开党组会议\n{PARA}\n责任编辑：编辑")
    assert cleaned.meta.editor is None
