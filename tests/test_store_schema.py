"""The store's schema on real DuckDB files: ``macros.sql`` (every macro and view once,
run again when it changes), and files of every older schema migrated by this code."""

from __future__ import annotations

import hashlib
import re
import shutil
import zlib
from pathlib import Path

import duckdb
import pytest

from pipelines.page import Page
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


SPP = "http://www.spp.gov.cn/spp/djgz/202012/"
PEOPLE = "http://cpc.people.com.cn/n1/2024/0101/"
#: pages of a schema-5 file: url -> (kind, what migration 6 fills in: parent_url, part_of, part_no)
PAGES_5 = {
    SPP + "t20201216_487654.shtml": ("article", (None, None, None)),
    SPP + "t20201216_487654_1.shtml": ("article-part", (None, SPP + "t20201216_487654.shtml", 1)),
    SPP + "t20201216_487654_12.shtml": ("article-part", (None, SPP + "t20201216_487654.shtml", 12)),
    PEOPLE + "c64387-31957620-2.html": ("article-part", (None, PEOPLE + "c64387-31957620.html", 2)),
    SPP + "part_without_number.shtml": ("article-part", (None, None, None)),
    SPP + "W020201216_1.pdf": ("attachment", (SPP + "t20201216_487654.shtml", None, None)),
    SPP + "W020201216_2.doc": ("attachment", (None, None, None)),  # unreadable: no document names its article
    SPP + "index_1.shtml": ("list", (None, None, None)),
    SPP + "t20201217_1.shtml": ("article", (None, None, None)),
}


def _snapshot(con, skip_pages_columns=()) -> dict:
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY 1").fetchall()]
    rows = {}
    for table in tables:
        columns = [r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND table_name = ? "
            "ORDER BY column_index", [table]).fetchall()]
        kept = ", ".join(c for c in columns if not (table == "pages" and c in skip_pages_columns))
        rows[table] = (columns, con.execute(
            f"SELECT {kept} FROM {table} ORDER BY {'applied_at' if table == 'schema_version' else 'ALL'}").fetchall())
    indexes = con.execute("SELECT index_name, table_name, sql FROM duckdb_indexes() ORDER BY 1").fetchall()
    return {"rows": rows, "indexes": indexes}


def test_migration_6_adds_the_page_columns_and_fills_them_from_what_the_file_holds(corpus, tmp_path):
    from pipelines.document import doc_id_for_url

    old = tmp_path / "v5.duckdb"
    con = build(old, 5)
    copy_tables(con, corpus)
    article, attachment = SPP + "t20201216_487654.shtml", SPP + "W020201216_1.pdf"
    for doc_id, origin, url, parent in ((doc_id_for_url(article), "crawl", article, None),
                                        (doc_id_for_url(attachment), "attachment", attachment, article)):
        con.execute("""INSERT INTO documents (doc_id, origin, site, url, parent_url, text, text_original, script,
                                              content_hash, loaded_at)
                       VALUES (?, ?, 'spp', ?, ?, '正文', '正文', 'hans', 'h', now())""", [doc_id, origin, url, parent])
    for url, (kind, _) in PAGES_5.items():
        con.execute("""INSERT INTO pages (url, site, status, kind, fetched_at, body, doc_id)
                       VALUES (?, 'spp', 200, ?, now(), ?, ?)""",
                    [url, kind, zlib.compress(url.encode()), doc_id_for_url(url) if url in (article, attachment) else None])
    before = _snapshot(con)
    con.close()

    with Store(old) as store:
        assert store.schema_version == SCHEMA_VERSION
        after = _snapshot(store.con, skip_pages_columns=("parent_url", "part_of", "part_no"))
        filled = {p.url: (p.parent_url, p.part_of, p.part_no) for p in store.iter_pages()}
        assert store.get_page(attachment).parent_url == article
    assert filled == {url: expected for url, (_kind, expected) in PAGES_5.items()}
    # nothing else changed: the three columns at the end of pages, the record of macros.sql,
    # schema 6, schema 7's mirror column of crawl_runs, the empty exports table and the empty
    # fetch_failures table are all that is new
    columns, rows = after["rows"].pop("crawl_runs")
    assert columns == before["rows"]["crawl_runs"][0] + ["mirror"]
    assert rows == [(*r, None) for r in before["rows"].pop("crawl_runs")[1]]
    columns, rows = after["rows"].pop("pages")
    assert columns == before["rows"]["pages"][0] + ["parent_url", "part_of", "part_no"]
    assert rows == before["rows"].pop("pages")[1]
    assert after["rows"].pop("store_macros")[1]
    assert after["rows"].pop("exports")[1] == []
    # schema 8's subtitle column of documents: empty on every row stored before
    columns, rows = after["rows"].pop("documents")
    assert columns == before["rows"]["documents"][0] + ["subtitle"]
    assert rows == [(*r, None) for r in before["rows"].pop("documents")[1]]
    assert after["rows"].pop("fetch_failures")[1] == []  # schema 10's table, empty
    versions = after["rows"]["schema_version"][1]
    assert [v for v, _ in versions] == list(range(1, SCHEMA_VERSION + 1))
    assert versions[:5] == before["rows"]["schema_version"][1]
    after["rows"].pop("schema_version"), before["rows"].pop("schema_version")
    assert after == before


