"""Readers while a crawl writes: `djcrawl query`, `search`, `export`, another Python process
with duckdb read-only and the DuckDB 1.5 CLI all answer during a real crawl, and see every
batch committed so far.

The crawl is ``djcrawl crawl --mirror`` in a child process, one page a batch
(``DJ_BATCH_SIZE=1``); the mirror holds the answer to spp's first list page until the
readers are done, so the crawl is known to be running the whole time. Time limits only
turn a hang into a failure."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from crawler.siteconfig import load_sites
from pipelines.store import Store

ROOT = Path(__file__).resolve().parent.parent
HELD = next(c for c in load_sites(every=True) if c.name == "spp").start_urls[0]
DUCKDB_CLI = shutil.which("duckdb", path=str(Path(sys.executable).parent)) or shutil.which("duckdb")

#: An outside reader as the README tells one to write it: read-only, trying again while a
#: batch is being committed.
OUTSIDE_READER = textwrap.dedent("""
    import json, sys, time
    import duckdb
    deadline = time.monotonic() + 30
    while True:
        try:
            con = duckdb.connect(sys.argv[1], read_only=True)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    docs = con.execute("SELECT doc_id FROM documents ORDER BY doc_id").fetchall()
    hits = con.execute("SELECT doc_id FROM search_bm25('检察院党建')").fetchall()
    print(json.dumps({"docs": [d for (d,) in docs], "hits": [h for (h,) in hits]}))
""")


def djcrawl(*args, env=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], cwd=ROOT, env=env or os.environ,
                          capture_output=True, text=True, timeout=timeout)


def served(mirror, start: int) -> set[str]:
    """Pages the mirror answered with 200 since ``start`` (not robots.txt)."""
    return {u for _m, u, status, _ua in mirror.log[start:] if status == 200 and not u.endswith("/robots.txt")}


def stored(db: Path, env) -> tuple[set[str], int]:
    """The URLs of the pages in the file (and where they were answered from), and how many
    documents they made, as `djcrawl query` reads them."""
    result = djcrawl("query", "SELECT url, final_url, doc_id FROM pages", "--db", str(db), "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    return {u for row in rows for u in (row["url"], row["final_url"]) if u}, len({r["doc_id"] for r in rows} - {None})


@pytest.fixture(scope="module")
def during(mirror, tmp_path_factory):
    """What the readers saw while the crawl ran, and the crawl's result."""
    db = tmp_path_factory.mktemp("readers") / "dj.duckdb"
    env = {**os.environ, "DJ_MIRROR_URL": mirror.url, "DJ_BATCH_SIZE": "1"}
    start = len(mirror.log)
    seen = {}
    with mirror.hold(HELD) as hold:
        crawl = subprocess.Popen([sys.executable, "-m", "crawler.cli", "crawl", "--mirror", "--db", str(db)],
                                 cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert hold.asked.wait(timeout=180)
            # every page served so far reaches the file, a batch at a time, while the crawl
            # waits for the held page: what readers see is at most one batch old
            # (until at least 10 documents are in: the other sites make 30 or so)
            deadline = time.monotonic() + 180
            while True:
                asked = served(mirror, start)
                pages, documents = stored(db, env)
                if asked <= pages and len(asked) >= 10 and documents >= 10:
                    break
                assert crawl.poll() is None, crawl.communicate()[1]
                assert time.monotonic() < deadline, (asked - pages, documents)
                time.sleep(0.2)
            seen["pages"], seen["served"] = pages, asked
            seen["query"] = djcrawl("query", "SELECT doc_id FROM documents ORDER BY doc_id", "--db", str(db),
                                    "--format", "csv", env=env)
            seen["search"] = djcrawl("search", "检察院党建", "--db", str(db), "--format", "json", env=env)
            seen["export"] = djcrawl("export", "--format", "jsonl", "--out", str(db.with_name("during.jsonl")),
                                     "--db", str(db), env=env)
            seen["outside"] = subprocess.run([sys.executable, "-c", OUTSIDE_READER, str(db)],
                                             capture_output=True, text=True, timeout=60)
            if DUCKDB_CLI:
                seen["cli"] = subprocess.run([DUCKDB_CLI, "-readonly", "-csv", str(db), "-c",
                                              "SELECT count(*) FROM documents"],
                                             capture_output=True, text=True, timeout=60)
            seen["running"] = crawl.poll() is None
        except BaseException:
            crawl.kill()
            crawl.communicate()
            raise
    try:
        out, err = crawl.communicate(timeout=300)
    finally:
        if crawl.poll() is None:
            crawl.kill()
    return {"db": db, "seen": seen, "returncode": crawl.returncode, "stderr": err}


def test_readers_answer_during_the_crawl_and_see_what_it_committed(during):
    seen = during["seen"]
    assert seen["running"], "the crawl ended before the readers were done"
    assert len(seen["served"]) >= 10  # the other sites were crawled meanwhile
    query = seen["query"]
    assert query.returncode == 0, query.stderr
    docs = query.stdout.split()[1:]
    assert len(docs) >= 10
    search = seen["search"]
    assert search.returncode == 0, search.stderr
    hits = json.loads(search.stdout)
    assert hits and {h["doc_id"] for h in hits} <= set(docs)
    export = seen["export"]
    assert export.returncode == 0, export.stderr
    exported = [json.loads(line)["doc_id"] for line in
                (during["db"].with_name("during.jsonl")).read_text(encoding="utf-8").splitlines()]
    # the readers ran one after the other while the crawl went on: each saw at least what
    # the one before it saw (a crawl only adds documents)
    assert set(docs) <= set(exported)
    outside = seen["outside"]
    assert outside.returncode == 0, outside.stderr
    found = json.loads(outside.stdout)
    assert set(exported) <= set(found["docs"]) and found["hits"]


@pytest.mark.skipif(DUCKDB_CLI is None, reason="duckdb-cli (the test extra) is not installed")
def test_the_duckdb_cli_reads_the_file_during_the_crawl(during):
    cli = during["seen"]["cli"]
    assert cli.returncode == 0, cli.stderr
    assert int(cli.stdout.split()[-1]) >= len(during["seen"]["query"].stdout.split()[1:]) >= 10


def test_the_crawl_finishes_intact_after_the_readers(during):
    assert during["returncode"] == 0, during["stderr"]
    db = during["db"]
    with Store(db, read_only=True) as store:
        (run_id, status, new, fetched), = store.query(
            "SELECT run_id, status, documents_new, pages_fetched FROM crawl_runs")[1]
        (crawled,), = store.query("SELECT count(*) FROM documents")[1]
        (pages,), = store.query("SELECT count(*) FROM pages WHERE body IS NOT NULL AND content_hash IS NOT NULL")[1]
        urls = {u for row in store.query("SELECT url, final_url FROM pages")[1] for u in row if u}
        held = store.query("SELECT count(*) FROM pages WHERE url = ?", [HELD])[1]
    assert status == "finished" and new == crawled and fetched == pages
    assert during["seen"]["pages"] <= urls  # nothing seen during the crawl went missing
    with Store(db, read_only=True) as store:
        final = {d for (d,) in store.query("SELECT doc_id FROM documents")[1]}
    assert set(during["seen"]["query"].stdout.split()[1:]) <= final
    assert held == [(1,)]  # the held page was stored once released


def test_a_reader_waits_a_bounded_time_then_names_the_holder_in_one_line(tmp_path):
    db = tmp_path / "held.duckdb"
    with Store(db):
        pass
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys
        con = duckdb.connect({str(db)!r})
        print("ready", flush=True)
        sys.stdin.readline()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        env = {**os.environ, "DJ_LOCK_WAIT": "0.5"}
        for args in (["query", "SELECT 1"], ["search", "党建"], ["similar", "x"]):
            result = djcrawl(*args, "--db", str(db), env=env)
            lines = result.stderr.strip().splitlines()
            assert result.returncode == 1 and len(lines) == 1, result.stderr
            assert "locked" in lines[0] and f"process {holder.pid}" in lines[0] and "waited 0.5 s" in lines[0]
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=30)
    assert djcrawl("query", "SELECT 1", "--db", str(db)).returncode == 0  # let go: it answers


