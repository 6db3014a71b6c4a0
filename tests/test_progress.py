"""Live progress is drawn when the output is a terminal (the commands run under a real
pseudo-terminal here) and never when it is a pipe or a file, as under cron."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def on_terminal(mirror, *args) -> tuple[int, str]:
    """Run ``djcrawl ARGS`` with stdin, stdout and stderr on a new pseudo-terminal; its exit
    code and all it wrote there, with the terminal's control sequences taken out."""
    env = {**os.environ, "DJ_MIRROR_URL": mirror.url, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    parent, child_end = pty.openpty()
    child = subprocess.Popen([sys.executable, "-m", "crawler.cli", *args], cwd=ROOT, env=env,
                             stdin=child_end, stdout=child_end, stderr=child_end, close_fds=True)
    os.close(child_end)
    out = bytearray()
    try:
        while True:
            ready, _, _ = select.select([parent], [], [], 300)  # only turns a hang into a failure
            assert ready, out.decode("utf-8", "replace")
            try:
                chunk = os.read(parent, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        code = child.wait(timeout=300)
    finally:
        os.close(parent)
        if child.poll() is None:
            child.kill()
    return code, ANSI.sub("", out.decode("utf-8", "replace"))


def piped(mirror, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], cwd=ROOT,
                          env={**os.environ, "DJ_MIRROR_URL": mirror.url},
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def demo_on_terminal(mirror, tmp_path_factory):
    db = tmp_path_factory.mktemp("progress") / "demo.duckdb"
    code, text = on_terminal(mirror, "demo", "--db", str(db))
    assert code == 0, text
    return db, text


def test_the_demo_on_a_terminal_shows_the_crawl_per_site_and_the_seeds_loading(demo_on_terminal):
    _db, text = demo_on_terminal
    # the live table: its title, its columns, a row for each site with its counts
    assert "crawling" in text and "article pages" in text and "documents" in text
    rows = [line.split() for line in text.splitlines() if line.split()[:1] == ["jcrb"]]
    assert any(len(r) == 5 and all(v.isdigit() for v in r[1:]) and int(r[1]) > 0 for r in rows), text
    assert "loading the seed reports" in text
    # and the summary the command prints anyway
    assert "seeds: 5 files" in text


def test_reprocess_and_load_seeds_on_a_terminal_show_progress(mirror, demo_on_terminal):
    db, _ = demo_on_terminal
    code, text = on_terminal(mirror, "reprocess", "--db", str(db), "--site", "jcrb", "--workers", "0")
    assert code == 0, text
    assert "reprocessing" in text
    rows = [line.split() for line in text.splitlines() if line.split()[:1] == ["jcrb"]]
    assert any(len(r) == 3 and r[1].isdigit() and int(r[1]) > 0 for r in rows), text
    code, text = on_terminal(mirror, "load-seeds", "--db", str(db), "--quiet")
    assert code == 0, text
    assert "loading the seed reports of seeds/documents" in text


def test_without_a_terminal_there_is_no_progress(mirror, demo_on_terminal):
    db, _ = demo_on_terminal
    crawled = piped(mirror, "crawl", "jcrb", "--mirror", "--db", str(db), "--workers", "0")
    assert crawled.returncode == 0, crawled.stderr
    reprocessed = piped(mirror, "reprocess", "--db", str(db), "--site", "jcrb", "--workers", "0")
    seeded = piped(mirror, "load-seeds", "--db", str(db), "--quiet")
    for result in (crawled, reprocessed, seeded):
        assert result.returncode == 0, result.stderr
        both = result.stdout + result.stderr
        assert "\x1b[" not in both and "reprocessing" not in both and "loading the seed reports" not in both
        assert "article pages  documents" not in both
