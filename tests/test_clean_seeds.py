"""The cleaner and normalizer on the five seed reports, written from reading them.

For each seed: boilerplate gone, the report's own sentences kept, metadata lifted,
Simplified text; seed 004's page markers gone and its split sentences joined.
"""

import datetime as dt
import re
from pathlib import Path

import pytest

from pipelines.documents import document_from_text

SEEDS = Path(__file__).resolve().parents[1] / "seeds" / "documents"


def load(stem):
    path = SEEDS / f"{stem}.txt"
    return document_from_text(path.read_text(encoding="utf-8"), doc_id=stem, origin="seed", seed_file=path.name)


@pytest.fixture(scope="module")
def docs():
    return {p.stem[:3]: load(p.stem) for p in sorted(SEEDS.glob("*.txt"))}


def test_all_five_seeds_are_documents(docs):
    assert sorted(docs) == ["000", "001", "002", "003", "004"]
    for doc in docs.values():
        assert len(doc.text) > 1500
        assert doc.tokens and doc.keywords


# --------------------------------------------------------------------------- 000: people.cn reprint, Traditional

def test_000_metadata(docs):
    d = docs["000"]
    assert d.script == "hant"
    assert d.title == "用心用情,在党建引领中凝聚磅礡力量"
    assert d.original_title == "用心用情,在党建引领中凝聚磅礡力量"
    assert d.published == dt.date(2020, 12, 16)
    assert d.source_name == "中国共产党新闻网"
    assert d.provenance["published"] == "body:date-source-header"


def test_000_related_links_and_header_gone(docs):
    d = docs["000"]
    for junk in ("相关焦点", "国网天津电力", "鲁山县", "原标题", "2020-12-16 中国共产党新闻网", "安庆市建立园区"):
        assert junk not in d.text


def test_000_body_kept_and_simplified(docs):
    d = docs["000"]
    assert d.text.startswith("党建是什么?")
    assert "思想上松一寸,行动上就会散一尺" in d.text
    assert "政治建设放首位,发挥党建引领作用" in d.text.split("\n")  # a heading stays, on its own line
    assert d.text.endswith("以坚若磐石的理想信念迎接新的挑战。")
    assert "黨" not in d.text and "黨" in d.text_original
    assert "思想上鬆一寸" in d.text_original


# --------------------------------------------------------------------------- 001: zmdnews, Traditional

def test_001_metadata(docs):
    d = docs["001"]
    assert d.script == "hant"
    # the text opens with its 副题, then 摘要, then the headline over its 副题 line
    assert d.title == "抓党建强基础 铸检魂树旗帜" and d.provenance["title"] == "body:headline"
    assert d.subtitle == "市人民检察院推动党建与业务深度融合发展纪实"
    assert "——市人民检察院" not in d.text and not d.text.startswith("抓党建强基础")
    assert d.authors == ["井海燕"]
    assert d.editor == "刘银霞"
    assert d.summary.startswith("我们院将支部建到部门")


def test_001_footer_gone(docs):
    d = docs["001"]
    for junk in ("责任编辑", "查看心情排行", "版权声明", "法律顾问", "律师事务所", "网友评论", "通讯员", "摘要:",
                 "凡本网注明", "侵犯您的知识产权"):
        assert junk not in d.text, junk


def test_001_body_kept(docs):
    d = docs["001"]
    assert "压实一岗双责的担子" in d.text
    assert d.text.rstrip().endswith("实现驻马店高质量跨越发展贡献检察智慧。”吴文立表示。")
    assert "横看成岭侧成峰。" in d.text


# --------------------------------------------------------------------------- 002: newspaper page, Simplified

def test_002_metadata(docs):
    d = docs["002"]
    assert d.script == "hans"
    assert d.title == "“四个引领”让党建工作严起来实起来活起来"
    assert d.subtitle == "卫东区人民法院党建工作剪影" and "——卫东区" not in d.text
    assert d.authors == ["卢拥军", "邱军伟"]


def test_002_photo_credit_and_byline_gone_captions_kept(docs):
    d = docs["002"]
    assert "本版摄影" not in d.text and "■" not in d.text and "本报记者" not in d.text
    assert "卫东区人民法院四支部干警重温入党誓词" in d.text
    assert "卫东区人民法院干警在党建办公室阅览资料" in d.text
    assert "文化引领,文明检风" in d.text.split("\n")


def test_002_paragraphs_broken_mid_sentence_are_joined(docs):
    d = docs["002"]
    assert "使检察干警不断提高专业素养,开阔视野" in d.text
    assert "注重检察干警身心健康。主动关心检察干警的身心健康情况" in d.text
    # headings are not glued to the paragraph after them
    assert "思想引领,筑牢防线\n组织全院党员干部" in d.text


# --------------------------------------------------------------------------- 003: procuratorate site, Simplified

