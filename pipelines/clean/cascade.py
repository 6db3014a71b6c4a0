"""The text cleaner: boilerplate out, metadata lifted, layout repaired.

Works on plain text (seed files) and on text extracted from HTML alike. The
cascade of :func:`clean_text`:

1. normalize: NFKC, one kind of newline, each line stripped (NBSP and ideographic
   spaces too); a line's indentation is remembered (list items of related-link
   blocks are indented);
2. page markers: the page numbers a document-sharing site puts at the start of
   each page chunk (``\\n2、``) are removed and the split sentence joined;
3. line rules (:data:`pipelines.clean.rules.LINE_RULES`, in order): boilerplate lines
   dropped, the page's tail cut, related-link sections dropped, metadata lines
   lifted into fields;
4. trailing author: ``...生态。(李长军)`` at the very end becomes an author;
5. title: the first line when it reads as a title (short, no sentence end), or the
   head of a run-on first line up to a report's opening phrase;
6. repair: paragraphs broken mid-sentence are rejoined;
7. metadata: values found in the HTML win over values lifted from the text. Dates are
   parsed and checked as they are lifted (not before 1990, not after China's today: see
   :data:`DAYS_AHEAD` and :mod:`pipelines.dates`).

Every sentence of the report itself is kept: captions and headings are body.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass, field

from ..dates import china_time, parse_date, relative_date
from ..metadata import Metadata, credit_names
from .fidelity import original_characters
from .rules import BYLINE_KEYS, COLON, LINE_RULES, NAME, ROLE, TAIL_START, TITLE_LEADINS, Rule, compiled

__all__ = ["Cleaned", "clean_text", "split_names"]

#: Characters that end a sentence (or a paragraph that is complete).
SENTENCE_END = "。!?!?…”’\"』」)):;;"
#: Longest line taken as a title.
TITLE_MAX = 60
#: A paragraph at least this long that ends without punctuation was broken mid-sentence.
BROKEN_MIN = 30


@dataclass
class Cleaned:
    #: the clean text, NFKC
    text: str
    #: what the text (and the HTML, which wins) says: title, published, source_name, authors, ...;
    #: provenance "body:<rule>" for values lifted from the text, the HTML's own otherwise.
    meta: Metadata = field(default_factory=Metadata)
    #: the same text in the characters of the input (full-width ，：； kept; NFKC of it is ``text``)
    original: str | None = None


@dataclass
class _Line:
    text: str
    indented: bool = False


# --------------------------------------------------------------------------- helpers

_ROLE_WORDS = compiled(ROLE)
#: Dates lifted from the text may not lie after China's today, like the HTML's (pipelines.dates).
DAYS_AHEAD = 0


def _text_date(value: str) -> dt.date | None:
    """A byline date as a date; ``None`` if unreadable, before 1990 or after China's today."""
    return parse_date(value, days_ahead=DAYS_AHEAD)


def _lift(meta: Metadata, key: str, value, how: str) -> None:
    """A value lifted from the text: the first one found for a field wins (headers precede
    footers); authors add up."""
    if key == "authors":
        meta.add_authors(split_names(value) if isinstance(value, str) else value, how)
        return
    if key == "published":
        value = _text_date(value) if isinstance(value, str) else value
    if isinstance(value, str):
        value = value.strip(" ::|/")
    meta.offer(key, value, how)


def split_names(value: str) -> list[str]:
    """``本报记者 卢拥军 通讯员 邱军伟`` -> ``['卢拥军', '邱军伟']``."""
    return [n for n in credit_names(_ROLE_WORDS.sub(" ", value)) if re.fullmatch(NAME, n)]


def _is_sentence_end(text: str) -> bool:
    return bool(text) and text[-1] in SENTENCE_END


# --------------------------------------------------------------------------- steps

def _normalize(text: str) -> list[_Line]:
    """Step 1."""
    text = unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = []
    for raw in text.split("\n"):
        stripped = raw.strip()
        lines.append(_Line(stripped, indented=bool(stripped) and raw[: len(raw) - len(raw.lstrip())] != ""))
    return lines


_PAGE_MARK = re.compile(r"^(\d{1,3})、")
#: Page chunks of document-sharing sites are long; list items numbered 1、2、3、 are not.
PAGE_CHUNK_MIN = 150


