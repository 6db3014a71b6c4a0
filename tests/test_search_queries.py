"""What a query becomes before it is ranked: Traditional converted whatever its length, and
function words left out, so nonsense finds nothing. On a real DuckDB file holding the seed
reports and the documents the demo makes of the mirror's real pages (a potato article of
songhuajiang.net among them, whose text has 建 but not 党建)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.cli import main
from pipelines.documents import NotArticle, document_from_html
from pipelines.ingest import add_documents
from pipelines.normalize import DATA_DIR
from pipelines.search import query_stopwords, query_terms
from pipelines.seeds import load_seed_dir
from pipelines.store import Store

ROOT = Path(__file__).resolve().parents[1]
REAL_PAGES = ROOT / "crawler" / "mirror" / "real_pages"
POTATO = "http://www.songhuajiang.net/potato.html"


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("queries") / "corpus.duckdb"
    docs = []
    for page in sorted(REAL_PAGES.glob("*/*.html")):
        url = POTATO if page.name == "songhuajiang_net.html" else f"http://{page.parent.name}.example/{page.stem}.html"
        doc = document_from_html(page.read_bytes(), url=url)
        if not isinstance(doc, NotArticle):
            docs.append(doc)
    with Store(path) as store:
        load_seed_dir(store, ROOT / "seeds" / "documents")
        add_documents(store, docs)
    return path


def hits(capsys, query: str, db: Path, *extra: str) -> list[dict]:
    assert main(["search", query, "--db", str(db), "--format", "json", "--limit", "50", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def holding(db: Path, term: str) -> set[str]:
    with Store(db, read_only=True) as store:
        return {r[0] for r in store.query("SELECT doc_id FROM doc_terms WHERE term = ?", [term])[1]}


def potato_id(db: Path) -> str:
    with Store(db, read_only=True) as store:
        return store.query("SELECT doc_id FROM documents WHERE url = ?", [POTATO])[1][0][0]


def test_a_two_character_traditional_query_ranks_the_party_building_documents(db, capsys):
    traditional = hits(capsys, "黨建", db)
    simplified = hits(capsys, "党建", db)
    assert traditional == simplified
    assert traditional and {h["doc_id"] for h in traditional} == holding(db, "党建")
    # the potato article holds 建 (建栋, 建设) but not 党建: it is no hit at all
    assert potato_id(db) not in {h["doc_id"] for h in traditional}
    assert "建" in [t for t in holding_terms(db, potato_id(db))]


def holding_terms(db: Path, doc_id: str) -> list[str]:
    with Store(db, read_only=True) as store:
        return [r[0] for r in store.query("SELECT term FROM doc_terms WHERE doc_id = ?", [doc_id])[1]]


@pytest.mark.parametrize("traditional, simplified", [
    ("黨", "党"),
    ("衛東區", "卫东区"),
    ("檢察院黨組書記", "检察院党组书记"),
    ("加強黨的政治建設，推進全面從嚴治黨", "加强党的政治建设,推进全面从严治党"),
])
def test_traditional_queries_of_any_length_rank_as_their_simplified_form(db, capsys, traditional, simplified):
    assert query_terms(traditional) == query_terms(simplified)
    found = hits(capsys, traditional, db)
    assert found and found == hits(capsys, simplified, db)


def test_nonsense_finds_nothing_although_its_function_words_are_indexed(db, capsys):
    query = "咕噜的不了呱"
    # the index holds 的 and 不 from nearly every document: counted, they would rank hits
    assert len(holding(db, "的")) > 10 and holding(db, "不")
    assert hits(capsys, query, db) == []
    assert main(["search", query, "--db", str(db)]) == 0
    assert capsys.readouterr().out.rstrip().endswith("(0 rows)")


def test_function_words_in_a_query_change_nothing(db, capsys):
    assert query_terms("党建的工作") == query_terms("党建 工作") == ["党建", "工作"]
    assert hits(capsys, "党建的工作", db) == hits(capsys, "党建 工作", db)


def test_a_query_of_function_words_only_is_one_error_line(db, capsys):
    assert main(["search", "的了不", "--db", str(db)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "too common to search for" in lines[0] and "的" in lines[0]


def test_the_stop_list_holds_grammar_words_and_no_word_of_the_domain():
    stop = query_stopwords()
    assert {"的", "不", "了", "是", "在", "和"} <= stop
    domain = set()
    for name in ("userdict.txt", "topic_lexicon.txt"):
        for line in (DATA_DIR / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                domain.add(line.split()[0])
    assert domain and not (domain & stop)
    assert not ({"工作", "党建", "检察", "我们"} & stop)
