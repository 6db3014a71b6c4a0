"""Fuzzing the text chain with hypothesis: generated and mutated pages never break it.

Targets: ``pipelines.clean.clean_text``, ``pipelines.extract.extract_html``,
``pipelines.documents.document_from_html`` and ``pipelines.decode.decode_bytes``.
Inputs are built from real material (seed report lines, the boilerplate and byline
vocabulary the rules look for, the TRS page layout) mixed with arbitrary Unicode
and markup, then mutated (slices cut, duplicated, tags broken, bytes flipped).

For every input:

* **never raises** - any exception fails the example;
* **never hangs** - each call runs in a worker process and must answer within
  ``BOUND`` seconds (a regex with catastrophic backtracking holds the GIL, so only a
  separate process can be given up on); normal pages take milliseconds, the bound
  is for runaway time, not for speed;
* **never returns text that is not in the input**, precisely:

  - ``clean_text``: let the input lines be the NFKC input split at line breaks,
    each stripped. Every output paragraph is a concatenation of pieces, each piece
    a substring of ONE input line, and the lines used by all paragraphs, read in
    output order, strictly increase (the cleaner drops lines, cuts a line's head or
    tail, and joins consecutive kept lines; it never repeats, reorders or invents).
    Every text metadata value (title, source, editor, summary, original title,
    each author) is a substring of one input line.
  - ``extract_html``: whitespace aside, no character occurs in the output more often
    than in the page's text nodes (as parsed by the extractor's own parser), and each
    output line is a subsequence of those text nodes in document order. Blocks can be
    dropped and inline runs joined; nothing is invented or repeated. (trafilatura may
    move a block of a badly broken page, so lines, not the whole text, keep page
    order.) The marks of trafilatura's text format are not counted: ``- `` before a
    list item, ``|`` between table cells, ``\\|`` for a "|" in a cell.
  - ``document_from_html``: a Document's ``text_original`` (NFKC) has no character more
    often than the NFKC text nodes of the decoded page (the cleaner joins lines, so
    order is checked on ``clean_text`` and ``extract_html`` above), and its ``text`` is
    that text converted to Simplified; otherwise a NotArticle with a reason.
  - ``decode_bytes``: valid UTF-8 without a BOM decodes as UTF-8; a result that was
    not produced with replacement characters encodes back to the input bytes.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
#: Seconds one call may take before it counts as a hang (normal: a few milliseconds).
BOUND = 10.0
#: ``DJCRAWL_FUZZ_SCALE=20 pytest tests/test_fuzz.py`` fuzzes 20 times longer than ``make test``.
SCALE = max(1, int(os.environ.get("DJCRAWL_FUZZ_SCALE", "1")))
#: ``make test`` (and so CI) replays the same examples every run: a gate must not fail on one
#: run and pass on the next. A scaled run explores new examples; what it finds becomes an
#: ``@example`` here.
FUZZ = settings(deadline=None, max_examples=120 * SCALE, derandomize=SCALE == 1,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --------------------------------------------------------------------------- the calls, in a worker

def _call_clean(text):
    from pipelines.clean import clean_text

    return clean_text(text)


def _call_extract(html):
    from pipelines.extract import extract_html

    return extract_html(html, "http://www.sx.jcy.gov.cn/jcdt/dwjs/202301/t20230105_1.shtml")


def _call_document(body):
    from pipelines.documents import document_from_html

    return document_from_html(body, url="http://www.sx.jcy.gov.cn/jcdt/dwjs/202301/t20230105_1.shtml")


def _call_decode(args):
    from pipelines.decode import decode_bytes

    return decode_bytes(*args)


def _warm_up():
    from pipelines.clean import clean_text
    from pipelines.normalize import get_normalizer

    clean_text("当前位置：首页\n责任编辑：张三")
    get_normalizer()


class Worker:
    """One process with the chain loaded; a call that does not answer in time is a hang.

    Spawned, not forked, like the crawl's workers: a child forked from a process that has
    converted any text with opencc-pyo3 hangs converting a long one (its Rust thread pool
    does not survive the fork), and the tests before these convert texts in this process.
    A forked worker made every call of an example that reached the conversion time out.
    """

    def __init__(self):
        self.ctx = multiprocessing.get_context("spawn")
        self.pool = None

    def _pool(self):
        if self.pool is None:
            self.pool = self.ctx.Pool(1)
            self.pool.apply(_warm_up)
        return self.pool

    def __call__(self, func, arg):
        result = self._pool().apply_async(func, (arg,))
        try:
            return result.get(BOUND)
        except multiprocessing.TimeoutError:
            self.close()
            raise AssertionError(f"{func.__name__} did not return within {BOUND} s on {arg[:300]!r}") from None

    def close(self):
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    yield w
    w.close()


# --------------------------------------------------------------------------- material

def _seed_lines() -> list[str]:
    lines = []
    for path in sorted((ROOT / "seeds" / "documents").glob("*.txt")):
        lines.extend(line for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return lines


SEED_LINES = _seed_lines()
#: Lines the rules act on: navigation, bylines, tails, list markers, page chunks.
BOILERPLATE = [
    "当前位置：首页 > 检察动态", "您现在的位置: 首页>>党建", "扫一扫在手机打开当前页", "【打印本页】【关闭窗口】",
    "字体：[大 中 小]", "分享到：", "上一篇：关于开展主题教育", "联系电话：0351-1234567", "晋ICP备05001234号",
    "版权所有：山西省人民检察院", "Copyright © 2023", "相关新闻", "【相关阅读】", "网友评论", "已有3人参与",
    "原标题：提升政治站位 强化责任担当", "摘要：基层党建", "责任编辑：刘银霞", "【编辑：张三、李四】",
    "2019-06-13 10:20 来源：正义网", "2019年6月13日", "本报记者 卢拥军 通讯员 邱军伟", "文/图 王五",
    "发布时间：2019-06-13 来源：最高人民检察院 作者：井海燕 浏览次数：1234", "(李长军)", "生态。(李长军)",
    "1、", "2、第二页的内容", "一、加强政治建设", "(一)强化理论武装", "• 链接一", "习近平总书记指出",
    "近日，", "2023-13-45", "1899年1月1日", "来源:", "作者:", "时间：", "　　", "\u00a0\u00a0", "——",
    "責任編輯：劉銀霞", "當前位置：首頁", "發佈時間：2019-06-13", "關注微信公眾號：", "转载请注明出处",
]
PUNCT = "。，、；：？！“”‘’（）《》【】—…·.,;:?!()[]<>/|-_=+*&^%$#@~`'\"\\ \t\u3000\u00a0\u200b\ufeff"
_chars = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x4E80),  # a few Han characters
    st.sampled_from(PUNCT),
    st.sampled_from("0123456789年月日时分秒记者编辑来源发布责任通讯员当前位置首页版权所有相关新闻"),
    st.characters(blacklist_categories=("Cs",)),  # anything else, combining marks and all
)
_junk_line = st.text(_chars, max_size=80)
_line = st.one_of(st.sampled_from(SEED_LINES), st.sampled_from(BOILERPLATE), _junk_line,
                  st.builds(lambda a, b: a + b, st.sampled_from(BOILERPLATE), _junk_line))
_break = st.sampled_from(["\n", "\n\n", "\r\n", "\r", "\n  ", "\n\u3000\u3000", "\u2028", "\x0b"])


@st.composite
def texts(draw) -> str:
    lines = draw(st.lists(_line, max_size=40))
    out = []
    for line in lines:
        out.append(line)
        out.append(draw(_break))
    text = "".join(out)
    # mutations: cut a slice out, repeat a slice
    for _ in range(draw(st.integers(0, 3))):
        if not text:
            break
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 200)))
        text = text[:i] + (text[i:j] * 2 if draw(st.booleans()) else "") + text[j:]
    return text


# --------------------------------------------------------------------------- clean_text

def _input_lines(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text)
    return [line.strip() for line in re.split(r"\r\n|\r|\n", text)]


def _pieces_from_lines(paragraphs: list[str], lines: list[str]) -> str | None:
    """None if every paragraph is pieces of strictly increasing input lines (see module doc);
    else the first paragraph that is not."""
    last = -1  # the line the previous piece came from
    for para in paragraphs:
        n = len(para)
        # best[i]: the smallest last-used line after covering para[:i] (smaller leaves more room)
        best = [None] * (n + 1)
        best[0] = last
        for i in range(n):
            if best[i] is None:
                continue
            for li in range(best[i] + 1, len(lines)):
                line = lines[li]
                if para[i] not in line:
                    continue
                k = i + 1  # the longest para[i:k] inside this line
                while k < n and para[i:k + 1] in line:
                    k += 1
                for j in range(i + 1, k + 1):
                    if best[j] is None or li < best[j]:
                        best[j] = li
        if best[n] is None:
            return para
        last = best[n]
    return None


def check_clean(text: str, cleaned) -> None:
    lines = _input_lines(text)
    paragraphs = cleaned.text.split("\n") if cleaned.text else []
    assert all(p for p in paragraphs), "an empty paragraph in the output"
    bad = _pieces_from_lines(paragraphs, lines)
    assert bad is None, f"output paragraph not made of input lines: {bad!r}"
    for key in ("title", "original_title", "source_name", "editor", "summary"):
        value = getattr(cleaned.meta, key)
        if value is not None:
            assert isinstance(value, str) and any(value in line for line in lines), (key, value)
    for name in cleaned.meta.authors:
        assert any(name in line for line in lines), ("authors", name)
    published = cleaned.meta.published
    if published is not None:
        assert 1990 <= published.year


def test_the_clean_property_rejects_repeated_reordered_and_invented_text():
    from pipelines.clean import Cleaned
    from pipelines.metadata import Metadata

    text = "第一行是一个很长的句子\n第二行内容\n第三行"
    check_clean(text, Cleaned(text="第一行是一个很长的句子第二行内容\n第三行"))  # joined: fine
    for bad in ("第二行内容第一行", "第一行第一行", "额外的文字", "第三行\n第二行内容"):
        with pytest.raises(AssertionError):
            check_clean(text, Cleaned(text=bad))
    with pytest.raises(AssertionError):
        check_clean(text, Cleaned(text="第三行", meta=Metadata(editor="张三")))
    assert _is_subsequence("ac", "abc") and not _is_subsequence("ca", "abc")


@pytest.mark.parametrize("line", [
    "本报记者 " * 12 + "!",  # roles that also read as names: the author-line rule backtracked for minutes
    "记者本报记者通讯员" * 8 + "x",
    "本报记者 张三 " * 40 + "。",
])
def test_byline_lookalike_lines_are_cleaned_in_bounded_time(worker, line):
    text = "标题\n" + line + "\n" + SEED_LINES[8]
    check_clean(text, worker(_call_clean, text))


def test_bylines_are_still_lifted_after_the_backtracking_fix(worker):
    cleaned = worker(_call_clean, "标题\n本报记者 卢拥军 通讯员 邱军伟\n" + SEED_LINES[8])
    assert cleaned.meta.authors == ["卢拥军", "邱军伟"]
    cleaned = worker(_call_clean, "标题\n记者张三通讯员李四\n" + SEED_LINES[8])
    assert cleaned.meta.authors == ["张三", "李四"]


@FUZZ
@given(texts())
def test_clean_text_keeps_only_input_text(worker, text):
    check_clean(text, worker(_call_clean, text))


@pytest.mark.parametrize("text", [
    "",
    "\n\n\n",
    "当前位置：首页\n\n" + "\n".join(SEED_LINES[:30]),
    # a run-on first line: the title is the head before the report's opening phrase
    "关于加强基层检察院党建工作的报告近日，" + SEED_LINES[5],
    "\n".join(f"{i}、" + SEED_LINES[10] for i in range(1, 6)),
])
def test_clean_text_on_known_shapes(worker, text):
    check_clean(text, worker(_call_clean, text))


# --------------------------------------------------------------------------- HTML

_TAGS = ["p", "div", "span", "b", "i", "a", "td", "tr", "table", "li", "ul", "h1", "br", "font", "strong"]


@st.composite
def pages(draw) -> str:
    """A page in the TRS layout (or none) with generated body blocks and broken markup."""
    blocks = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.integers(0, 5))
        text = draw(_line).replace("<", "&lt;")
        tag = draw(st.sampled_from(_TAGS))
        if kind == 0:
            blocks.append(f"<{tag}>{text}</{tag}>")
        elif kind == 1:
            blocks.append(f"<{tag} class=\"{draw(st.sampled_from(['TRS_Editor', 'share', 'related', 'x']))}\">{text}")
        elif kind == 2:
            blocks.append(draw(st.sampled_from(["<script>var a = '<p>不是正文</p>';</script>", "<style>p{}</style>",
                                                "<!-- 注释", "-->", "</div>", "</body>", "</html>", "<![CDATA[x]]>",
                                                "&nbsp;&amp;&#x4e2d;&#20013;&bogus;", "<p style=\"display:none\">隐藏</p>",
                                                "<a href='javascript:void(0)'>链接</a>", "<?xml version='1.0'?>"])))
        elif kind == 3:
            blocks.append(f"<p>{text}<b>{draw(_line)}</p></b>")
        else:
            blocks.append(f"<p>{text}</p>")
    body = "\n".join(blocks)
    layout = draw(st.integers(0, 2))
    if layout == 0:
        html = (f"<html><head><meta charset=\"utf-8\"><title>{draw(_line)}</title>"
                f"<meta name=\"ArticleTitle\" content=\"{draw(_line).replace(chr(34), '')}\"></head>"
                f"<body><div class=\"TRS_Editor\">{body}</div></body></html>")
    elif layout == 1:
        html = f"<html><body>{body}"
    else:
        html = body
    for _ in range(draw(st.integers(0, 3))):
        if not html:
            break
        i = draw(st.integers(0, len(html)))
        j = draw(st.integers(i, min(len(html), i + 100)))
        html = html[:i] + draw(st.sampled_from(["", "<", ">", "</", "<p", "\"", "&", "\x00"])) + html[j:]
    return html


def _text_nodes(html: str) -> str:
    """Every text node and tail of the page, in document order, as the extractor's parser sees it."""
    from pipelines.htmltree import parse_html  # the extractor's own parsing (and its repairs)

    tree = parse_html(html)
    if tree is None:
        return ""
    parts = []

    def walk(el):  # text, then the children (each followed by its tail): document order
        if isinstance(el.text, str):
            parts.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(tree)
    return "".join(parts)