def test_migration_7_marks_no_earlier_run_as_a_mirror_run_and_new_runs_say_which_they_are(tmp_path):
    old = tmp_path / "v6.duckdb"
    con = build(old, 5)
    con.execute(MIGRATIONS[5])
    con.execute("INSERT INTO schema_version VALUES (6, now())")
    con.execute("""INSERT INTO crawl_runs (run_id, started_at, finished_at, status, sites, pages_fetched)
                   VALUES ('r1', now(), now(), 'finished', ['spp'], 3)""")
    con.close()
    with Store(old) as store:
        assert store.schema_version == SCHEMA_VERSION >= 7
        assert store.get_run("r1")["mirror"] is None and store.get_run("r1")["pages_fetched"] == 3
        store.start_run("r2", ["spp"], mirror="http://127.0.0.1:8123")
        store.start_run("r3", ["spp"])
        assert store.get_run("r2")["mirror"] == "http://127.0.0.1:8123"
        assert store.get_run("r3")["mirror"] is None


def test_migration_8_adds_an_empty_subtitle_column_and_documents_keep_their_title(tmp_path):
    from pipelines.documents import document_from_html

    old = tmp_path / "v7.duckdb"
    con = build(old, 5)
    for step in (5, 6):
        con.execute(MIGRATIONS[step])
        con.execute("INSERT INTO schema_version VALUES (?, now())", [step + 1])
    con.execute("""INSERT INTO documents (doc_id, origin, title, text, text_original, script, content_hash, loaded_at)
                   VALUES ('s1', 'seed', '旧标题——副题', '正文', '正文', 'hans', 'h', now())""")
    con.close()
    with Store(old) as store:
        assert store.schema_version == SCHEMA_VERSION >= 8
        row = store.get_document("s1")
        assert (row["title"], row["subtitle"], row["text"]) == ("旧标题——副题", None, "正文")
        html = ("<html><head><meta charset='utf-8'></head><body><h1>为现代化巴彦淖尔建设凝聚强大智慧和力量</h1>"
                "<div class='TRS_Editor'><p>——热烈祝贺市政协五届一次会议开幕</p><p>" + "新征程催人奋进，新使命激荡人心。" * 8
                + "</p></div></body></html>")
        doc = document_from_html(html, url="https://example.cn/a/t20240510_1.html")
        store.upsert_documents([doc])
        row = store.get_document(doc.doc_id)
        assert (row["title"], row["subtitle"]) == ("为现代化巴彦淖尔建设凝聚强大智慧和力量", "热烈祝贺市政协五届一次会议开幕")