def test_a_batch_waits_while_a_reader_holds_the_file_and_nothing_is_lost(tmp_path):
    from scrapy.utils.misc import build_from_crawler
    from scrapy.utils.test import get_crawler

    import crawler.settings as project
    from crawler.extensions import StoreExtension
    from crawler.items import Processed
    from crawler.pipelines import StorePipeline
    from crawler.spiders.djcrawl import DjSpider
    from pipelines.page import Page

    db = tmp_path / "busy.duckdb"
    settings = {**{k: getattr(project, k) for k in dir(project) if k.isupper()},
                "DJ_DUCKDB_PATH": str(db), "DJ_WORKERS": 0, "DJ_SITES": ["spp"], "DJ_BATCH_SIZE": 2,
                "DJ_LOCK_WAIT": 60}
    crawler = get_crawler(DjSpider, settings)
    crawler.spider = DjSpider.from_crawler(crawler, sites="spp")
    ext = crawler.get_extension(StoreExtension)
    pipeline = build_from_crawler(StorePipeline, crawler)
    pipeline.open_spider()

    def item(n: int) -> Processed:
        return Processed(Page(url=f"https://www.spp.gov.cn/spp/djgz/index_{n}.shtml", site="spp", kind="list",
                              status=200, body=b"<html></html>", reason="list-page"))

    reader = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys
        con = duckdb.connect({str(db)!r}, read_only=True)
        print(con.execute("SELECT count(*) FROM pages").fetchone()[0], flush=True)
        sys.stdin.readline()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "0"
        for n in range(5):  # batches of 2: the first two tries find the file held
            pipeline.process_item(item(n))
        assert pipeline.waiting and len(pipeline.pages) == 5  # kept, not dropped
    finally:
        reader.stdin.write("\n")
        reader.stdin.flush()
        reader.wait(timeout=30)
    pipeline.process_item(item(5))  # the reader has gone: everything kept so far is written
    assert not pipeline.waiting and pipeline.pages == []
    ext.close()
    with Store(db, read_only=True) as store:
        assert store.query("SELECT count(*) FROM pages")[1] == [(6,)]
    assert not Path(str(db) + ".wal").exists()  # the crawl's last step folded the WAL into the file
