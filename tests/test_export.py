"""`djcrawl export` and `query --format jsonl`, on a real DuckDB file: every export is read
back (pyarrow, DuckDB, json, csv) and compared with what the database holds."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crawler.cli import main
from pipelines.documents import document_from_text
from pipelines.ingest import add_documents
from pipelines.seeds import load_seed_dir
from pipelines.store import Store

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds" / "documents"
DEDUP = ROOT / "tests" / "fixtures" / "dedup"
REAL = ROOT / "tests" / "fixtures" / "real_sites"
LIST_COLUMNS = ("authors", "tokens", "keywords")


def crawled_doc(name: str, doc_id: str, site: str):
    return document_from_text((DEDUP / name).read_text(encoding="utf-8"), doc_id=doc_id, origin="crawl",
                              site=site, url=f"http://{site}.example/{doc_id}.html")


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "corpus.duckdb"
    with Store(path) as store:
        load_seed_dir(store, SEEDS)
        add_documents(store, [crawled_doc("reprint_of_003.txt", "u_reprint", "zhengyi"),
                              crawled_doc("sports_report.txt", "u_sports", "sports")])
    return path


def stored(db: Path, where: str = "true") -> dict[str, dict]:
    """The documents as DuckDB's Python client gives them, by doc_id (provenance parsed)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        cur = con.execute(f"SELECT * EXCLUDE (fingerprint) FROM documents WHERE {where} ORDER BY doc_id")
        names = [c[0] for c in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()
    for row in rows:
        row["provenance"] = json.loads(row["provenance"])
    return {r["doc_id"]: r for r in rows}


def export(capsys, *argv) -> str:
    assert main(["export", *argv]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def test_parquet_keeps_lists_as_lists_dates_as_dates_and_json_as_text(db, tmp_path, capsys):
    out = tmp_path / "corpus.parquet"
    printed = export(capsys, "--out", str(out), "--db", str(db))
    expected = stored(db)
    assert f"exported {len(expected)} documents" in printed
    table = pq.read_table(out)
    for name in LIST_COLUMNS:
        assert pa.types.is_list(table.schema.field(name).type)
    assert pa.types.is_string(table.schema.field("provenance").type)
    assert pa.types.is_date32(table.schema.field("published").type)
    assert "fingerprint" not in table.schema.names
    rows = table.to_pylist()
    assert [r["doc_id"] for r in rows] == sorted(expected)
    for row in rows:
        row["provenance"] = json.loads(row["provenance"])
        assert row == expected[row["doc_id"]]
    # DuckDB reads it back as the same lists
    con = duckdb.connect()
    assert dict(con.execute("SELECT doc_id, keywords FROM read_parquet(?)", [str(out)]).fetchall()) == {
        k: v["keywords"] for k, v in expected.items()}


def test_jsonl_is_one_object_a_line_with_provenance_an_object(db, tmp_path, capsys):
    out = tmp_path / "corpus.jsonl"
    export(capsys, "--format", "jsonl", "--out", str(out), "--db", str(db), "--site", "zhengyi")
    lines = out.read_text(encoding="utf-8").splitlines()
    expected = stored(db, "site = 'zhengyi'")
    assert len(lines) == len(expected) == 1
    obj = json.loads(lines[0])
    row = expected[obj["doc_id"]]
    assert isinstance(obj["provenance"], dict) and obj["provenance"] == row["provenance"]
    assert obj["tokens"] == row["tokens"] and obj["authors"] == row["authors"]
    assert obj["published"] == row["published"].isoformat()
    assert obj["text"] == row["text"] and "\\u" not in lines[0]  # UTF-8, not escaped
    assert dt.datetime.fromisoformat(obj["loaded_at"]) == row["loaded_at"]


def test_csv_has_a_header_and_lists_as_json_arrays(db, tmp_path, capsys):
    out = tmp_path / "corpus.csv"
    export(capsys, "--out", str(out), "--db", str(db), "--since", "2019-06-15")
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    expected = stored(db, "published >= DATE '2019-06-15'")
    assert [r["doc_id"] for r in rows] == sorted(expected) and len(rows) == 2
    for row in rows:
        want = expected[row["doc_id"]]
        for name in LIST_COLUMNS:
            assert json.loads(row[name]) == want[name]
        assert json.loads(row["provenance"]) == want["provenance"]
        assert row["text"] == want["text"]  # multi-line text survives the quoting
        assert row["published"] == want["published"].isoformat()


def test_new_exports_only_what_was_written_after_the_last_export(db, tmp_path, capsys):
    first, second, third = (tmp_path / f"{n}.jsonl" for n in ("first", "second", "third"))
    printed = export(capsys, "--new", "--out", str(first), "--db", str(db))
    assert "no earlier export" in printed
    assert len(first.read_text(encoding="utf-8").splitlines()) == len(stored(db))

    assert "exported 0 documents" in export(capsys, "--new", "--out", str(second), "--db", str(db))
    assert second.read_text(encoding="utf-8") == ""

    # a new crawled document and a changed one: those two only
    with Store(db) as store:
        add_documents(store, [document_from_text(
            (REAL / "local_news_portal" / "songhuajiang_net.gold.txt").read_text(encoding="utf-8"),
            doc_id="u_new", origin="crawl", site="zhengyi", url="http://zhengyi.example/u_new.html")])
        changed = store.get_document("u_sports")
        add_documents(store, [document_from_text(changed["text"] + "\n赛后,主教练接受了采访。", doc_id="u_sports",
                                                 origin="crawl", site="sports", url=changed["url"])])
    export(capsys, "--new", "--out", str(third), "--db", str(db))
    assert {json.loads(line)["doc_id"] for line in third.read_text(encoding="utf-8").splitlines()} == {
        "u_new", "u_sports"}

    with Store(db, read_only=True) as store:
        history = store.export_history()
    assert [(h["new_only"], h["documents"]) for h in history] == [(True, len(stored(db)) - 1), (True, 0), (True, 2)]
    assert history[1]["after"] == history[0]["through"]


def test_new_with_a_site_counts_only_exports_that_held_that_site(db, tmp_path, capsys):
    export(capsys, "--site", "sports", "--out", str(tmp_path / "sports.csv"), "--db", str(db))
    # an export of another site held none of zhengyi's documents: all of them are new
    export(capsys, "--site", "zhengyi", "--new", "--out", str(tmp_path / "z.csv"), "--db", str(db))
    with (tmp_path / "z.csv").open(encoding="utf-8", newline="") as fh:
        assert [r["doc_id"] for r in csv.DictReader(fh)] == ["u_reprint"]
    # the sports export held every sports document
    export(capsys, "--site", "sports", "--new", "--out", str(tmp_path / "s.csv"), "--db", str(db))
    assert (tmp_path / "s.csv").read_text(encoding="utf-8").count("\n") == 1  # the header only


@pytest.mark.parametrize("argv, message", [
    (["--out", "x.txt"], "--format"),
    (["--out", "missing_dir/x.csv"], "does not exist"),
    (["--out", "x.csv", "--since", "yesterday"], "is not a date"),
])
def test_bad_exports_are_one_line_and_record_nothing(db, tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(["export", *argv, "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    with Store(db, read_only=True) as store:
        assert store.export_history() == []
    assert not list(tmp_path.glob("*.csv")) and not list(tmp_path.glob(".*part"))


def test_a_file_that_cannot_be_written_is_one_line_and_no_record(db, tmp_path, capsys):
    (tmp_path / ".x.csv.part").mkdir()  # where the export writes before it renames
    assert main(["export", "--out", str(tmp_path / "x.csv"), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write" in err and "x.csv" in err
    assert not (tmp_path / "x.csv").exists()
    with Store(db, read_only=True) as store:
        assert store.export_history() == []


def test_exporting_a_database_that_does_not_exist_makes_none(tmp_path, capsys):
    missing = tmp_path / "none.duckdb"
    assert main(["export", "--out", str(tmp_path / "x.csv"), "--db", str(missing)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err
    assert not missing.exists() and not (tmp_path / "x.csv").exists()


def test_query_jsonl_is_one_object_a_line(db, capsys):
    assert main(["query", "SELECT doc_id, keywords, published FROM documents ORDER BY doc_id",
                 "--db", str(db), "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = stored(db)
    assert [json.loads(line)["doc_id"] for line in lines] == sorted(expected)
    for line in lines:
        obj = json.loads(line)
        assert obj["keywords"] == expected[obj["doc_id"]]["keywords"]
    assert main(["query", "SELECT 1 WHERE false", "--db", str(db), "--format", "jsonl"]) == 0
    assert capsys.readouterr().out == ""
