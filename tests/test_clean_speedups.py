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
