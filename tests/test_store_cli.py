"""The DuckDB store and the command line, through the installed ``djcrawl`` command.

Real DuckDB files in a temporary directory; a second real process holds the lock.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from pipelines.store import SCHEMA_VERSION, Store

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds" / "documents"
DJCRAWL = [sys.executable, "-m", "crawler.cli"]


def run(*args, env=None, cwd=ROOT):
    return subprocess.run([*DJCRAWL, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=120)


def assert_one_line_error(proc, *fragments):
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("djcrawl: error:")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("db") / "seeds.duckdb"
    proc = run("load-seeds", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    return db


# --------------------------------------------------------------------------- load-seeds

def test_load_seeds_prints_summary(seeded_db):
    proc = run("load-seeds", "--db", str(seeded_db))
    assert proc.returncode == 0
    assert "0 new, 0 updated, 5 unchanged" in proc.stdout
    assert "003_a1f4537977f397c3" in proc.stdout and "2019-06-13" in proc.stdout


def test_loading_twice_leaves_five_rows_with_the_seed_bytes(seeded_db):
    with Store(seeded_db, read_only=True) as store:
        assert store.document_count() == 5
        for path in SEEDS.glob("*.txt"):
            assert store.seed_file_bytes(path.name) == path.read_bytes()
        row = store.get_document("001_32c59505a0ed0877")
    assert row["origin"] == "seed" and row["script"] == "hant"
    assert row["editor"] == "刘银霞" and row["authors"] == ["井海燕"]
    assert row["seed_file"] == "001_32c59505a0ed0877.txt"
    assert "著" not in row["text"] or "著" in row["text_original"]


def test_query_shows_seed_metadata(seeded_db):
    proc = run("query", "select doc_id, script, title, published, source_name, authors, editor, length(text) "
               "as chars from documents order by doc_id", "--db", str(seeded_db), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["doc_id"][:3]: r for r in json.loads(proc.stdout)}
    assert rows["000"]["published"] == "2020-12-16" and rows["000"]["source_name"] == "中国共产党新闻网"
    assert rows["002"]["authors"] == ["卢拥军", "邱军伟"]
    assert rows["003"]["title"] == "提升政治站位 强化责任担当"
    assert all(r["chars"] > 1500 for r in rows.values())


def test_query_formats(seeded_db):
    table = run("query", "select doc_id, title from documents order by doc_id", "--db", str(seeded_db))
    assert table.returncode == 0 and "(5 rows)" in table.stdout
    csv = run("query", "select doc_id from documents order by doc_id", "--db", str(seeded_db), "--format", "csv")
    assert csv.stdout.splitlines()[0] == "doc_id" and len(csv.stdout.splitlines()) == 6


def test_db_from_environment(seeded_db):
    proc = run("query", "select count(*) as n from documents", "--format", "json", env={"DJCRAWL_DB": str(seeded_db)})
    assert json.loads(proc.stdout) == [{"n": 5}]


def test_gbk_seed_directory(tmp_path):
    src = (SEEDS / "003_a1f4537977f397c3.txt").read_text(encoding="utf-8").replace("\xa0", " ")
    d = tmp_path / "gbk"
    d.mkdir()
    (d / "gbk_report.txt").write_bytes(src.encode("gbk"))
    db = tmp_path / "g.duckdb"
    proc = run("load-seeds", str(d), "--db", str(db), "--quiet")
    assert proc.returncode == 0, proc.stderr
    with Store(db, read_only=True) as store:
        row = store.get_document("gbk_report")
    assert row["title"] == "提升政治站位 强化责任担当" and "意识形态" in row["text"]


# --------------------------------------------------------------------------- bad input: one line, nothing lost

@pytest.mark.parametrize("content,fragment", [(b"", "empty"), (b"\x00\x01\x02binary\xff\xfe" * 50, "binary")])
def test_bad_seed_file_stops_load_and_keeps_what_is_stored(tmp_path, seeded_db, content, fragment):
    db = tmp_path / "copy.duckdb"
    db.write_bytes(seeded_db.read_bytes())
    d = tmp_path / "bad"
    d.mkdir()
    (d / "good.txt").write_text("提升政治站位\n" + "基层检察院党建工作要严格落实上级部署。" * 10, encoding="utf-8")
    (d / "zz_bad.txt").write_bytes(content)
    proc = run("load-seeds", str(d), "--db", str(db))
    assert_one_line_error(proc, "zz_bad.txt", fragment)
    with Store(db, read_only=True) as store:
        assert store.document_count() == 5  # nothing lost, nothing half-loaded


def test_missing_inputs(tmp_path):
    assert_one_line_error(run("load-seeds", str(tmp_path / "nope"), "--db", str(tmp_path / "x.duckdb")), "no such directory")
    assert_one_line_error(run("clean", str(tmp_path / "missing.html")), "missing.html", "no such file")
    assert_one_line_error(run("query", "select 1", "--db", str(tmp_path / "none.duckdb")), "does not exist")


def test_clean_bad_files(tmp_path):
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    binary = tmp_path / "blob.txt"
    binary.write_bytes(bytes(range(256)) * 20)
    assert_one_line_error(run("clean", str(empty)), "empty.html", "empty")
    assert_one_line_error(run("clean", str(binary)), "blob.txt", "binary")


def test_query_is_read_only(seeded_db):
    proc = run("query", "delete from documents", "--db", str(seeded_db))
    assert_one_line_error(proc, "read-only")
    with Store(seeded_db, read_only=True) as store:
        assert store.document_count() == 5


def test_bad_sql_is_one_line(seeded_db):
    assert_one_line_error(run("query", "select nope from documents", "--db", str(seeded_db)), "SQL error")


def test_locked_database_names_the_holder(seeded_db, tmp_path):
    db = tmp_path / "locked.duckdb"
    db.write_bytes(seeded_db.read_bytes())
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(db)!r})
            print("ready", flush=True)
            sys.stdin.readline()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        proc = run("load-seeds", "--db", str(db))
        assert_one_line_error(proc, "locked", f"process {holder.pid}")
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=30)
    with Store(db, read_only=True) as store:
        assert store.document_count() == 5


def test_corrupt_and_newer_databases(tmp_path):
    corrupt = tmp_path / "corrupt.duckdb"
    corrupt.write_bytes(b"this is not a database" * 1000)
    assert_one_line_error(run("query", "select 1", "--db", str(corrupt)), "corrupt.duckdb")
    assert corrupt.read_bytes() == b"this is not a database" * 1000

    newer = tmp_path / "newer.duckdb"
    with Store(newer):
        pass
    con = duckdb.connect(str(newer))
    con.execute("INSERT INTO schema_version VALUES (?, now())", [SCHEMA_VERSION + 1])
    con.close()
    assert_one_line_error(run("load-seeds", "--db", str(newer)), "newer than this djcrawl")


# --------------------------------------------------------------------------- clean

def test_clean_many_files_jsonl(tmp_path):
    files = [str(p) for p in sorted(SEEDS.glob("*.txt"))]
    proc = run("clean", *files, "--format", "jsonl")
    assert proc.returncode == 0, proc.stderr
    objs = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [Path(o["file"]).name for o in objs] == [Path(f).name for f in files]
    for o in objs:
        assert {"file", "title", "text", "published", "authors", "editor", "tokens", "keywords", "provenance"} <= set(o)
    assert objs[3]["published"] == "2019-06-13" and objs[3]["authors"] == ["李长军"]


def test_clean_calls_the_pipeline_functions(tmp_path):
    """`clean` prints exactly what the pipeline stores."""
    from pipelines.documents import document_from_text

    path = SEEDS / "000_67a7af3907cb6fe4.txt"
    proc = run("clean", str(path), "--format", "json")
    obj = json.loads(proc.stdout)
    doc = document_from_text(path.read_text(encoding="utf-8"), doc_id=path.stem)
    assert obj["text"] == doc.text and obj["tokens"] == doc.tokens and obj["keywords"] == doc.keywords


def test_clean_text_format_shows_metadata():
    proc = run("clean", str(SEEDS / "003_a1f4537977f397c3.txt"))
    assert proc.returncode == 0
    assert proc.stdout.startswith("# 提升政治站位 强化责任担当\npublished: 2019-06-13")


def test_clean_a_docx_attachment(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("关于加强机关党建工作的实施方案")
    for _ in range(4):
        d.add_paragraph("各党支部要严格落实三会一课制度,推动党建与检察业务深度融合,切实发挥战斗堡垒作用。")
    path = tmp_path / "方案.docx"
    d.save(str(path))
    proc = run("clean", str(path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    obj = json.loads(proc.stdout)
    assert obj["title"] == "关于加强机关党建工作的实施方案"
    assert "三会一课" in obj["tokens"] and obj["provenance"]["attachment"] == "docx"