def _without_trafilatura_marks(text: str, html: str) -> str:
    """The output less the marks trafilatura's text format writes: ``- `` before a list item,
    ``|`` between table cells and ``\\|`` for a "|" inside a cell (only when the page has
    list items or table cells; backslashes count as marks then)."""
    if re.search(r"<(?:li|ul|ol)[\s>]", html, re.I):
        text = re.sub(r"(?m)^-(?: |$)", "", text)
    if re.search(r"<t[dh][\s>]", html, re.I):
        # a "|" inside a cell is written "\|"; pipelines.extract drops the pipe, not the backslash
        text = text.replace("\\", "").replace("|", "")
    return text


def _squash(text: str) -> str:
    return "".join(text.split())


def check_from_page(text: str, page_text: str, lines: bool = True) -> None:
    """No character more often than the page has it; each output line (if ``lines``) in page order.

    Both sides in NFC: trafilatura returns canonically equivalent text (U+FB2A comes back as
    U+05E9 U+05C1), which is the same text, not an invented one.
    """
    page = _squash(unicodedata.normalize("NFC", page_text))
    text = unicodedata.normalize("NFC", text)
    extra = Counter(_squash(text)) - Counter(page)
    assert not extra, f"not in the page: {dict(extra)}"
    if lines:
        for line in text.splitlines():
            assert _is_subsequence(_squash(line), page), line[:200]


