"""Generated corpora for the benchmarks: N article pages built from our real data.

    .venv/bin/python benchmarks/corpus.py --sizes 1000,10000 [--out benchmarks/out]

Every page is made from the fixture pages (``tests/fixtures/real_sites/**.html``)
and the seed reports (``seeds/documents/*.txt``), deterministically from its
number, so a 10k corpus is the first 10,000 pages of the 100k one:

- 60% are a real fixture page with its plain-text ``<p>`` paragraphs replaced by
  new ones (the layout, navigation, metadata and boilerplate of the real page stay,
  and so does its real encoding: the GBK pages are written back as GBK);
- 40% are a seed report's layout page (the mirror's templates of the configured
  CMSs: TRS, people.com.cn, jcrb, spp, zmdnews) around new paragraphs.

New paragraphs are 2-5 sentences in one script per page (a fifth of the pages
Traditional, like two of the five seeds), about 6,000 characters a page. One page in
twenty is a reprint: the body of an earlier page under another URL and layout, so the
reprint linking has real work. Every other pair of pages is two different reports.

The sentences (``DJCRAWL_BENCH_TEXT``):

- ``words`` (default): new sentences of words drawn one by one, a third from the
  vocabulary of the seed reports and the real pages' gold texts (by their frequency
  there, so 党建, 检察 and 支部 are as common as in real reports) and the rest from
  jieba's dictionary (by its frequencies). Two distinct reports share words and common
  phrases but no sentences, as two real reports do: the only near-duplicates are the
  reprints.
- ``sentences``: sentences drawn from the seed reports (the corpus of the first
  measurements). With ~6,000 characters a page from a few hundred sentences, distinct
  pages resemble each other far more than real reports do (at 38,000 pages half of
  them were linked as reprints); kept to reproduce those figures.

Pages are written to ``<out>/corpus-<N>/pages-<k>.jsonl`` only when asked
(``--write``); the benchmarks generate them on the fly (about 0.2 ms a page).
"""

from __future__ import annotations

import argparse
import base64
import itertools
import os
import hashlib
import html
import json
import random
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Template

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FIXTURES = ROOT / "tests" / "fixtures" / "real_sites"
SEEDS = ROOT / "seeds" / "documents"
TEMPLATES = ROOT / "crawler" / "mirror" / "templates"
OUT = ROOT / "benchmarks" / "out"

#: Fixture pages that are not articles (list pages, a journal's table of contents).
NOT_ARTICLES = ("list_pages/", "theorychina_journal_issue")
TARGET_CHARS = 6000
REPRINT_EVERY = 20
HANT_SHARE = 0.2

_P_PLAIN = re.compile(r"(<p\b[^>]*>)([^<]*[\u4e00-\u9fff][^<]*)(</p>)", re.I)
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?")
_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Page:
    """One generated page as a crawler would have fetched it."""

    number: int
    url: str
    body: bytes
    content_type: str
    kind: str  # 'fixture:<path>' or 'template:<name>'


@dataclass(frozen=True)
class _Fixture:
    path: str
    text: str
    encoding: str


@lru_cache(maxsize=1)
def _fixtures() -> tuple[_Fixture, ...]:
    from pipelines.decode import decode_bytes

    out = []
    for path in sorted(FIXTURES.rglob("*.html")):
        rel = path.relative_to(FIXTURES).as_posix()
        if any(marker in rel for marker in NOT_ARTICLES):
            continue
        text, encoding = decode_bytes(path.read_bytes())
        if len(_P_PLAIN.findall(text)) < 3:
            continue  # no plain paragraphs to replace: every copy would be the same text
        out.append(_Fixture(rel, text, encoding))
    return tuple(out)


@lru_cache(maxsize=1)
def _sentence_pools() -> dict[str, tuple[str, ...]]:
    """Sentences of the seed reports by script (Traditional seeds have many 們/於/黨)."""
    from pipelines.seeds import read_text_file

    pools: dict[str, list[str]] = {"hans": [], "hant": []}
    for path in sorted(SEEDS.glob("*.txt")):
        _, text = read_text_file(path)
        script = "hant" if sum(text.count(ch) for ch in "們於黨與為這") > sum(text.count(ch) for ch in "们于党与为这") else "hans"
        for s in _SENTENCE.findall(text):
            s = s.strip()
            if len(_HAN.findall(s)) >= 8:
                pools[script].append(s)
    return {k: tuple(v) for k, v in pools.items()}


