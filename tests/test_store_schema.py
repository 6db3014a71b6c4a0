"""The store's schema on real DuckDB files: ``macros.sql`` (every macro and view once,
run again when it changes), and files of every older schema migrated by this code."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.seeds import load_seed_dir
from pipelines.store import SCHEMA_VERSION, Store, StoreError
from pipelines.store import macros
from pipelines.store.schema import MIGRATIONS
from store_history import build, copy_tables

ROOT = Path(__file__).resolve().parents[1]
MACROS_SQL = (ROOT / "pipelines" / "store" / "macros.sql").read_text(encoding="utf-8")
SEED_003 = "003_a1f4537977f397c3"

#: what users and the search commands call (README, "Search and similar"), and the two
#: scalar macros BM25 is written in
EXPECTED = {"bm25_idf", "bm25_term", "bm25_stats", "bm25_terms", "query_terms", "search_bm25", "similar_source",
            "similar_scores", "fingerprint_jaccard", "similar_weighted", "similar_to", "doc_terms", "reprint_clusters"}

#: SQL a user may run, each answering from the macros and views
QUERIES = [
    *[f"SELECT * FROM search_bm25('{q}')" for q in ("卫东区党建", "检察院党建", "足球比赛", "三会一课")],
    "SELECT * FROM bm25_terms(['检察院', '党建']) ORDER BY score DESC, doc_id",
    "SELECT query_terms('检察院党建')",
    "SELECT * FROM reprint_clusters ORDER BY original",
    "SELECT count(*), sum(tf) FROM doc_terms",
]


def catalog(con) -> set[str]:
    """The macros and views of a file (not DuckDB's own)."""
    return {r[0] for r in con.execute(
        "SELECT function_name FROM duckdb_functions() WHERE NOT internal AND database_name = current_database() "
        "UNION SELECT view_name FROM duckdb_views() WHERE NOT internal AND database_name = current_database()"
    ).fetchall()}


def answers(con, doc_ids) -> dict[str, list]:
    queries = QUERIES + [f"SELECT * FROM similar_to('{d}')" for d in doc_ids]
    return {q: [tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in con.execute(q).fetchall()]
            for q in queries}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A file of today: the five seed reports, a reprint of 003 and a sports report."""
    seeds = tmp_path_factory.mktemp("seeds")
    for path in [*(ROOT / "seeds" / "documents").glob("*.txt"), *(ROOT / "tests" / "fixtures" / "dedup").glob("*.txt")]:
        shutil.copy(path, seeds / path.name)
    db = tmp_path_factory.mktemp("corpus") / "corpus.duckdb"
    with Store(db) as store:
        load_seed_dir(store, seeds)
        assert store.query("SELECT count(*) FROM reprint_clusters")[1] == [(1,)]
    return db


def test_macros_sql_defines_every_macro_and_view_once_and_no_migration_defines_any():
    creates = re.findall(r"^CREATE\b.*", MACROS_SQL, re.MULTILINE)
    assert creates and all(re.match(r"CREATE OR REPLACE (MACRO|VIEW) \w+", c) for c in creates)
    names = macros.defined_names(MACROS_SQL)
    assert len(names) == len(creates) == len(set(names))
    assert set(names) == EXPECTED
    # the BM25 weight is written once, and used by every score
    assert MACROS_SQL.count("+ 0.5") == 2 and MACROS_SQL.count("ln(1 +") == 1 and MACROS_SQL.count("2.2") == 1
    assert MACROS_SQL.count("bm25_term(") == 3 and MACROS_SQL.count("bm25_idf(") == 3
    for step in MIGRATIONS:
        assert callable(step) or not re.search(r"\b(MACRO|VIEW)\b", step)


def test_a_new_file_holds_exactly_the_macros_of_macros_sql(tmp_path):
    with Store(tmp_path / "new.duckdb") as store:
        assert catalog(store.con) == EXPECTED
        (sha, objects), = store.con.execute("SELECT sha256, objects FROM store_macros").fetchall()
    assert sha == hashlib.sha256(MACROS_SQL.encode("utf-8")).hexdigest()
    assert {o.rpartition(" ")[2] for o in objects} == EXPECTED
    assert "MACRO TABLE similar_to" in objects and "MACRO bm25_term" in objects and "VIEW doc_terms" in objects


def test_macros_sql_runs_once_and_again_when_it_changes(tmp_path, monkeypatch):
    db = tmp_path / "m.duckdb"
    with Store(db) as store:
        first = store.con.execute("SELECT applied_at FROM store_macros").fetchall()
        store.con.execute("DROP MACRO TABLE similar_to")
    with Store(db) as store:  # the same file: not run again
        assert store.con.execute("SELECT applied_at FROM store_macros").fetchall() == first
        assert "similar_to" not in catalog(store.con)

    changed = MACROS_SQL + "\nCREATE OR REPLACE MACRO answer() AS 42;\n"
    monkeypatch.setattr(macros, "macros_sql", lambda: changed)
    with Store(db, read_only=True) as store:  # read-only: what the file holds
        assert "answer" not in catalog(store.con) and "similar_to" not in catalog(store.con)
    with Store(db) as store:  # a writing open runs the changed file
        assert store.query("SELECT answer()")[1] == [(42,)]
        assert catalog(store.con) == EXPECTED | {"answer"}
        assert store.con.execute("SELECT sha256 FROM store_macros").fetchall() == [
            (hashlib.sha256(changed.encode("utf-8")).hexdigest(),)]

    monkeypatch.setattr(macros, "macros_sql", lambda: MACROS_SQL)
    with Store(db) as store:  # a macro taken out of the file leaves the database too
        assert catalog(store.con) == EXPECTED
        assert store.con.execute("SELECT count(*) FROM store_macros").fetchone()[0] == 1


def test_a_broken_macros_sql_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    db = tmp_path / "b.duckdb"
    with Store(db):
        pass
    monkeypatch.setattr(macros, "macros_sql", lambda: MACROS_SQL + "\nCREATE OR REPLACE MACRO broken() AS TABLE SELECT * FROM nowhere;\n")
    with pytest.raises(duckdb.Error):
        Store(db)
    monkeypatch.setattr(macros, "macros_sql", lambda: MACROS_SQL)
    with Store(db, read_only=True) as store:
        assert catalog(store.con) == EXPECTED
        assert store.con.execute("SELECT sha256 FROM store_macros").fetchone()[0] == hashlib.sha256(
            MACROS_SQL.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("version", [2, 3, 4, 5])
def test_an_older_file_migrates_to_the_macros_of_macros_sql_and_answers_as_before(corpus, tmp_path, version):
    # the file exactly as the code of its schema wrote it (its own macros, redefined by
    # later migrations), filled with the rows of the corpus
    old = tmp_path / f"v{version}.duckdb"
    con = build(old, version)
    copy_tables(con, corpus)
    doc_ids = [r[0] for r in con.execute("SELECT doc_id FROM documents ORDER BY doc_id").fetchall()]
    before = answers(con, doc_ids)
    # before 4, doc_terms was a table and "more like this" one macro
    assert catalog(con) == EXPECTED - {"bm25_idf", "bm25_term"} - (
        {"similar_scores", "fingerprint_jaccard", "doc_terms"} if version < 4 else set())
    con.close()
    with pytest.raises(StoreError, match="open it once for writing"):
        Store(old, read_only=True)

    with Store(old) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert catalog(store.con) == EXPECTED
        after = answers(store.con, doc_ids)
    assert after == before
    with Store(corpus, read_only=True) as store:
        assert answers(store.con, doc_ids) == before
    assert before[f"SELECT * FROM similar_to('{SEED_003}')"][0][0] == "reprint_of_003"
