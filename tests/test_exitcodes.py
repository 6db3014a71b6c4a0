"""What cron and systemd see of a crawl: its exit code, a line a site, one line a download
error, no traceback, and the run's row saying how it went. Real crawls in a child process,
as users run them, against the offline mirror on 127.0.0.1 (or a port where nothing
listens), writing real DuckDB files."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from crawler.siteconfig import load_sites
from pipelines.store import Store

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = {c.name: c for c in load_sites(every=True)}
#: two small sites of one list page each
GOOD, BROKEN = "sx_jcy", "zmdnews"


def crawl(mirror_url: str, db: Path, *sites: str, extra=()) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJ_MIRROR_URL": mirror_url}
    return subprocess.run([sys.executable, "-m", "crawler.cli", *extra, "crawl", *sites, "--db", str(db),
                           "--workers", "0"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def last_run(db: Path) -> dict:
    with Store(db, read_only=True) as store:
        (run_id,), = store.query("SELECT run_id FROM crawl_runs ORDER BY started_at DESC LIMIT 1")[1]
        return store.get_run(run_id)


def site_line(stdout: str, site: str) -> list[str]:
    found = [line.split() for line in stdout.splitlines() if line.split()[:1] == [site]]
    assert len(found) == 1, stdout
    return found[0]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed: the kernel does not hand it out
    again at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_crawl_that_reaches_nothing_exits_4_records_the_run_failed_and_prints_no_traceback(tmp_path):
    db = tmp_path / "dj.duckdb"
    result = crawl(f"http://127.0.0.1:{closed_port()}", db, GOOD, BROKEN)
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    run = last_run(db)
    assert run["status"] == "failed" and run["pages_fetched"] == 0 and run["errors"] > 0
    assert run["mirror"]
    for site in (GOOD, BROKEN):
        assert site_line(result.stdout, site)[1] == "failed"
        # each start page that failed: one line naming the site, the URL and the reason
        for url in CONFIGS[site].start_urls:
            lines = [line for line in result.stderr.splitlines() if url in line and "failed:" in line]
            assert len(lines) == 1 and f"{site}: {url} failed: error-" in lines[0], result.stderr
    assert "Gave up retrying" not in result.stderr


def test_debug_shows_what_scrapy_says(tmp_path):
    result = crawl(f"http://127.0.0.1:{closed_port()}", tmp_path / "dj.duckdb", BROKEN, extra=("--debug",))
    assert result.returncode == 4
    assert "Traceback" in result.stderr and "Gave up retrying" in result.stderr


def test_a_site_whose_start_page_fails_makes_the_crawl_partial_exit_3(mirror, tmp_path):
    db = tmp_path / "dj.duckdb"
    with mirror.failing(*CONFIGS[BROKEN].start_urls, status=500):
        result = crawl(mirror.url, db, GOOD, BROKEN)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert last_run(db)["status"] == "partial"
    good, broken = site_line(result.stdout, GOOD), site_line(result.stdout, BROKEN)
    assert good[1] == "ok" and broken[1] == "failed"
    assert "http-500 1" in " ".join(broken) and "list-failed 1" in " ".join(broken)
    assert f"{BROKEN}: {CONFIGS[BROKEN].start_urls[0]} failed: http-500" in result.stderr


def test_a_start_page_answering_404_is_a_failed_site_too(mirror, tmp_path):
    db = tmp_path / "dj.duckdb"
    with mirror.failing(*CONFIGS[BROKEN].start_urls, status=404):
        result = crawl(mirror.url, db, GOOD, BROKEN)
    assert result.returncode == 3, result.stderr
    assert site_line(result.stdout, BROKEN)[1] == "failed" and "http-404 1" in " ".join(site_line(result.stdout, BROKEN))


def test_a_healthy_crawl_exits_0_and_says_so_per_site(mirror, tmp_path):
    db = tmp_path / "dj.duckdb"
    result = crawl(mirror.url, db, GOOD, BROKEN)
    assert result.returncode == 0, result.stderr
    assert last_run(db)["status"] == "finished"
    with Store(db, read_only=True) as store:
        docs = dict(store.query("SELECT site, count(*) FROM documents GROUP BY site")[1])
    for site in (GOOD, BROKEN):
        line = site_line(result.stdout, site)
        assert line[1] == "ok" and f"{docs[site]} new or changed documents" in " ".join(line)
    # the next run finds everything known: still ok, still 0
    again = crawl(mirror.url, db, GOOD, BROKEN)
    assert again.returncode == 0, again.stderr
    assert site_line(again.stdout, GOOD)[1] == "ok"


def test_ctrl_c_during_a_crawl_stops_it_with_one_line_and_exit_130(mirror, tmp_path):
    """SIGINT to the crawl's whole process group (as a terminal's Ctrl-C), while the mirror
    holds the answer to its first list page; the answer is let go only once the crawl said
    it received the signal, so the crawl cannot end any other way."""
    db = tmp_path / "dj.duckdb"
    env = {**os.environ, "DJ_MIRROR_URL": mirror.url, "DJ_LOG_LEVEL": "INFO"}
    args = [sys.executable, "-m", "crawler.cli", "crawl", GOOD, "--mirror", "--db", str(db), "--workers", "1"]
    lines: list[str] = []
    received = threading.Event()

    def read(stream):
        for line in stream:
            lines.append(line)
            if "Received SIGINT" in line:
                received.set()

    with mirror.hold(CONFIGS[GOOD].start_urls[0]) as hold:
        child = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, start_new_session=True)
        reader = threading.Thread(target=read, args=(child.stderr,), daemon=True)
        reader.start()
        try:
            # time limits here only turn a hang into a failure
            assert hold.asked.wait(timeout=180), "".join(lines)
            os.killpg(child.pid, signal.SIGINT)
            assert received.wait(timeout=180), "".join(lines)
        except BaseException:
            child.kill()
            raise
    try:
        stdout = child.stdout.read()
        code = child.wait(timeout=180)
        reader.join(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    stderr = "".join(lines)
    assert code == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    said = [line for line in stderr.splitlines() if line.startswith("djcrawl: interrupted")]
    assert len(said) == 1 and "stored" in said[0], stderr
    assert last_run(db)["status"] == "interrupted"
    assert "interrupted" in stdout