def test_migration_10_keeps_failed_article_fetches_until_the_article_is_stored(tmp_path):
    old = tmp_path / "v7.duckdb"
    con = build(old, 5)
    for step in (5, 6):
        con.execute(MIGRATIONS[step])
        con.execute("INSERT INTO schema_version VALUES (?, now())", [step + 1])
    con.close()
    url, other = "https://www.spp.gov.cn/a/t1.shtml", "https://www.spp.gov.cn/a/t2.shtml"
    with Store(old) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.record_fetch_failures([(url, "spp", "http-500"), (other, "spp", "error-TimeoutError")],
                                           "r1", limit=2) == []
        assert store.failed_fetches(limit=2) == [(url, "spp", 1), (other, "spp", 1)]
        # the second failed run reaches the limit: said once, then never asked again
        assert store.record_fetch_failures([(url, "spp", "http-503")], "r2", limit=2) == [(url, "spp")]
        assert store.failed_fetches(limit=2) == [(other, "spp", 1)]
        # an article stored since is forgotten
        store.put_pages([Page(url=other, site="spp", kind="article", status=200, body=b"<html></html>")])
        assert store.failed_fetches(limit=2) == []
        store.record_fetch_failures([], "r3", limit=2)
        (left,), = store.query("SELECT count(*) FROM fetch_failures WHERE url = ?", [other])[1]
        assert left == 0


def test_a_part_url_pattern_of_every_site_config_is_one_migration_6_reads():
    import tomllib

    patterns = {tomllib.loads(p.read_text(encoding="utf-8"))["article"].get("part_url", "{stem}_{n}.{ext}")
                for p in (ROOT / "seeds" / "sites").glob("*.toml")}
    assert patterns <= {"{stem}_{n}.{ext}", "{stem}-{n}.{ext}"}


def test_the_exports_migration_gives_an_older_file_an_empty_record_it_exports_into(corpus, tmp_path):
    from pipelines.store import exports

    old = tmp_path / "v7.duckdb"
    step = MIGRATIONS.index(exports.MIGRATION)  # the version before it
    con = build(old, 5)
    for target in range(6, step + 1):  # the later steps are SQL
        con.execute(MIGRATIONS[target - 1])
        con.execute("INSERT INTO schema_version VALUES (?, now())", [target])
    copy_tables(con, corpus)
    (documents,), = con.execute("SELECT count(*) FROM documents").fetchall()
    con.close()
    with Store(old) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.export_history() == []
        result = store.export_documents(tmp_path / "all.jsonl", "jsonl", new=True)
        assert result.documents == documents > 0 and result.after is None
        assert [h["documents"] for h in store.export_history()] == [documents]


def _compression(con, table: str, column: str) -> set[str]:
    return {r[0] for r in con.execute(
        f"SELECT compression FROM pragma_storage_info('{table}') WHERE column_name = ? AND segment_type <> 'VALIDITY'",
        [column]).fetchall()}


