"""`djcrawl search` / `djcrawl similar` and their SQL macros, on a real DuckDB file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.cli import main
from pipelines.ingest import add_documents
from pipelines.documents import document_from_text
from pipelines.search import HIT_CLOSE, HIT_OPEN, snippet
from pipelines.seeds import load_seed_dir
from pipelines.store import Store

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds" / "documents"
FIXTURES = Path(__file__).with_name("fixtures") / "dedup"
SEED_002 = "002_dae891ce782ba811"  # the only report about 卫东区
SEED_003 = "003_a1f4537977f397c3"


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("search") / "corpus.duckdb"
    with Store(path) as store:
        load_seed_dir(store, SEEDS)
        add_documents(store, [
            document_from_text((FIXTURES / "reprint_of_003.txt").read_text(encoding="utf-8"),
                               doc_id="u_reprint", origin="crawl", site="zhengyi"),
            document_from_text((FIXTURES / "sports_report.txt").read_text(encoding="utf-8"),
                               doc_id="u_sports", origin="crawl", site="sports"),
        ])
    return path


def run_json(capsys, *argv) -> list[dict]:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_search_ranks_the_document_about_the_query_first(db, capsys):
    hits = run_json(capsys, "search", "卫东区 党建", "--db", str(db), "--format", "json")
    assert hits[0]["doc_id"] == SEED_002
    assert {"doc_id", "title", "score", "snippet"} <= set(hits[0])
    assert f"{HIT_OPEN}卫东区{HIT_CLOSE}" in hits[0]["snippet"]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert len(hits) > 1  # 党建 alone matches the other reports, ranked below

    sports = run_json(capsys, "search", "中超联赛 主教练", "--db", str(db), "--format", "json")
    assert [h["doc_id"] for h in sports] == ["u_sports"]


def test_search_accepts_traditional_script_and_compound_words(db, capsys):
    traditional = run_json(capsys, "search", "衛東區", "--db", str(db), "--format", "json")
    assert traditional[0]["doc_id"] == SEED_002
    compound = run_json(capsys, "search", "足球比赛", "--db", str(db), "--format", "json")
    assert compound and compound[0]["doc_id"] == "u_sports"


def test_search_filters_by_site_date_and_limit(db, capsys):
    by_site = run_json(capsys, "search", "党建", "--db", str(db), "--site", "zhengyi", "--format", "json")
    assert [h["doc_id"] for h in by_site] == ["u_reprint"]
    since = run_json(capsys, "search", "党建", "--db", str(db), "--since", "2019-06-15", "--format", "json")
    # Only the 2020 seed and the reprint (2019-06-20) are dated on or after that day.
    assert {h["doc_id"] for h in since} == {"000_67a7af3907cb6fe4", "u_reprint"}
    limited = run_json(capsys, "search", "党建", "--db", str(db), "--limit", "2", "--format", "json")
    assert len(limited) == 2


def test_search_table_shows_title_date_site_and_snippet(db, capsys):
    assert main(["search", "提升政治站位", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "提升政治站位 强化责任担当" in out
    assert "2019-06-13" in out and "zhengyi" in out
    assert HIT_OPEN in out
    assert out.rstrip().endswith("rows)")


def test_similar_finds_the_reprint_first(db, capsys):
    hits = run_json(capsys, "similar", SEED_003, "--db", str(db), "--format", "json")
    assert hits[0]["doc_id"] == "u_reprint"
    assert {"doc_id", "score"} <= set(hits[0])
    assert SEED_003 not in [h["doc_id"] for h in hits]
    assert hits[0]["score"] > 2 * hits[1]["score"]
    back = run_json(capsys, "similar", "u_reprint", "--db", str(db), "--format", "json", "--limit", "1")
    assert [h["doc_id"] for h in back] == [SEED_003]


def test_sql_macros_rank_like_the_commands(db, capsys):
    rows = run_json(capsys, "query", "--db", str(db), "--format", "json",
                    "SELECT doc_id, score FROM search_bm25('卫东区党建') LIMIT 3")
    assert rows[0]["doc_id"] == SEED_002
    rows = run_json(capsys, "query", "--db", str(db), "--format", "json",
                    f"SELECT doc_id, score, jaccard FROM similar_to('{SEED_003}') LIMIT 2")
    assert rows[0]["doc_id"] == "u_reprint" and rows[0]["jaccard"] > 0.5 > rows[1]["jaccard"]
    rows = run_json(capsys, "query", "--db", str(db), "--format", "json",
                    "SELECT doc_id, duplicate_of FROM documents WHERE duplicate_of IS NOT NULL")
    assert rows == [{"doc_id": "u_reprint", "duplicate_of": SEED_003}]
    rows = run_json(capsys, "query", "--db", str(db), "--format", "json",
                    "SELECT original, copies, members FROM reprint_clusters")
    assert rows == [{"original": SEED_003, "copies": 2, "members": [SEED_003, "u_reprint"]}]


@pytest.mark.parametrize("argv, message", [
    (["similar", "no_such_doc"], "no document 'no_such_doc'"),
    (["search", "党建", "--since", "2019-13-01"], "--since '2019-13-01' is not a date"),
    (["search", "党建", "--limit", "0"], "--limit must be at least 1"),
    (["search", " ,。 "], "has no words to search for"),
])
def test_bad_input_is_one_error_line(db, capsys, argv, message):
    assert main(argv + ["--db", str(db)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], captured.err


def test_missing_database_is_one_error_line(tmp_path, capsys):
    assert main(["search", "党建", "--db", str(tmp_path / "none.duckdb")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_snippet_marks_every_query_word_in_the_best_window():
    text = "开头无关的文字。" * 20 + "检察院党建工作扎实推进" + "结尾无关的文字。" * 20
    out = snippet(text, ["党建", "检察院"], width=30)
    assert f"{HIT_OPEN}检察院{HIT_CLOSE}{HIT_OPEN}党建{HIT_CLOSE}" in out
    assert out.startswith("…") and out.endswith("…")


@pytest.mark.parametrize("word", ["党建", "检察", "三会一课", "卫东区", "主教练"])
def test_a_word_through_the_index_finds_the_documents_whose_tokens_hold_it(db, word):
    # README example query 3 is given both ways: a scan of every token list, and the
    # postings of one word in doc_terms (what a large corpus should use)
    with Store(db, read_only=True) as store:
        scanned = store.query("SELECT doc_id FROM documents WHERE list_contains(tokens, ?) ORDER BY doc_id", [word])[1]
        indexed = store.query("SELECT doc_id FROM documents WHERE doc_id IN "
                              "(SELECT doc_id FROM doc_terms WHERE term = ?) ORDER BY doc_id", [word])[1]
    assert scanned and scanned == indexed


def test_a_schema_2_file_migrates_and_answers_the_same(db, tmp_path, capsys):
    # A file written by schema 2, as DuckDB stored it then (ZSTD allowed, postings keyed
    # by the words, signatures of the old shingle hash): every table filled from the
    # fixture's file. Opening it migrates it: texts out of ZSTD (3), postings keyed by
    # integer term ids (4), signatures and bands computed again (5), and `text` declared
    # uncompressed, `text_original` ZSTD (11).
    import duckdb

    from pipelines.store.schema import MIGRATIONS

    old = tmp_path / "v2.duckdb"
    con = duckdb.connect(str(old))
    # DuckDB picks ZSTD for long texts once a segment holds many; seven documents need telling
    con.execute("SET force_compression = 'zstd'")
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
    for version, ddl in enumerate(MIGRATIONS[:2], start=1):
        con.execute(ddl)
        con.execute("INSERT INTO schema_version VALUES (?, now())", [version])
    con.execute(f"ATTACH '{db}' AS cur (READ_ONLY)")
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'v2' AND table_name <> 'schema_version'").fetchall()]
    for table in tables:  # the version-2 columns, from the table or view of that name now
        columns = ", ".join(r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = 'v2' AND table_name = ? ORDER BY column_index",
            [table]).fetchall())
        con.execute(f"INSERT INTO main.{table} SELECT {columns} FROM cur.{table}")
    con.execute("DETACH cur")
    # signatures of the old shingle hash (stand-ins: the right ones reversed) and their bands
    con.execute("UPDATE documents SET fingerprint = list_reverse(fingerprint)")
    con.execute("UPDATE doc_bands SET bucket = bucket // 2")
    links = con.execute("SELECT doc_id, duplicate_of FROM documents ORDER BY doc_id").fetchall()
    con.execute("CHECKPOINT")
    zstd = "SELECT count(*) FROM pragma_storage_info('documents') WHERE column_name LIKE 'text%' AND compression = 'ZSTD'"
    assert con.execute(zstd).fetchone()[0] > 0  # what the migration is for
    con.close()

    expected = {q: run_json(capsys, "search", q, "--db", str(db), "--format", "json") for q in ("卫东区 党建", "足球比赛")}
    expected["similar"] = run_json(capsys, "similar", SEED_003, "--db", str(db), "--format", "json")
    with Store(old) as store:
        assert store.schema_version == len(MIGRATIONS)
        store.con.execute("CHECKPOINT")
        compression = dict(store.con.execute(
            "SELECT column_name, list(DISTINCT compression) FROM pragma_storage_info('documents') "
            "WHERE column_name LIKE 'text%' AND segment_type <> 'VALIDITY' GROUP BY 1").fetchall())
        assert compression == {"text": ["Uncompressed"], "text_original": ["ZSTD"]}
        assert store.document_count() == 7
        # every signature and its bands computed again from the text; the links stay
        from pipelines.index.fingerprint import lsh_buckets, text_signature

        for doc_id, text, fingerprint in store.con.execute("SELECT doc_id, text, fingerprint FROM documents").fetchall():
            assert fingerprint == text_signature(text), doc_id
            assert sorted(store.con.execute("SELECT band, bucket FROM doc_bands WHERE doc_id = ?", [doc_id]).fetchall()) \
                == sorted(lsh_buckets(fingerprint))
        assert store.con.execute("SELECT doc_id, duplicate_of FROM documents ORDER BY doc_id").fetchall() == links
        # the postings users query through the doc_terms view are the fixture's
        store.con.execute(f"ATTACH '{db}' AS cur (READ_ONLY)")
        try:
            assert store.con.execute(
                "SELECT count(*) FROM ((SELECT term, doc_id, tf FROM doc_terms EXCEPT ALL SELECT term, doc_id, tf FROM cur.doc_terms)"
                " UNION ALL (SELECT term, doc_id, tf FROM cur.doc_terms EXCEPT ALL SELECT term, doc_id, tf FROM doc_terms))"
            ).fetchone()[0] == 0
            assert store.con.execute("SELECT count(*) FROM doc_terms").fetchone()[0] > 1000
        finally:
            store.con.execute("DETACH cur")
    for q in ("卫东区 党建", "足球比赛"):
        assert run_json(capsys, "search", q, "--db", str(old), "--format", "json") == expected[q]
    assert run_json(capsys, "similar", SEED_003, "--db", str(old), "--format", "json") == expected["similar"]
    # the macro users call answers as the command does
    with Store(old, read_only=True) as store:
        _, rows = store.query(f"SELECT doc_id, score, jaccard FROM similar_to('{SEED_003}') LIMIT 3")
    assert [r[0] for r in rows] == [h["doc_id"] for h in expected["similar"][:3]]
    assert [round(r[1], 6) for r in rows] == [round(h["score"], 6) for h in expected["similar"][:3]]
