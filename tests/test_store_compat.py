"""Database files DuckDB 1.5 clients open: made in storage version 1.5, and a file written in
DuckDB 2.0's format rewritten into it by the first writing open, with nothing lost.

The client is the real one: ``duckdb-cli==1.5.6`` from PyPI (the ``test`` extra), the
newest DuckDB CLI there, which reads storage versions 64-68 only. It opens a file made by
a real crawl through the offline mirror (``djcrawl demo``) and answers the README's
example queries and the search macros as DuckDB 2.0 answers them."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.store import Store
from pipelines.store.compat import inventory
from pipelines.store.connection import STORAGE_VERSION, storage_version

ROOT = Path(__file__).resolve().parent.parent
DUCKDB_CLI = shutil.which("duckdb", path=str(Path(sys.executable).parent)) or shutil.which("duckdb")
needs_cli = pytest.mark.skipif(DUCKDB_CLI is None, reason="duckdb-cli (the test extra) is not installed")


def readme_queries() -> list[str]:
    """The SQL of every ``djcrawl query "..."`` line of the README's "Example queries"."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Example queries", 1)[1].split("\n## ", 1)[0]
    return re.findall(r'^djcrawl query "([^"]+)"', section, re.MULTILINE)


def cli(db: Path, sql: str) -> subprocess.CompletedProcess:
    return subprocess.run([DUCKDB_CLI, "-readonly", "-csv", "-nullvalue", "", str(db), "-c", sql],
                          capture_output=True, text=True, timeout=120)


def cli_rows(db: Path, sql: str) -> list[list[str]]:
    result = cli(db, sql)
    assert result.returncode == 0, result.stderr
    return list(csv.reader(io.StringIO(result.stdout)))[1:]


def duck_rows(db: Path, sql: str) -> list[list[str]]:
    """The same query in DuckDB 2.0, cast to text by DuckDB itself, as the CLI prints it."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(f"SELECT COLUMNS(*)::VARCHAR FROM ({sql})").fetchall()
        return [["" if v is None else v for v in row] for row in rows]
    finally:
        con.close()


def header_version(path: Path) -> int:
    """The storage version number in the file's header (DuckDB 1.5 reads 64-68)."""
    return int.from_bytes(path.read_bytes()[12:20], "little")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory, mirror):
    """A database made by a real crawl of every site through the mirror, plus the seeds."""
    db = tmp_path_factory.mktemp("compat") / "demo.duckdb"
    env = {**os.environ, "DJ_MIRROR_URL": mirror.url}
    result = subprocess.run([sys.executable, "-m", "crawler.cli", "demo", "--db", str(db)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return db


def v2_copy(src: Path, dst: Path) -> None:
    """``src`` copied into a file in DuckDB 2.0's own storage format, as djcrawl wrote them before."""
    con = duckdb.connect()
    con.execute("SET disabled_compression_methods = 'zstd'")
    con.execute(f"ATTACH '{src}' AS src (READ_ONLY)")
    con.execute(f"ATTACH '{dst}' AS dst (STORAGE_VERSION 'v2.0.0')")
    con.execute("COPY FROM DATABASE src TO dst")
    con.close()


def test_new_files_are_made_in_the_storage_version_duckdb_1_5_reads(tmp_path, crawled):
    with Store(tmp_path / "new.duckdb") as store:
        assert storage_version(store.con).startswith(STORAGE_VERSION)
    assert 64 <= header_version(tmp_path / "new.duckdb") <= 68
    assert 64 <= header_version(crawled) <= 68  # and so is every file a crawl writes


@needs_cli
def test_the_duckdb_1_5_cli_answers_the_readme_queries_on_a_crawled_file(crawled):
    queries = readme_queries()
    assert len(queries) >= 6
    for sql in queries:
        expected = duck_rows(crawled, sql)
        assert expected, sql  # each query finds something in the crawled file
        got = cli_rows(crawled, sql)
        assert len(got) == len(expected), sql
        # the last column (counts, lengths, sites, where a value came from), and the first
        # unless a LIMIT may cut ties apart in another order: texts, dates, lists and
        # numbers print alike in both
        assert sorted(r[-1] for r in got) == sorted(r[-1] for r in expected), sql
        if "limit" not in sql.lower():
            assert sorted(r[0] for r in got) == sorted(r[0] for r in expected), sql


@needs_cli
def test_the_duckdb_1_5_cli_runs_the_search_macros(crawled):
    sql = "SELECT doc_id, round(score, 6) AS score, matched_terms FROM search_bm25('检察院党建')"
    expected = duck_rows(crawled, sql)
    assert len(expected) >= 5
    assert cli_rows(crawled, sql) == expected
    (first,), = duck_rows(crawled, "SELECT min(doc_id) FROM documents WHERE duplicate_of IS NOT NULL")
    similar = f"SELECT doc_id, round(score, 6) FROM similar_to('{first}') LIMIT 5"
    assert cli_rows(crawled, similar) == duck_rows(crawled, similar) and duck_rows(crawled, similar)
    assert cli_rows(crawled, "SELECT query_terms('检察院党建')") == [["[党建, 检察院]"]]


@needs_cli
def test_a_file_in_duckdb_2_format_is_rewritten_by_the_first_writing_open_and_nothing_is_lost(tmp_path, crawled):
    db = tmp_path / "old.duckdb"
    v2_copy(crawled, db)
    assert header_version(db) > 68
    refused = cli(db, "SELECT count(*) FROM documents")
    assert refused.returncode != 0 and "version number" in refused.stderr  # what users met
    con = duckdb.connect(str(db), read_only=True)
    before = inventory(con, "old")
    documents = con.execute("SELECT * FROM documents ORDER BY doc_id").fetchall()
    pages = con.execute("SELECT url, body, content_hash FROM pages ORDER BY url").fetchall()
    con.close()

    with Store(db) as store:  # the first writing open (load-seeds, crawl, reprocess, demo)
        assert storage_version(store.con).startswith(STORAGE_VERSION)
        assert store.document_count() == len(documents)
    assert 64 <= header_version(db) <= 68
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.duckdb", "old.duckdb.lock"]  # no copy, no backup
    con = duckdb.connect(str(db), read_only=True)
    assert inventory(con, "old") == before
    assert con.execute("SELECT * FROM documents ORDER BY doc_id").fetchall() == documents
    assert con.execute("SELECT url, body, content_hash FROM pages ORDER BY url").fetchall() == pages
    con.close()
    assert cli_rows(db, "SELECT count(*) FROM documents") == [[str(len(documents))]]
    with Store(db) as store:  # opened again: already in the format, left alone
        assert store.document_count() == len(documents)


def test_a_rewrite_that_fails_is_one_line_and_leaves_the_file_as_it_was(tmp_path, crawled):
    db = tmp_path / "old.duckdb"
    v2_copy(crawled, db)
    original = db.read_bytes()
    (tmp_path / "old.duckdb.compat").mkdir()  # where the copy would go: a directory in the way
    (tmp_path / "old.duckdb.compat" / "x").write_text("x")
    result = subprocess.run([sys.executable, "-m", "crawler.cli", "load-seeds", "--db", str(db), "--quiet"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert "could not be rewritten" in lines[0] and "left as it was" in lines[0]
    assert db.read_bytes() == original
