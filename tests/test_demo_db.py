"""The demo and other mirror runs never write the real crawls' database: the demo's file is
data/demo.duckdb, and a file holds either crawls of the real sites or mirror runs, never
both (mirror pages stored under the real URLs would be taken as known by a real crawl)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipelines.store import Store

ROOT = Path(__file__).resolve().parent.parent


def djcrawl(cwd: Path, *args, mirror=None, **env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DJ_MIRROR_URL", "DJ_DUCKDB_PATH", "DJCRAWL_DB")}
    if mirror is not None:
        base["DJ_MIRROR_URL"] = mirror.url
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], cwd=cwd, env={**base, **env},
                          capture_output=True, text=True, timeout=300)


def runs(db: Path) -> list[tuple]:
    with Store(db, read_only=True) as store:
        return store.query("SELECT run_id, mirror FROM crawl_runs ORDER BY started_at")[1]


def test_the_demo_writes_data_demo_duckdb_not_the_default_database(mirror, tmp_path):
    real = tmp_path / "real.duckdb"  # where a cron line's $DJ_DUCKDB_PATH points
    result = djcrawl(tmp_path, "demo", mirror=mirror, DJ_DUCKDB_PATH=str(real))
    assert result.returncode == 0, result.stderr
    demo = tmp_path / "data" / "demo.duckdb"
    assert demo.exists() and not real.exists() and not (tmp_path / "data" / "djcrawl.duckdb").exists()
    assert runs(demo) and all(m for _r, m in runs(demo))
    # crawl --mirror without --db goes there too, never to the default database
    again = djcrawl(tmp_path, "crawl", "sx_jcy", "--mirror", "--workers", "0", mirror=mirror)
    assert again.returncode == 0, again.stderr
    assert len(runs(demo)) == 2 and not (tmp_path / "data" / "djcrawl.duckdb").exists()


def test_a_mirror_run_into_a_file_of_real_crawls_is_refused_in_one_line(mirror, tmp_path):
    db = tmp_path / "dj.duckdb"
    with Store(db) as store:
        store.start_run("real-1", ["sx_jcy"])
        store.finish_run("real-1", "finished", {}, {("sx_jcy", "document"): 3})
    for args in (("crawl", "sx_jcy", "--mirror", "--db", str(db)), ("demo", "--db", str(db))):
        result = djcrawl(tmp_path, *args, mirror=mirror)
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "holds 1 crawls of the real sites" in lines[0], result.stderr
    assert runs(db) == [("real-1", None)]  # nothing written, nothing lost


def test_a_real_crawl_into_a_file_of_mirror_runs_is_refused_before_any_request(tmp_path):
    db = tmp_path / "dj.duckdb"
    with Store(db) as store:
        store.start_run("mirror-1", ["sx_jcy"], mirror="http://127.0.0.1:1")
        store.finish_run("mirror-1", "finished", {}, {})
    result = djcrawl(tmp_path, "crawl", "sx_jcy", "--db", str(db))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "runs through the offline mirror" in lines[0], result.stderr
    assert runs(db) == [("mirror-1", "http://127.0.0.1:1")]