def _is_subsequence(small: str, big: str) -> bool:
    it = iter(big)
    return all(ch in it for ch in small)


@settings(FUZZ, max_examples=80 * SCALE)
@given(pages())
# trafilatura (favouring recall) moved the <div> after the <p> that follows it
@example(html='<html><body><p>\n<font class="share">用心用情,在黨建引領中凝聚磅礡力量\n'
              '<p>用心用情,在黨建引領中凝聚磅礡力量</p>\n<p>用心用情,在黨建引領中凝聚磅礡力量</p>\n'
              '<div>用心用情,在黨建引領中凝聚磅礡力量</div>\n<p>2020-12-16 中國共產黨新聞網</p>')
def test_extract_html_returns_only_page_text(worker, html):
    extracted = worker(_call_extract, html)
    assert isinstance(extracted.text, str)
    check_from_page(_without_trafilatura_marks(extracted.text, html), _text_nodes(html))


_ENCODINGS = ["utf-8", "gbk", "gb18030", "big5", "utf-16", "latin-1"]


@st.composite
def bodies(draw) -> bytes:
    """Page bytes: a generated page in some encoding, declared rightly or wrongly, then damaged."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=3000))
    html = draw(pages())
    declared = draw(st.sampled_from(_ENCODINGS + ["bogus", ""]))
    if declared:
        html = f"<meta http-equiv=\"Content-Type\" content=\"text/html; charset={declared}\">" + html
    data = html.encode(draw(st.sampled_from(_ENCODINGS)), errors="replace")
    if draw(st.booleans()) and data:
        i = draw(st.integers(0, len(data) - 1))
        data = data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1:]
    if draw(st.booleans()):
        data = draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\x1f\x8b\x08"])) + data
    return data


@settings(FUZZ, max_examples=60 * SCALE)
@given(bodies())
def test_document_from_html_makes_a_document_of_page_text_or_says_why_not(worker, body):
    from pipelines.decode import decode_bytes
    from pipelines.normalize import get_normalizer
    from pipelines.documents import MIN_ARTICLE_CHARS, NotArticle

    result = worker(_call_document, body)
    if isinstance(result, NotArticle):
        assert result.reason and isinstance(result.reason, str)
        return
    assert len(result.text) >= MIN_ARTICLE_CHARS
    html, _ = decode_bytes(body)
    # the cleaner joins lines, so only the characters are held to the page here
    # text_original keeps the page's characters; its NFKC form is held to the NFKC page text
    check_from_page(_without_trafilatura_marks(unicodedata.normalize("NFKC", result.text_original), html),
                    unicodedata.normalize("NFKC", _text_nodes(html)), lines=False)
    assert result.text == get_normalizer().simplify_text(result.text_original)[0]


@settings(FUZZ, max_examples=200 * SCALE)
@given(bodies(), st.sampled_from([None, "text/html", "text/html; charset=gbk", "text/html; charset=utf-8",
                                  "text/html; charset=nonsense", "text/html; charset="]))
def test_decode_bytes_decodes_every_byte_string(worker, body, content_type):
    text, encoding = worker(_call_decode, (body, content_type))
    assert isinstance(text, str) and encoding
    bom = body.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"))
    try:
        utf8 = body.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    if utf8 is not None and not bom:
        assert (text, encoding) == (utf8, "utf-8")
    elif not bom and "\ufffd" not in text:
        codec = "utf-16-le" if encoding == "utf-16" else encoding  # decoded without a BOM: no BOM back
        assert text.encode(codec) == body, encoding


def test_a_utf16_declaration_over_ascii_compatible_bytes_is_not_believed():
    # found by the fuzzer: a copied <meta charset="utf-16"> over GBK bytes decoded as CJK garbage
    from pipelines.decode import decode_bytes

    body = '<meta charset="utf-16"><p>基层党建工作</p>'.encode("gbk")
    assert decode_bytes(body) == ('<meta charset="utf-16"><p>基层党建工作</p>', "gb18030")
    real = "<p>基层党建工作</p>".encode("utf-16-le")  # a server that says so in the header is believed
    assert decode_bytes(real, "text/html; charset=utf-16") == ("<p>基层党建工作</p>", "utf-16")


_P = "基层检察院党建工作要严格落实上级部署，强化守土有责意识。"


@pytest.mark.parametrize("html", [
    "<html><body>" + "<div>" * 5000 + _P * 20 + "</div>" * 5000,  # deeper than the parser goes
    "<html><body><div class='TRS_Editor'>" + "<b>" * 20000 + _P * 20,
    "<html><body><div class='TRS_Editor'><p>" + _P * 15000 + "</p></div>",  # one 400 000-character line
    "<html><body><div class='TRS_Editor'>" + "<span>党</span>" * 30000 + "</div>",
    "<html><body><table>" + ("<tr>" + ("<td>" + _P + "</td>") * 10 + "</tr>") * 300 + "</table>",
    "<" * 100000,
    "<!--" + "-" * 100000,
], ids=["nesting-5000", "unclosed-b-20000", "one-long-line", "30000-spans", "table-3000-cells",
        "100k-lt", "open-comment"])
def test_pathological_pages_give_a_document_or_a_reason_in_bounded_time(worker, html):
    from pipelines.documents import NotArticle

    result = worker(_call_document, html.encode("utf-8"))
    if isinstance(result, NotArticle):
        assert result.reason
    else:
        check_from_page(unicodedata.normalize("NFKC", result.text_original),
                        unicodedata.normalize("NFKC", _text_nodes(html)), lines=False)