def _join_page_chunks(lines: list[_Line]) -> list[_Line]:
    """Step 2: ``1、...行\\n2、成同频共振...`` -> ``...行成同频共振...``."""
    content = [i for i, line in enumerate(lines) if line.text]
    marked = [i for i in content if _PAGE_MARK.match(lines[i].text)]
    if len(marked) < 3:
        return lines
    numbers = [int(_PAGE_MARK.match(lines[i].text).group(1)) for i in marked]
    consecutive = all(b == a + 1 for a, b in zip(numbers, numbers[1:])) and numbers[0] in (1, 2)
    chunks_long = all(len(lines[i].text) >= PAGE_CHUNK_MIN for i in marked[:-1])
    if not (consecutive and chunks_long and len(marked) >= 0.8 * len(content)):
        return lines
    joined = "".join(_PAGE_MARK.sub("", lines[i].text, count=1) if i in marked else lines[i].text for i in content)
    return [_Line(joined)]


@functools.lru_cache(maxsize=4)
def _compiled_rules(rules: tuple[Rule, ...]) -> tuple[tuple[Rule, re.Pattern, bool], ...]:
    """``(rule, compiled pattern, needs a colon)`` for each rule, built once per rule table.

    A pattern ending in ``COLON`` cannot match a line without a colon; checking that
    first spares the unanchored ``key:`` searches on every line of prose (the
    costliest part of cleaning).
    """
    return tuple((rule, compiled(rule.pattern), rule.pattern.endswith(COLON)) for rule in rules)


def _apply_line_rules(lines: list[_Line], meta: Metadata) -> list[_Line]:
    """Step 3."""
    rules = _compiled_rules(LINE_RULES)
    total = sum(len(line.text) for line in lines) or 1
    out: list[_Line] = []
    seen = 0
    skipping_section = False
    for line in lines:
        position = seen / total
        seen += len(line.text)
        text = line.text
        if not text:
            out.append(line)
            continue
        if skipping_section:
            if line.indented or text[:1] in "•·-*▪●◆" or (len(text) < 40 and not _is_sentence_end(text)):
                continue
            skipping_section = False
        rule_hit = None
        has_colon = ":" in text or "：" in text
        for rule, pattern, needs_colon in rules:
            if needs_colon and not has_colon:
                continue
            m = pattern.search(text)
            if m is None:
                continue
            if rule.action == "byline" and not _lift_byline(text, meta):
                continue
            rule_hit = rule
            if rule.action == "lift":
                for key, value in m.groupdict().items():
                    if value:
                        _lift(meta, key, value, f"body:{rule.name}")
            break
        if rule_hit is None:
            out.append(line)
        elif rule_hit.action == "cut_tail":
            if position >= TAIL_START:
                return out
            skipping_section = True
        elif rule_hit.action == "section":
            skipping_section = True
        # drop / lift / byline: the line goes
    return out


_BYLINE_PAIR = None


def _lift_byline(text: str, meta: Metadata) -> bool:
    """A line of ``key: value`` pairs: lift them all. False when the line is prose."""
    global _BYLINE_PAIR
    if _BYLINE_PAIR is None:
        keys = "|".join(sorted(BYLINE_KEYS, key=len, reverse=True))
        _BYLINE_PAIR = compiled(r"(?P<key>" + keys + r")\s*[::]\s*(?P<value>.*?)(?=\s*(?:" + keys + r")\s*[::]|$)")
    if len(text) > 120:
        return False
    pairs = list(_BYLINE_PAIR.finditer(text))
    covered = sum(m.end() - m.start() for m in pairs)
    if not pairs or covered < 0.7 * len(text.replace(" ", "")):
        return False
    lifted = []
    for m in pairs:
        key = _canonical_key(m.group("key"))
        target = BYLINE_KEYS.get(key)
        value = m.group("value").strip()
        if target == "published":
            value = value if _text_date(value) else ""
        if target and value:
            lifted.append((target, value, key))
    if not lifted and not any(BYLINE_KEYS.get(_canonical_key(m.group("key"))) is None for m in pairs):
        return False
    for target, value, key in lifted:
        _lift(meta, target, value, f"body:byline:{key}")
    return True


