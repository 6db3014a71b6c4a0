"""Site health (``djcrawl sites --health``, pipelines/store/health.py, crawler/cli/health.py).

On a file whose runs are written as a crawl writes them, then on real crawls of a
loopback site whose list gives no article link: the second crawl's summary flags it, and
so does ``sites --health``, which also says its runs all went through a mirror.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from crawler.cli import main
from crawler.cli.health import site_health
from faults import server as s
from faults.crawl import ROOT, Crawl
from faults.site import build_paged_site, list_html
from pipelines.store import Store

MIRROR = "http://127.0.0.1:9"


def _doc(store, doc_id, site, run_id, body_from):
    store.con.execute(
        """INSERT INTO documents (doc_id, origin, site, url, text, text_original, script, content_hash, loaded_at,
                                  provenance, run_id)
           VALUES (?, 'crawl', ?, ?, '正文', '正文', 'hans', 'h', now(), ?, ?)""",
        [doc_id, site, f"http://{site}.example/{doc_id}.html", json.dumps({"body": body_from}), run_id])


@pytest.fixture
def runs_db(tmp_path):
    db = tmp_path / "health.duckdb"
    with Store(db) as store:
        # r1: real and good for a; r2: real but interrupted; r3, r4: through a mirror
        plan = [
            ("r1", None, "finished", {("a", "document"): 3, ("a", "skipped-known"): 1, ("b", "document"): 2}),
            ("r2", None, "interrupted", {("a", "document"): 2, ("b", "list-without-articles"): 2}),
            ("r3", MIRROR, "finished", {("a", "document"): 1, ("a", "selector-stale"): 2, ("a", "http-404"): 2,
                                        ("a", "blocked"): 1, ("b", "list-without-articles"): 1}),
        ]
        for run_id, mirror, status, counts in plan:
            store.start_run(run_id, ["a", "b"], mirror=mirror)
            store.finish_run(run_id, status, {}, counts)
        store.start_run("r4", ["c"], mirror=MIRROR)
        store.finish_run("r4", "finished", {}, {("c", "document"): 5})
        _doc(store, "d1", "a", "r1", "container:.TRS_Editor")
        _doc(store, "d2", "a", "r1", "trafilatura:favor_recall")
        _doc(store, "d3", "a", "r3", "density:div#content")
        _doc(store, "d4", "a", "r3", "trafilatura")
        _doc(store, "d5", "b", "r1", "density:div.main")
    return db


def test_health_reads_the_runs_as_a_crawl_wrote_them(runs_db):
    with Store(runs_db, read_only=True) as store:
        a, b, c = (site_health(store, x) for x in "abc")
    # a mirror run never makes the last good run, nor does an interrupted one
    assert a["last_good"]["run_id"] == "r1" and b["last_good"]["run_id"] == "r1"
    assert c["last_good"] is None and c["flags"] == ["mirror-only"]
    assert [r["run_id"] for r in a["runs"]] == ["r3", "r2", "r1"] and a["mirror_runs"] == 1
    assert (a["documents"], a["fallbacks"], a["selector_stale"], a["blocked"], a["errors"]) == (4, 2, 2, 1, 3)
    assert a["flags"] == []
    # b: its last two runs (r3, r2) found no article link on its lists
    assert b["flags"] == ["lists-empty"] and b["lists_without_articles"] == 3 and b["fallbacks"] == 1


def test_sites_health_prints_a_row_a_site_and_the_flags(runs_db, capsys):
    assert main(["sites", "--health", "--db", str(runs_db)]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line.split() and line.split()[0] in "abc"}
    assert "r1" in rows["a"] and "3 (1)" in rows["a"]
    assert "never (mirror runs only)" in rows["c"] and "mirror-only" in rows["c"]
    assert "lists-empty" in rows["b"]
    flagged = [line for line in out.splitlines() if line.startswith("flagged: ")]
    assert len(flagged) == 2
    assert flagged[0].startswith("flagged: b: its lists gave no article link in its last two runs")
    assert flagged[1].startswith("flagged: c: its last 1 runs all went through a mirror")
    # a configured site never crawled has a row too
    assert any(line.startswith("sx_jcy ") and "never crawled" in line for line in out.splitlines())


def test_a_site_whose_lists_give_nothing_twice_is_flagged_in_the_crawl_summary_and_in_health(tmp_path):
    site = build_paged_site(4, 4)
    channel = site.list_paths[0]
    # the channel answers, but its list holds no article link: selector and listlinks both miss
    site.routes[channel] = s.page(list_html([], 0, 1).encode())
    db = tmp_path / "empty.duckdb"
    outputs = []
    with s.FaultServer(site.routes) as server:
        for _ in range(2):
            crawl = Crawl(db, server.url, ("sx_jcy",), cli=True)
            # the only site gave no article link: the run is partial, exit code 3
            assert crawl.wait() == 3, crawl.lines
            outputs.append(crawl.stdout)
        assert server.requests(channel) == 2
    first, second = outputs
    assert "its lists gave no article link" not in first  # one run is not two
    flagged = [line for line in second.splitlines() if "its lists gave no article link" in line]
    assert len(flagged) == 1 and flagged[0].startswith("flagged: sx_jcy: "), second
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJCRAWL_", "DJ_"))}
    health = subprocess.run([sys.executable, "-m", "crawler.cli", "sites", "--health", "--db", str(db)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert health.returncode == 0, health.stderr
    row = next(line for line in health.stdout.splitlines() if line.startswith("sx_jcy "))
    assert "never (mirror runs only)" in row and "lists-empty" in row and "mirror-only" in row
    assert "flagged: sx_jcy: its lists gave no article link" in health.stdout
