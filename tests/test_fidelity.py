"""``text_original`` keeps the page's characters (full-width ，：；, ……, ㈠); ``text`` stays
NFKC and Simplified, and is exactly the normalized form of ``text_original``."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.clean import clean_text
from pipelines.clean.fidelity import original_characters
from pipelines.decode import decode_bytes
from pipelines.documents import document_from_html, document_from_text
from pipelines.normalize import get_normalizer

REAL = Path(__file__).resolve().parent / "fixtures" / "real_sites"


def test_a_real_page_keeps_its_full_width_punctuation():
    html = decode_bytes((REAL / "gov_local" / "bayannur_gov_zhengxie.html").read_bytes())[0]
    doc = document_from_html(html)
    assert doc.text_original.startswith("新征程催人奋进，新使命激荡人心。")
    assert doc.text.startswith("新征程催人奋进,新使命激荡人心。")
    assert "，" not in doc.text and "，" in doc.text_original
    assert unicodedata.normalize("NFKC", doc.text_original) == doc.text


@pytest.mark.parametrize("name", sorted(str(p.relative_to(REAL).with_suffix("")) for p in REAL.rglob("*.html")
                                        if "list_pages" not in p.parts))
def test_text_is_the_normalized_text_original_on_every_real_page(name):
    html = decode_bytes((REAL / f"{name}.html").read_bytes())[0]
    doc = document_from_html(html)
    if hasattr(doc, "reason"):
        pytest.skip(doc.reason)
    assert doc.text == get_normalizer().simplify_text(doc.text_original)[0]


def test_cleaning_keeps_the_characters_of_what_it_keeps():
    src = ("检察官走进社区开展普法宣传\n发布时间：2024年05月10日　来源：检察日报\n"
           "　　今天，检察官们来到社区：讲解法律；回答问题……\n㈠ 讲清楚法律条文，\n让群众听得懂。\n责任编辑：王五")
    cleaned = clean_text(src)
    assert cleaned.original == "今天，检察官们来到社区：讲解法律；回答问题……\n㈠ 讲清楚法律条文，\n让群众听得懂。"
    assert unicodedata.normalize("NFKC", cleaned.original) == cleaned.text
    assert cleaned.meta.editor == "王五" and cleaned.meta.source_name == "检察日报"


def test_a_traditional_page_keeps_its_script_and_its_punctuation():
    doc = document_from_text("黨建工作報告\n　　我們院將支部建到部門，目的就是把黨建工作與檢察工作同落實、同部署。" * 2, doc_id="t")
    assert doc.script == "hant"
    assert "我們院將支部建到部門，目的" in doc.text_original and "我们院将支部建到部门,目的" in doc.text


def test_alignment_never_changes_what_the_text_says():
    # a character the source does not hold (the cleaner never invents one, but the
    # alignment must not fail if it did) is kept as it is
    assert original_characters("甲,乙", "甲，乙") == "甲，乙"
    assert original_characters("甲,丙", "甲，乙") == "甲，丙"
    assert original_characters("a...b", "a…b") == "a…b"
    assert original_characters("a..", "a…b") == "a.."


# The alignment as first written, one character at a time: the specification the faster
# one (a translate of the source, and only the characters NFKC changes looked at) must meet.
def _reference(clean: str, source: str) -> str:
    from pipelines.clean.fidelity import _longest_run

    source = source.replace("\r\n", "\n").replace("\r", "\n")
    if unicodedata.is_normalized("NFKC", source):
        return clean
    chars, origin, group = [], [], []
    for i, ch in enumerate(source):
        n = unicodedata.normalize("NFKC", ch)
        for j, c in enumerate(n):
            chars.append(c)
            origin.append(i)
            group.append(len(n) if j == 0 else 0)
    norm, out, pos = "".join(chars), [], 0
    for n_par, paragraph in enumerate(clean.split("\n")):
        if n_par:
            out.append("\n")
        rest = paragraph
        while rest:
            at, length = _longest_run(norm, rest, pos)
            if length == 0:
                out.append(rest[0])
                rest = rest[1:]
                continue
            k, end = at, at + length
            while k < end:
                if group[k] and k + group[k] <= end:
                    out.append(source[origin[k]])
                    k += group[k]
                else:
                    out.append(norm[k])
                    k += 1
            rest, pos = rest[length:], end
    return "".join(out)


_ALPHABET = "党建检察院工作,.:;，：；。…㈠Ⅻﬁ１２ab 　\n\r"


@settings(max_examples=400, deadline=None)
@given(source=st.text(alphabet=_ALPHABET, max_size=80), cuts=st.lists(st.integers(0, 100), max_size=6),
       invented=st.text(alphabet="丙,.", max_size=3))
def test_the_alignment_gives_what_the_character_by_character_one_gives(source, cuts, invented):
    # a clean text as the cleaner makes one: the NFKC source with pieces dropped, lines
    # stripped, now and then a character the source does not hold
    norm = unicodedata.normalize("NFKC", source.replace("\r\n", "\n").replace("\r", "\n"))
    pieces, last = [], 0
    for cut in sorted(c % (len(norm) + 1) for c in cuts):
        pieces.append(norm[last:cut])
        last = cut + 1
    clean = "\n".join(line.strip() for line in ("".join(pieces) + invented + norm[last:]).split("\n"))
    assert original_characters(clean, source) == _reference(clean, source)


@pytest.mark.parametrize("name", sorted(str(p.relative_to(REAL).with_suffix("")) for p in REAL.rglob("*.html")
                                        if "list_pages" not in p.parts))
def test_the_alignment_of_every_real_page_is_the_character_by_character_one(name):
    from pipelines.clean import cascade

    html = decode_bytes((REAL / f"{name}.html").read_bytes())[0]
    seen = []
    real = cascade.original_characters
    cascade.original_characters = lambda clean, source: seen.append((clean, source)) or real(clean, source)
    try:
        document_from_html(html)
    finally:
        cascade.original_characters = real
    for clean, source in seen:
        assert original_characters(clean, source) == _reference(clean, source)