def _canonical_key(key: str) -> str:
    for known in BYLINE_KEYS:
        if compiled("^" + known + "$").match(key):
            return known
    return key


_TRAILING_AUTHOR = compiled(
    r"(?:(?<=[。!?”」』])|\s)[((]?(?:(?:记者|通讯员|评论员|作者|编辑|责任编辑|供稿)[::\s]*)?(?P<authors>" + NAME
    + r"(?:[\s、,]+" + NAME + r")*)\s?[))]\s*$"
)


def _trailing_author(lines: list[_Line], meta: Metadata) -> list[_Line]:
    """Step 4: ``...生态。李长军)`` -> author 李长军 (the opening bracket is often lost)."""
    for i in range(len(lines) - 1, -1, -1):
        if not lines[i].text:
            continue
        m = _TRAILING_AUTHOR.search(lines[i].text)
        if m and m.start() > 0 and m.group("authors") not in ("完", "结束"):
            _lift(meta, "authors", m.group("authors"), "body:trailing-author")
            lines[i] = _Line(lines[i].text[: m.start()].rstrip(), lines[i].indented)
        break
    return lines


def _take_title(lines: list[_Line], meta: Metadata, html_title: str | None) -> list[_Line]:
    """Step 5."""
    first = next((i for i, line in enumerate(lines) if line.text), None)
    if first is None:
        return lines
    text = lines[first].text
    if html_title:
        # The HTML title wins; drop the body's repetition of it - a title-length line only:
        # a run-on first paragraph that merely contains the title is report text.
        # (a sentence that holds the title - "近日，<title>，…。" - is the report's first paragraph)
        if len(text) <= TITLE_MAX and _same_title(text, html_title) and (
                not _is_sentence_end(text) or _same_title(html_title, text) and len(text) <= len(html_title) + 2):
            lines[first] = _Line("")
        else:
            # a run-on first line (document-sharing sites) starts with a heading: the same
            # heading the text alone would take as its title, so both give the same body
            leadin = _run_on_leadin(text)
            if leadin > 0 and _HEADING_ONLY.fullmatch(text[:leadin]):
                head = text[:leadin].strip()
                if not _same_title(head, html_title):
                    _lift(meta, "subtitle", head, "body:run-on-first-line")
                lines[first] = _Line(text[leadin:], lines[first].indented)
        last = next((i for i in range(len(lines) - 1, first, -1) if lines[i].text), None)
        if last is not None and _squash_words(lines[last].text) == _squash_words(html_title):
            lines[last] = _Line("")  # the headline printed again under the report (a print view's)
        return _take_subtitle(lines, meta, html=True)
    if len(text) <= TITLE_MAX and not _is_sentence_end(text) and not text.startswith("——"):
        _lift(meta, "title", text, "body:first-line")
        lines[first] = _Line("")
        return _take_subtitle(lines, meta, html=False)
    leadin = _run_on_leadin(text)
    if leadin > 0 and not re.search(r"[,。;:!?]", text[:leadin]):
        _lift(meta, "title", text[:leadin].strip(), "body:run-on-first-line")
        lines[first] = _Line(text[leadin:], lines[first].indented)
    return lines


#: A run-on head the HTML path cuts: words only, no bracket or punctuation
#: ("本报讯(记者 张三)近日" is a paragraph's opening, not a heading).
_HEADING_ONLY = re.compile(r"[\u4e00-\u9fffA-Za-z0-9 “”\"]+(?<!讯)")
_SUBTITLE_LINE = re.compile(r"^[—―]{2,}\s*(?P<subtitle>[^—―].{2,%d})$" % TITLE_MAX)


def _run_on_leadin(text: str) -> int:
    """Where a run-on first line leaves its heading for the report (-1: nowhere)."""
    return min((text.find(p) for p in TITLE_LEADINS if 6 <= text.find(p) <= TITLE_MAX), default=-1)


