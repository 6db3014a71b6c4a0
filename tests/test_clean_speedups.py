"""The speed-ups of ``djcrawl clean`` change no output.

- the IDF table read from its cache arrays gives the text file's values, so keywords and
  relevance vectors equal those computed with the parsed table, on the real pages;
- ``djcrawl clean`` over many files in worker processes prints what it prints in one
  process, in the order the files were given.
"""

from __future__ import annotations

import heapq
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from pipelines.documents import NotArticle, document_from_html
from pipelines.normalize import IdfTable, get_normalizer, idf_source, load_idf_table, parse_idf

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "tests" / "fixtures" / "real_sites"
PAGES = sorted(p for p in REAL.rglob("*.html") if "list_pages" not in p.parts)


@pytest.fixture(scope="module")
def parsed():
    table = parse_idf(idf_source())
    values = sorted(table.values())
    return table, values[len(values) // 2]


@pytest.fixture(scope="module")
def documents():
    docs = [document_from_html(p.read_bytes()) for p in PAGES]
    return [d for d in docs if not isinstance(d, NotArticle)]


def test_cached_table_gives_every_value_of_the_text_file(parsed, tmp_path):
    table, default = parsed
    built = load_idf_table(cache=tmp_path)
    assert [p.name for p in tmp_path.iterdir()][0].startswith("idf-")
    opened = load_idf_table(cache=tmp_path)  # now from the saved arrays
    import numpy as np

    assert isinstance(opened._words, np.memmap)  # mapped, not read and parsed
    words = list(table)
    for t in (built, opened):
        assert t.default == default and len(t) == len(table)
        assert t.lookup(words) == [table[w] for w in words]
    absent = ["不在表里的词语组合", "", "x" * 80, "中\0", "党建\0"]
    assert opened.lookup(absent) == [default] * len(absent)
    assert opened.get("中国") == table["中国"] and opened.get("不在表里的词语组合") is None
    assert "中国" in opened and "不在表里的词语组合" not in opened


def test_a_broken_cache_is_built_again_and_an_unwritable_one_is_not_needed(parsed, tmp_path):
    table, default = parsed
    load_idf_table(cache=tmp_path)
    (folder,) = tmp_path.iterdir()
    (folder / "values.npy").write_bytes(b"not an array")
    again = load_idf_table(cache=tmp_path)  # unreadable: built again, the answer unchanged
    assert again.lookup(["中国", "党建"]) == [table["中国"], table.get("党建", default)]
    assert IdfTable.open(folder).lookup(["中国"]) == [table["中国"]]  # and saved again
    (folder / "words.npy").unlink()
    assert load_idf_table(cache=tmp_path).lookup(["中国"]) == [table["中国"]]
    assert IdfTable.open(folder).lookup(["中国"]) == [table["中国"]]
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    table_without_cache = load_idf_table(cache=blocked)
    assert table_without_cache.lookup(["中国"]) == [table["中国"]]


def test_a_small_table_round_trips(tmp_path):
    small = {"乙": 2.5, "甲": 1.0, "丙丙": 3.25, "a": 9.0}
    t = IdfTable.build(small)
    t.save(tmp_path / "t")
    back = IdfTable.open(tmp_path / "t")
    assert back.lookup(["甲", "乙", "丙丙", "a", "丁"]) == [1.0, 2.5, 3.25, 9.0, back.default]
    assert back.default == sorted(small.values())[2]
    t.save(tmp_path / "t")  # a second save of the same table (another process first) is fine


def test_keywords_equal_those_of_the_parsed_table_on_real_pages(parsed, documents):
    table, default = parsed
    norm = get_normalizer()
    stop = norm._stop
    assert len(documents) >= 30
    for doc in documents:
        counts = {t: n for t, n in Counter(doc.tokens).items() if len(t) > 1 and t not in stop and not t.isdigit()}
        total = sum(counts.values())
        reference = [w for _, w in heapq.nlargest(10, ((n / total * table.get(w, default), w)
                                                       for w, n in counts.items()))]
        assert doc.keywords == reference and norm.keywords(doc.tokens) == reference


def test_relevance_vectors_equal_those_of_the_parsed_table(parsed, documents):
    import math

    from pipelines.index import relevance

    table, default = parsed
    stop = relevance._stopwords()
    for doc in documents[:12]:
        counts = Counter(t.lower() for t in doc.tokens if len(t) > 1 and t not in stop and not t.isdigit())
        vec = {t: (1.0 + math.log(n)) * table.get(t, default) for t, n in counts.items()}
        norm = math.sqrt(sum(w * w for w in vec.values()))
        assert relevance.term_vector(doc.tokens) == {t: w / norm for t, w in vec.items()}


def _clean(files: list[str], *options: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "crawler.cli", "clean", *options, *files], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def mixed_files(tmp_path_factory) -> list[str]:
    """Real pages (one given twice), a seed report, a list page, a missing file and an empty one."""
    tmp = tmp_path_factory.mktemp("clean")
    empty = tmp / "empty.html"
    empty.write_bytes(b"")
    seed = sorted((ROOT / "seeds" / "documents").glob("*.txt"))[0]
    pages = [str(p) for p in PAGES[:7]]
    return [*pages[:3], str(seed), str(REAL / "list_pages" / "gne_163_list_1.html"), pages[3], str(tmp / "missing.html"),
            *pages[4:], pages[0], str(empty)]


@pytest.mark.parametrize("fmt", ["jsonl", "text"])
def test_clean_in_workers_prints_what_one_process_prints_in_input_order(mixed_files, fmt):
    alone = _clean(mixed_files, "--format", fmt, "--workers", "0")
    pooled = _clean(mixed_files, "--format", fmt, "--workers", "2")
    assert alone.returncode == pooled.returncode == 1  # the missing and the empty file
    assert pooled.stdout == alone.stdout and pooled.stderr == alone.stderr
    assert pooled.stderr.count("djcrawl: error:") == 2 and "Traceback" not in pooled.stderr
    if fmt == "jsonl":
        printed = [json.loads(line)["file"] for line in pooled.stdout.splitlines()]
        errors = ("missing.html", "empty.html")
        assert printed == [f for f in mixed_files if not f.endswith(errors)]
        assert all(json.loads(line)["keywords"] for line in pooled.stdout.splitlines())


def test_clean_json_in_workers_equals_one_process(mixed_files):
    files = [f for f in mixed_files if f.endswith(".html") and "list_pages" not in f and Path(f).exists()
             and Path(f).stat().st_size][:4]
    alone = _clean(files, "--format", "json", "--workers", "0")
    pooled = _clean(files, "--format", "json")  # the default: one worker per core
    assert alone.returncode == pooled.returncode == 0
    assert pooled.stdout == alone.stdout and len(json.loads(pooled.stdout)) == 4


def test_clean_workers_count():
    from crawler.cli.corpus import clean_workers
    from pipelines.errors import DjcrawlError

    assert clean_workers(None, 100) == (os.cpu_count() or 1)
    assert clean_workers(8, 3) == 3 and clean_workers(2, 1) == 0 and clean_workers(0, 50) == 0
    with pytest.raises(DjcrawlError, match="--workers"):
        clean_workers(-1, 5)
    bad = _clean(["a.html", "b.html"], "--workers", "-1")
    assert bad.returncode != 0 and bad.stderr.strip().splitlines() == ["djcrawl: error: --workers must be 0 (this process) or more"]


def test_the_fast_class_lookup_gives_every_node_the_class_lxml_html_gives_it():
    import lxml.html
    from lxml import etree

    from pipelines.htmltree import html_class_lookup, parse_html

    form = (b"<html><body><FORM action=x><Input name=a><select><option>1</select><textarea>t</textarea>"
            b"<label>l</label></FORM><!-- c --><o:p>x</o:p><svg><rect/></svg></body></html>")
    sources = [p.read_bytes() for p in PAGES] + [form]
    seen = set()
    for data in sources:
        classes = []
        for lookup in (lxml.html.HtmlElementClassLookup(), html_class_lookup()):
            parser = lxml.html.HTMLParser(collect_ids=False, remove_comments=False)
            parser.set_element_class_lookup(lookup)
            tree = lxml.html.fromstring(data, parser=parser)
            classes.append([type(el) for el in tree.iter()])
        assert classes[0] == classes[1]
        seen.update(classes[1])
    assert {lxml.html.FormElement, lxml.html.InputElement, lxml.html.SelectElement, lxml.html.TextareaElement,
            lxml.html.LabelElement, lxml.html.HtmlComment, lxml.html.HtmlElement} <= seen
    # and the trees our chain reads are built with it
    tree = parse_html(form.decode())
    assert type(tree.find(".//form")) is lxml.html.FormElement and isinstance(tree, etree.ElementBase)


ALL_HTML = sorted((ROOT / "tests" / "fixtures").rglob("*.html"))


def _trees():
    from pipelines.decode import decode_bytes
    from pipelines.htmltree import parse_html

    trees = [parse_html(decode_bytes(p.read_bytes(), None)[0]) for p in ALL_HTML]
    return [t for t in trees if t is not None]


def test_known_containers_found_in_one_pass_are_those_of_the_selectors():
    from pipelines.extract.body import KNOWN_BODY_SELECTORS, _known_matches
    from pipelines.htmltree import compile_selector, parse_html

    trees = _trees()
    # classes split only where XPath splits them (a no-break space is no separator), an id on
    # the root itself, a tag that must match, a class given twice
    trees.append(parse_html('<html id="fontzoom"><body><p class="TRS_Editor\u00a0x">a</p>'
                            '<span class="rm_txt_con">b</span><div class="\tshow_text\nshow_text">c</div>'
                            '<div id="detail" class="TRS_Editor">d</div></body></html>'))
    found = 0
    for tree in trees:
        expected = [(n, s) for s in KNOWN_BODY_SELECTORS for n in compile_selector(s)(tree)]
        assert _known_matches(tree) == expected
        found += bool(expected)
    assert found >= 10


def test_xpath_shortcuts_select_what_the_python_walks_selected():
    from pipelines.extract.body import _NOISE_ATTR, _WITH_CLASS_OR_ID
    from pipelines.extract.meta import _BAIDU_IDS, _by_baidu_id

    hits = 0
    for tree in _trees():
        by_id = _by_baidu_id(tree)
        for element_id in _BAIDU_IDS.values():
            walked = list(tree.iterfind(f".//*[@id='{element_id}']"))
            assert [e for e in by_id if e.get("id") == element_id] == walked
            hits += bool(walked)
        def noisy(el):
            return isinstance(el.tag, str) and _NOISE_ATTR.search(f"{el.get('class') or ''} {el.get('id') or ''}")
        assert [e for e in _WITH_CLASS_OR_ID(tree) if noisy(e)] == [e for e in tree.iterdescendants() if noisy(e)]
    assert hits >= 1


def test_extraction_without_attachments_reads_the_same_page():
    from pipelines.decode import decode_bytes
    from pipelines.extract import extract_html

    for p in PAGES:
        html = decode_bytes(p.read_bytes(), None)[0]
        full, lean = extract_html(html), extract_html(html, with_attachments=False)
        assert (lean.text, lean.meta, lean.body_from, lean.attachments) == (full.text, full.meta, full.body_from, [])


def test_remembered_lookups_stay_right_when_the_memo_overflows():
    t = IdfTable.build({"甲": 1.0, "乙": 2.0, "丙": 3.0})
    t.MEMO_LIMIT = 3
    assert t.lookup(["甲", "丁", "甲"]) == [1.0, t.default, 1.0]
    assert t.lookup(["乙", "丙", "甲"]) == [2.0, 3.0, 1.0]  # over the limit: cleared, looked up again
    assert len(t._memo) <= 3 and t.lookup([]) == [] and t.lookup(["丁"]) == [t.default]