@lru_cache(maxsize=1)
def _templates() -> tuple[tuple[str, Template, str], ...]:
    out = []
    for path in sorted(TEMPLATES.glob("*_article.html")):
        text = path.read_text(encoding="utf-8")
        charset = "gb18030" if "GB2312" in text[:300] else "utf-8"
        out.append((path.stem, Template(text), charset))
    return tuple(out)


TEXT_ENV = "DJCRAWL_BENCH_TEXT"
TEXTS = ("words", "sentences")
#: Share of words drawn from the reports' own vocabulary (the rest: jieba's dictionary).
DOMAIN_SHARE = 1 / 3
#: Each report's own words, and the share of its words drawn from them.
OWN_WORDS = 300
OWN_SHARE = 0.5
#: jieba dictionary words rarer than this are left out (typos, names, archaic forms).
MIN_DICT_FREQ = 20


def text_kind() -> str:
    kind = os.environ.get(TEXT_ENV, "") or TEXTS[0]
    if kind not in TEXTS:
        raise SystemExit(f"{TEXT_ENV}={kind!r}: expected one of {', '.join(TEXTS)}")
    return kind


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[tuple[str, ...], tuple[float, ...], int]:
    """Words, cumulative weights for ``random.choices`` and how many came from the reports."""
    import jieba

    from pipelines.normalize import get_normalizer
    from pipelines.seeds import read_text_file

    norm = get_normalizer()
    domain: dict[str, float] = {}
    texts = [read_text_file(p)[1] for p in sorted(SEEDS.glob("*.txt"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.rglob("*.gold.txt"))]
    for text in texts:
        for tok in norm.tokens(norm.simplify_text(text)[0]):
            if all(_HAN.match(ch) for ch in tok):
                domain[tok] = domain.get(tok, 0) + 1
    general: dict[str, float] = {}
    with open(Path(jieba.__file__).with_name("dict.txt"), encoding="utf-8") as fh:
        for line in fh:
            word, freq, *_ = line.split()
            if int(freq) >= MIN_DICT_FREQ and len(word) <= 4 and all(_HAN.match(ch) for ch in word):
                general[word] = int(freq)
    # One distribution: the reports' words carry DOMAIN_SHARE of the whole weight.
    scale = DOMAIN_SHARE / (1 - DOMAIN_SHARE) * sum(general.values()) / sum(domain.values())
    weights = dict(general)
    for word, count in domain.items():
        weights[word] = weights.get(word, 0) + count * scale
    words = tuple(sorted(weights))  # sorted: the same corpus whatever order the files had
    return words, tuple(itertools.accumulate(weights[w] for w in words)), len(domain)


@lru_cache(maxsize=1)
def _to_traditional():
    from opencc_pyo3 import OpenCC

    return OpenCC("s2t").convert


def _word_paragraphs(rng: random.Random, script: str, chars: int) -> list[str]:
    words, cum, _ = _vocabulary()
    # A report keeps coming back to its own words: half of its words are drawn again from
    # a few hundred of its own, so it has as many distinct words as a real report of its
    # length (~40 % of its tokens; a text of independent draws has ~60 %).
    own = rng.choices(words, cum_weights=cum, k=OWN_WORDS)
    out, total = [], 0
    while total < chars:
        sentences = []
        for _ in range(rng.randint(2, 5)):
            n = rng.randint(8, 26)
            drawn = [rng.choice(own) if rng.random() < OWN_SHARE else w
                     for w in rng.choices(words, cum_weights=cum, k=n)]
            cut = rng.randint(3, 8)  # clauses of 3-8 words
            sentences.append("，".join("".join(drawn[i:i + cut]) for i in range(0, len(drawn), cut)) + "。")
        p = "".join(sentences)
        out.append(p)
        total += len(p)
    if script == "hant":
        convert = _to_traditional()
        out = [convert(p) for p in out]
    return out


def _paragraphs(rng: random.Random, script: str, chars: int) -> list[str]:
    if text_kind() == "words":
        return _word_paragraphs(rng, script, chars)
    pool = _sentence_pools()[script] or _sentence_pools()["hans"]
    out, total = [], 0
    while total < chars:
        p = "".join(rng.choice(pool) for _ in range(rng.randint(2, 5)))
        out.append(p)
        total += len(p)
    return out


def _body_of(number: int) -> tuple[list[str], str, str, str]:
    """(paragraphs, script, title, date) of page ``number``: reprints reuse an earlier page's."""
    source = number - 7 if number % REPRINT_EVERY == REPRINT_EVERY - 1 and number >= 7 else number
    rng = random.Random(f"body-{source}")
    script = "hant" if rng.random() < HANT_SHARE else "hans"
    paragraphs = _paragraphs(rng, script, TARGET_CHARS)
    title = paragraphs[0][: rng.randint(12, 24)].rstrip("，,。")
    date = f"{rng.randint(2012, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return paragraphs, script, title, date


def page(number: int) -> Page:
    """Page ``number`` of every corpus (deterministic)."""
    rng = random.Random(f"layout-{number}")
    paragraphs, _script, title, date = _body_of(number)
    fixtures = _fixtures()
    if rng.random() < 0.6:
        fx = fixtures[number % len(fixtures)]
        it = iter(paragraphs)

        def swap(m: re.Match) -> str:
            nxt = next(it, None)
            return m.group(0) if nxt is None else f"{m.group(1)}　　{html.escape(nxt)}{m.group(3)}"

        text = _P_PLAIN.sub(swap, fx.text)
        rest = list(it)
        if rest:  # the fixture has fewer paragraphs than the text: the rest follow the last one
            tail = "".join(f"<p>　　{html.escape(p)}</p>" for p in rest)
            last = list(_P_PLAIN.finditer(text))[-1]
            text = text[: last.end()] + tail + text[last.end():]
        encoding = "gb18030" if fx.encoding in ("gb18030", "gbk", "gb2312") else "utf-8"
        body = text.encode(encoding, errors="xmlcharrefreplace")
        kind = f"fixture:{fx.path}"
        ctype = "text/html"
    else:
        name, template, charset = _templates()[number % len(_templates())]
        y, m, d = date.split("-")
        text = template.safe_substitute(
            title=html.escape(title), date=date, date_cn=f"{y}年{m}月{d}日", time="08:30:00",
            source="检察日报", author="记者 张明", editor="王静", site_title="检察新闻网", channel_title="党建",
            body="\n".join(f"<p>　　{html.escape(p)}</p>" for p in paragraphs), pager="",
        )
        body = text.encode(charset, errors="xmlcharrefreplace")
        kind = f"template:{name}"
        ctype = "text/html; charset=utf-8" if charset == "utf-8" else "text/html"
    digest = hashlib.sha1(f"{number}".encode()).hexdigest()[:8]
    url = f"http://bench{number % 8}.djcrawl.test/dj/{2010 + number % 16}{number % 12 + 1:02d}/t{number:07d}_{digest}.html"
    return Page(number, url, body, ctype, kind)


def pages(n: int, start: int = 0):
    """Pages ``start`` .. ``n - 1``, generated lazily."""
    for i in range(start, n):
        yield page(i)


def write(n: int, out: Path = OUT, shard: int = 1000) -> Path:
    """Write a corpus as JSONL shards (body base64) for inspection or other tools."""
    directory = out / f"corpus-{n}"
    directory.mkdir(parents=True, exist_ok=True)
    for k in range(0, n, shard):
        with open(directory / f"pages-{k // shard:04d}.jsonl", "w", encoding="utf-8") as fh:
            for p in pages(min(n, k + shard), k):
                fh.write(json.dumps({"number": p.number, "url": p.url, "content_type": p.content_type,
                                     "kind": p.kind, "body": base64.b64encode(p.body).decode()}) + "\n")
    return directory


def describe(n: int) -> dict:
    sizes, kinds = [], {}
    for p in pages(n):
        sizes.append(len(p.body))
        kinds[p.kind.split(":")[0]] = kinds.get(p.kind.split(":")[0], 0) + 1
    return {"pages": n, "mean_bytes": round(sum(sizes) / n), "kinds": kinds,
            "fixtures": len(_fixtures()), "templates": len(_templates()),
            "text": text_kind(), "sentences": {k: len(v) for k, v in _sentence_pools().items()},
            "vocabulary": {"words": len(_vocabulary()[0]), "from_reports": _vocabulary()[2]}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000", help="comma-separated corpus sizes")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--write", action="store_true", help="write the pages as JSONL shards")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        row = describe(n)
        if args.write:
            row["written_to"] = str(write(n, Path(args.out)))
        rows.append(row)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            print(row)


if __name__ == "__main__":
    main()