def _take_subtitle(lines: list[_Line], meta: Metadata, html: bool) -> list[_Line]:
    """Step 5b: the 副题 line (``——卫东区人民法院党建工作剪影``) under the headline.

    Text alone: a headline line followed by its 副题 line among the first lines is the
    headline, even after another first line was taken as the title (seed 001 opens with
    its 副题 repeated, then 摘要, then headline and 副题); an earlier title that is not the
    副题 is the 引题. With an HTML title only a 副题 line opening the body is taken.
    """
    content = [i for i, line in enumerate(lines) if line.text][:4]
    for k, i in enumerate(content):
        m = _SUBTITLE_LINE.match(lines[i].text)
        if not m:
            continue
        subtitle = m.group("subtitle").strip()
        if k == 0:
            meta.offer("subtitle", subtitle, "body:subtitle-line")
            lines[i] = _Line("")
        elif not html and k == 1:
            head = lines[content[0]].text
            if len(head) <= TITLE_MAX and not _is_sentence_end(head):
                earlier = meta.title
                meta.title, meta.provenance["title"] = head, "body:headline"
                if earlier and not _same_title(earlier, subtitle) and not _same_title(earlier, head):
                    subtitle = f"{earlier} {subtitle}"
                meta.offer("subtitle", subtitle, "body:subtitle-line")
                lines[content[0]] = lines[i] = _Line("")
        break
    return lines


def _squash_words(text: str) -> str:
    return re.sub(r"\W", "", text)


def _same_title(a: str, b: str) -> bool:
    def squash(s):
        return re.sub(r"\W", "", s)

    a, b = squash(a), squash(b)
    if not a or not b:
        return False
    if a == b or (len(a) > 6 and (a in b or b in a)):
        return True
    # a Simplified HTML title over a Traditional body (or the reverse): the same title when
    # each character matches as one of its script forms (rules.script_neutral)
    a_in_b, b_in_a = compiled(re.escape(a)).search(b), compiled(re.escape(b)).search(a)
    if len(a) == len(b):
        return bool(a_in_b or b_in_a)
    return len(a) > 6 and bool(a_in_b or b_in_a)


_LIST_START = re.compile(r"^(?:[一二三四五六七八九十]+[、.]|\d+[、.]|[((][一二三四五六七八九十\d]+[))]|[•·▪●◆■□←→])")


def _rejoin(lines: list[_Line]) -> list[str]:
    """Step 6: paragraphs broken mid-sentence are joined; empty lines go."""
    paragraphs: list[str] = []
    for line in lines:
        text = line.text
        if not text:
            continue
        if paragraphs:
            prev = paragraphs[-1]
            broken = not _is_sentence_end(prev) and (
                len(prev) >= BROKEN_MIN or re.search(r"[。!?;]", prev)
            ) and not _LIST_START.match(text) and not _LIST_START.match(prev)
            if broken or text[0] in ",,、。;;:)」』”":
                paragraphs[-1] = prev + text
                continue
        paragraphs.append(text)
    return paragraphs


# --------------------------------------------------------------------------- entry point

#: A byline line whose relative date (3小时前, 昨天) is the report's: labelled, or short.
_RELATIVE_LINE = compiled(r"^(?:发布时间|发布日期|发表时间|时间|日期|更新时间)?[::]?\s*\S{0,12}$|(?:发布|时间|日期|来源|作者|编辑|记者)")


def _relative_published(lines: list[_Line], meta: Metadata, fetched) -> None:
    """Step 3b: a relative byline date, counted back from the fetch time (pipelines.dates)."""
    if fetched is None or meta.has("published"):
        return
    for line in [line for line in lines if line.text][:12]:
        if len(line.text) <= 80 and _RELATIVE_LINE.search(line.text):
            found = relative_date(line.text, fetched)
            if found:
                meta.offer("published", found[0], f"body:relative:{found[1]}@{china_time(fetched):%Y-%m-%dT%H:%M%z}")
                return


def clean_text(text: str, html: Metadata | None = None, *, fetched=None) -> Cleaned:
    """Clean one report; metadata found in the HTML (if any) wins over what the text says.
    ``fetched`` (a datetime: when the page or file was fetched) dates a relative byline."""
    meta = Metadata()
    lines = _normalize(text or "")
    lines = _join_page_chunks(lines)
    _relative_published(lines, meta, fetched)
    lines = _apply_line_rules(lines, meta)
    lines = _trailing_author(lines, meta)
    lines = _take_title(lines, meta, html.title if html is not None else None)
    paragraphs = _rejoin(lines)
    if html is not None:
        meta.update(html)
    clean = "\n".join(paragraphs)
    return Cleaned(text=clean, meta=meta, original=original_characters(clean, text or ""))