def test_003_metadata(docs):
    d = docs["003"]
    assert d.script == "hans"
    assert d.title == "提升政治站位 强化责任担当"
    assert d.published == dt.date(2019, 6, 13)
    assert d.authors == ["李长军"]
    assert d.provenance["authors"] == "body:trailing-author"


def test_003_site_furniture_gone(docs):
    d = docs["003"]
    for junk in ("联系电话", "0913-8211008", "检察服务中心电话", "当前位置", "首页 >", "发布时间", "扫一扫", "李长军"):
        assert junk not in d.text, junk
    assert d.text.startswith("基层检察院党建工作要严格落实上级部署")
    assert d.text.endswith("营造风清气正网络舆论生态。")
    assert "一、有“维度分解”,细化重点工作内容体系,划出“路径图”" in d.text.split("\n")


# --------------------------------------------------------------------------- 004: document-sharing site

def test_004_page_markers_gone_and_sentences_joined(docs):
    d = docs["004"]
    raw = (SEEDS / "004_f5f25201cc1d733d.txt").read_text(encoding="utf-8")
    assert len(re.findall(r"^\d+、", raw, flags=re.M)) == 16
    assert not re.search(r"(^|\n)\d+、", d.text)
    # each page break fell inside a sentence: the halves are joined again
    for joined in ("行成同频共振", "红色寓意党对检察工作的绝对领导", "只有高标准才有高质量", "主动谋划、积极部署、抓好落实",
                   "聚精会神抓党建、一心一意谋发展", "一是探索机制学", "一号议题", "聘请党史、医疗、消防",
                   "做好新时期党建宣传工作", "法律书籍等专题模块"):
        assert joined in d.text, joined


def test_004_title_and_body(docs):
    d = docs["004"]
    assert d.title == "理念引领 向上向善做优做实新时代X检察党建工作党建红引领检察蓝特色品牌"
    assert d.text.startswith("习近平总书记强调:“机关党的建设是党的建设新的伟大工程的重要组成部分")
    assert "x、加强阵地建设" in d.text  # a list number inside the report is not a page marker


# --------------------------------------------------------------------------- all seeds

@pytest.mark.parametrize("seed", ["000", "001", "002", "003", "004"])
def test_no_boilerplate_left_anywhere(docs, seed):
    text = docs[seed].text
    for junk in ("扫一扫在手机打开当前页", "打印本页", "关闭窗口", "版权所有", "责任编辑", "当前位置"):
        assert junk not in text
    assert "\n\n" not in text and text == text.strip()


@pytest.mark.parametrize("seed", ["000", "001", "002", "003", "004"])
def test_every_long_sentence_of_the_report_survives(docs, seed):
    """Each sentence of the source body (as the normalizer writes it) is in the clean text."""
    from pipelines.normalize import get_normalizer

    norm = get_normalizer()
    doc = docs[seed]
    raw = (SEEDS / f"{doc.doc_id}.txt").read_text(encoding="utf-8")
    simplified, _ = norm.simplify_text(raw)
    cut_at = {"000": "相关焦点", "001": "责任编辑", "002": "本版摄影", "003": "扫一扫", "004": None}[seed]
    if cut_at:
        simplified = simplified[: simplified.index(cut_at)]
    # seed 004: page markers split sentences across lines; read it the way the page was written
    simplified = re.sub(r"\n\d+、", "", re.sub(r"^1、", "", simplified))

    def squash(s):
        return re.sub(r"\s+", "", s)

    body, lifted = squash(doc.text), [squash(v) for v in (doc.title, doc.summary) if v]
    checked = 0
    for line in simplified.split("\n"):
        line = squash(line)
        for value in lifted:  # a title or summary lifted out of the line is not body
            line = line[len(value):] if line.startswith(value) else line
        line = re.sub(r"^摘要:", "", line)
        for sentence in re.split(r"(?<=[。!?])", line):
            if len(sentence) >= 25 and not any(sentence in value for value in lifted):
                assert sentence in body, sentence
                checked += 1
    assert checked >= 10


def test_html_title_inside_a_run_on_first_paragraph_keeps_the_paragraph():
    from pipelines.clean import clean_text
    from pipelines.metadata import Metadata

    raw = (SEEDS / "004_f5f25201cc1d733d.txt").read_text(encoding="utf-8")
    cleaned = clean_text(raw, Metadata(title="党建红引领检察蓝", provenance={"title": "h1"}))
    assert cleaned.meta.title == "党建红引领检察蓝" and cleaned.meta.provenance["title"] == "h1"
    assert "习近平总书记强调" in cleaned.text and len(cleaned.text) > 4000


def test_html_title_repeated_as_first_line_is_dropped():
    from pipelines.clean import clean_text
    from pipelines.metadata import Metadata

    body = "提升政治站位 强化责任担当\n" + "基层检察院党建工作要严格落实上级部署,强化责任担当。" * 5
    cleaned = clean_text(body, Metadata(title="提升政治站位 强化责任担当"))
    assert cleaned.text.startswith("基层检察院党建工作")