def test_migration_11_makes_documents_and_pages_again_with_their_columns_compression_and_nothing_else_changes(
        corpus, tmp_path):
    old = tmp_path / "v10.duckdb"
    con = build(old, 5)
    con.execute("SET disabled_compression_methods = 'zstd'")  # as every writer of schemas 3-10 did
    for target in range(6, 11):
        con.execute(MIGRATIONS[target - 1])
        con.execute("INSERT INTO schema_version VALUES (?, now())", [target])
    copy_tables(con, corpus)
    con.execute("""INSERT INTO pages (url, site, status, kind, fetched_at, body, doc_id)
                   SELECT url, site, 200, 'article', loaded_at, zlib_body, doc_id
                   FROM (SELECT doc_id, site, coalesce(url, 'https://example.org/' || doc_id) AS url, loaded_at,
                                encode(text)::BLOB AS zlib_body FROM documents)""")
    doc_ids = [r[0] for r in con.execute("SELECT doc_id FROM documents ORDER BY doc_id").fetchall()]
    before, before_answers = _snapshot(con), answers(con, doc_ids)
    con.close()

    with Store(old) as store:
        assert store.schema_version == SCHEMA_VERSION == 11
        after, after_answers = _snapshot(store.con), answers(store.con, doc_ids)
        declared = dict(store.con.execute(
            "SELECT table_name, sql FROM duckdb_tables() WHERE table_name IN ('documents', 'pages')").fetchall())
        store.con.execute("CHECKPOINT")
        assert _compression(store.con, "documents", "text") == {"Uncompressed"}
        assert _compression(store.con, "pages", "body") == {"Uncompressed"}
    assert after_answers == before_answers
    assert '"text" VARCHAR USING COMPRESSION Uncompressed NOT NULL' in declared["documents"]
    assert "body BLOB USING COMPRESSION Uncompressed" in declared["pages"]
    assert "CHECK" in declared["documents"] and "PRIMARY KEY" in declared["pages"]
    versions = after["rows"].pop("schema_version")[1]
    assert [v for v, _ in versions] == list(range(1, 12)) and versions[:10] == before["rows"].pop("schema_version")[1]
    assert after["rows"].pop("store_macros")[1]  # macros.sql made again: the tables are new
    before["rows"].pop("store_macros")
    assert after == before  # every row of every table, the columns in their order, the indexes
    with Store(old) as store:  # the key and the checks hold on the new tables
        with pytest.raises(Exception, match="(?i)duplicate key|constraint"):
            store.con.execute("INSERT INTO documents SELECT * FROM documents LIMIT 1")
        with pytest.raises(Exception, match="(?i)constraint"):
            store.con.execute("UPDATE documents SET script = 'latn' WHERE doc_id = ?", [doc_ids[0]])


def test_long_columns_read_only_by_scans_are_compressed_and_one_text_reads_as_it_was_written(tmp_path):
    """``text`` stays uncompressed (read by doc_id for search snippets), ``text_original``
    is ZSTD, and every value reads back exactly as written."""
    from pipelines.documents import document_from_text

    seeds = sorted((ROOT / "seeds" / "documents").glob("*.txt"))
    texts = [p.read_text(encoding="utf-8") for p in seeds]
    docs = [document_from_text(f"{texts[i % len(texts)]}\n第{i}篇。", doc_id=f"t_{i:04d}", origin="crawl",
                               url=f"https://example.org/{i}.html", site="example") for i in range(240)]
    db = tmp_path / "size.duckdb"
    with Store(db) as store:
        store.upsert_documents(docs)
        store.con.execute("CHECKPOINT")
        assert _compression(store.con, "documents", "text") == {"Uncompressed"}
        assert "ZSTD" in _compression(store.con, "documents", "text_original")
    with Store(db, read_only=True) as store:
        for d in (docs[0], docs[117], docs[-1]):
            row = store.get_document(d.doc_id)
            assert (row["text"], row["text_original"], row["tokens"]) == (d.text, d.text_original, d.tokens)
        (n,), = store.query("SELECT count(*) FROM documents WHERE text_original IS NULL OR text IS NULL")[1]
        assert n == 0


def test_every_writing_open_writes_row_groups_of_row_group_rows(tmp_path):
    """A checkpoint writes a table's last row group again, whole: files are written in row
    groups of ``ROW_GROUP_ROWS``, by every writing open (DuckDB does not keep the size)."""
    from pipelines.store.fileformat import ROW_GROUP_ROWS

    db = tmp_path / "groups.duckdb"

    def groups(store) -> int:
        store.con.execute("CHECKPOINT")
        return store.con.execute("SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('doc_lengths')").fetchone()[0]

    with Store(db) as store:
        store.con.execute(f"INSERT INTO doc_lengths SELECT 'd' || i, i FROM range({2 * ROW_GROUP_ROWS + 1}) r(i)")
        assert groups(store) == 3
    with Store(db) as store:  # appended to the last group until it is full, then a new one
        store.con.execute(f"INSERT INTO doc_lengths SELECT 'e' || i, i FROM range({ROW_GROUP_ROWS}) r(i)")
        assert groups(store) == 4
    with Store(db, read_only=True) as store:
        assert store.query("SELECT count(*) FROM doc_lengths")[1] == [(3 * ROW_GROUP_ROWS + 1,)]
