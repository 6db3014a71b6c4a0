"""Run the real crawl in a child process against a loopback server, and read what it stored.

The crawl is ``scrapy crawl djcrawl`` with the project's settings (scrapy.cfg),
its mirror pointed at the fault server: the same spider, middlewares, pipelines
and Store as ``djcrawl crawl``. A child process, because Twisted's reactor runs
once per process and because the crash tests kill it.

Only waiting times, concurrency and the size limit are changed (DOWNLOAD_TIMEOUT,
delays, DOWNLOAD_MAXSIZE), so a fault suite of timeouts and retries finishes in seconds.

The time limits here (``timeout=``) only turn a hang into a failure: they are far above
what the step takes on a loaded machine, and no test passes or fails by how long a step
took. What must happen before what is made so by the tests (the fault server's Gate,
the crawl's own log lines), never by waiting long enough.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from pipelines.store import Store

__all__ = ["FAST", "STOPPING", "Crawl", "crawl_command", "start_crawl", "run_crawl", "stored", "wait_until",
           "kill_leftover_crawls"]

ROOT = Path(__file__).resolve().parents[2]

#: Test-speed settings: the loopback server is fast, a stalled answer is given up on quickly.
FAST = {
    "DOWNLOAD_TIMEOUT": 5,  # short for a stall, long for any page that is answered
    # 2 MB instead of 20: the crawler must read a streamed page past the limit within
    # DOWNLOAD_TIMEOUT, and 20 MB took it 3 s while its workers were starting on a busy
    # machine; 2 MB is read in a tenth of that. The limit's mechanism is the same.
    "DOWNLOAD_MAXSIZE": 2 * 1024 * 1024,
    "RETRY_TIMES": 2,  # the production value, stated: the suite counts the retries
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "LOG_LEVEL": "WARNING",
}


#: Scrapy's log line once a signal (SIGINT, SIGTERM) has stopped the engine: it stopped taking
#: requests from the scheduler and is waiting for those under way (ExecutionEngine.close_spider_async)
STOPPING = "Closing spider (shutdown)"


def crawl_command(db: Path, mirror_url: str, sites=("sx_jcy",), **settings) -> list[str]:
    values = {**FAST, "DJ_DUCKDB_PATH": str(db), "DJ_MIRROR_URL": mirror_url, **settings}
    cmd = [sys.executable, "-m", "scrapy", "crawl", "djcrawl", "-a", f"sites={','.join(sites)}"]
    for name, value in values.items():
        cmd += ["-s", f"{name}={value}"]
    return cmd


def start_crawl(db: Path, mirror_url: str, sites=("sx_jcy",), stdout=subprocess.PIPE,
                **settings) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJCRAWL_DB", "DJ_"))}
    return subprocess.Popen(crawl_command(db, mirror_url, sites, **settings), cwd=ROOT, env=env,
                            stdout=stdout, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


class Crawl:
    """A crawl running in a child process (``scrapy crawl``, or with ``cli=True`` the
    ``djcrawl crawl`` command); its log is read as it comes.

    ``stored_urls()`` are the pages whose item went through every pipeline (Scrapy logs
    "Scraped from" after the last pipeline returned): with ``DJ_BATCH_SIZE=1`` that is
    "written to the database", the moment to kill; otherwise "in the batch".
    ``saw(text)`` tells whether a log line so far holds ``text``: :data:`STOPPING` is
    logged once the engine has begun to stop (no new request starts after it).
    """

    _SCRAPED = re.compile(r"Scraped from <\d+ (\S+)>")

    def __init__(self, db: Path, mirror_url: str, sites=("sx_jcy",), *, cli: bool = False, **settings):
        if cli:
            # the user's command, ``djcrawl crawl --mirror``, with its own settings: only the
            # mirror URL and the log level (for "Scraped from") come from the environment
            assert not settings, "djcrawl crawl takes no Scrapy settings"
            env = {k: v for k, v in os.environ.items() if not k.startswith(("DJCRAWL_", "DJ_"))}
            env.update(DJCRAWL_MIRROR_URL=mirror_url, DJCRAWL_LOG_LEVEL="DEBUG")
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "crawler.cli", "crawl", *sites, "--mirror", "--db", str(db)],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                start_new_session=True)
        else:
            self.proc = start_crawl(db, mirror_url, sites, stdout=subprocess.DEVNULL,
                                    **{"LOG_LEVEL": "DEBUG", **settings})
        self.lines: list[str] = []
        self._log: list[str] = []
        self.stdout = ""
        self._stdout_reader = None
        self._urls: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        _STARTED.append(self)

    def _read(self) -> None:
        if self.proc.stdout is not None:
            self._stdout_reader = threading.Thread(target=self._read_stdout, daemon=True)
            self._stdout_reader.start()
        for line in self.proc.stderr:
            m = self._SCRAPED.search(line)
            with self._lock:
                self._log.append(line)
                if m:
                    self._urls.append(m.group(1))
                # a traceback or an error other than a given-up retry (the faults' own doing)
                if "Traceback" in line or ("ERROR" in line and "Gave up retrying" not in line):
                    self.lines.append(line)

    def _read_stdout(self) -> None:
        self.stdout = self.proc.stdout.read()

    def stored_urls(self) -> list[str]:
        with self._lock:
            return list(self._urls)

    def saw(self, text: str) -> bool:
        with self._lock:
            return any(text in line for line in self._log)

    def running(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        os.killpg(self.proc.pid, sig)

    def wait(self, timeout: float = 120) -> int:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.proc.wait()
            raise AssertionError(f"crawl did not stop in {timeout} s") from None
        self._reader.join(5)
        if self._stdout_reader is not None:
            self._stdout_reader.join(5)
        return code


_STARTED: list[Crawl] = []


def kill_leftover_crawls() -> int:
    """Kill (with their workers) the crawls a test started and left running, as a test that
    failed before its ``wait()`` does; how many there were. Run after every test (conftest)."""
    left = [c for c in _STARTED if c.running()]
    for crawl in left:
        try:
            crawl.signal(signal.SIGKILL)
        except ProcessLookupError:
            pass
        crawl.proc.wait()
    _STARTED.clear()
    return len(left)


def run_crawl(db: Path, mirror_url: str, sites=("sx_jcy",), timeout: float = 300, **settings):
    """Crawl to the end; returns the finished process (returncode, stdout, stderr)."""
    proc = start_crawl(db, mirror_url, sites, **settings)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"crawl did not finish in {timeout} s:\n{err[-3000:]}") from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def wait_until(predicate, timeout: float = 180, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def stored(db: Path) -> dict:
    """What a crawl left in the database: documents, pages, runs and counts."""
    with Store(db, read_only=True) as store:
        _, docs = store.query("SELECT doc_id, url, text, text_original FROM documents WHERE origin = 'crawl'")
        _, hashes = store.query("SELECT doc_id, content_hash FROM documents WHERE origin = 'crawl'")
        _, pages = store.query("SELECT url, kind, status, reason, doc_id FROM pages")
        _, runs = store.query("SELECT run_id, status, pages_fetched, errors FROM crawl_runs ORDER BY started_at")
        _, counts = store.query("SELECT run_id, site, reason, count FROM crawl_run_counts")
    return {
        "docs": {r[0]: {"url": r[1], "text": r[2], "text_original": r[3]} for r in docs},
        "doc_rows": len(docs),
        "hashes": dict(hashes),
        "pages": {r[0]: {"kind": r[1], "status": r[2], "reason": r[3], "doc_id": r[4]} for r in pages},
        "page_rows": len(pages),
        "runs": [dict(zip(("run_id", "status", "pages_fetched", "errors"), r)) for r in runs],
        "counts": {(r[0], r[1], r[2]): r[3] for r in counts},
    }
