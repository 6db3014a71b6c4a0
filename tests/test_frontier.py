"""Many crawl nodes and one loader on a real redis-server, against the offline mirror.

Every crawl is a child process (``djcrawl crawl --frontier``, ``djcrawl load``); Redis is
Debian's ``redis-server`` started here on 127.0.0.1 with append-only persistence. The corpus
of each shared crawl must equal the one-process crawl's (``djcrawl crawl`` into one file):
the same documents (doc_id, content_hash) and pages, none twice.

What must happen before a kill is made so by the mirror's holds (a page answered only when
the test lets it) and by what Redis holds (a node's in-flight requests, the stream's pending
entries), never by waiting long enough. The ``timeout=`` values only turn a hang into a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pytest

from crawler.frontier import codec

ROOT = Path(__file__).resolve().parents[1]
#: the sites of the default crawl the mirror serves
SITES = ("cpc_people", "jcrb", "spp")


# ------------------------------------------------------------------ redis-server

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """``redis-server`` on 127.0.0.1, its data in a temporary directory, every write persisted."""

    def __init__(self, binary: str, directory: Path):
        self.binary, self.dir, self.port = binary, directory, _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        import redis

        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        for _ in range(200):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not answer")

    def kill(self) -> None:
        """kill -9: only what the append-only file holds survives."""
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def client(self):
        import redis

        return redis.Redis(port=self.port)


@pytest.fixture(scope="session")
def redis_server():
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(binary):  # Debian's package, installed as the Makefile's tests run (as root)
        subprocess.run("apt-get update -qq && apt-get install -y -qq redis-server", shell=True, check=True,
                       stdout=subprocess.DEVNULL)
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    with tempfile.TemporaryDirectory(prefix="djcrawl-redis-") as tmp:
        server = RedisServer(binary, Path(tmp))
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def frontier(redis_server):
    """The server, emptied for one test."""
    redis_server.client().flushall()
    yield redis_server
    redis_server.client().flushall()


# ------------------------------------------------------------------ the commands

_CHILDREN: list[subprocess.Popen] = []


def _env(mirror) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJCRAWL_", "DJ_"))}
    # the crawl process makes the documents itself: 2 cores are shared by the nodes and the loader
    env.update(DJ_MIRROR_URL=mirror.url, DJ_WORKERS="0", DJ_LOG_LEVEL="WARNING")
    return env


def start(mirror, *args: str, **env) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "crawler.cli", *args], cwd=ROOT, env={**_env(mirror), **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    _CHILDREN.append(proc)
    return proc


def node(mirror, frontier, idle_exit: float = 2) -> subprocess.Popen:
    return start(mirror, "crawl", *SITES, "--frontier", frontier.url, "--idle-exit", str(idle_exit))


def loader(mirror, frontier, db: Path, idle_exit: float = 2, **env) -> subprocess.Popen:
    return start(mirror, "--debug", "load", "--frontier", frontier.url, "--db", str(db), "--idle-exit", str(idle_exit), **env)


def finish(proc: subprocess.Popen, timeout: float = 300) -> str:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out
    return out


@pytest.fixture(autouse=True)
def _no_child_outlives_its_test():
    yield
    while _CHILDREN:
        proc = _CHILDREN.pop()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_until(condition, timeout: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def with_seeds(mirror, db: Path) -> Path:
    """A new database holding the seed reports (the reference set of relevance the loader publishes)."""
    finish(start(mirror, "load-seeds", "--db", str(db), "--quiet"))
    return db


def corpus(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        docs = con.execute("SELECT doc_id, content_hash FROM documents ORDER BY doc_id").fetchall()
        pages = con.execute("SELECT url, doc_id, content_hash FROM pages ORDER BY url").fetchall()
        runs = con.execute("SELECT status FROM crawl_runs").fetchall()
    finally:
        con.close()
    assert len({d for d, _ in docs}) == len(docs)
    return {"documents": docs, "pages": pages, "runs": runs}


@pytest.fixture(scope="module")
def one_process(mirror, tmp_path_factory):
    """The corpus of one ``djcrawl crawl`` process over the mirror."""
    db = with_seeds(mirror, tmp_path_factory.mktemp("one") / "one.duckdb")
    finish(start(mirror, "crawl", *SITES, "--db", str(db)))
    found = corpus(db)
    assert any(doc_id.startswith("u_") for doc_id, _ in found["documents"])  # it did crawl documents
    return found


def inflight_urls(frontier) -> dict[str, set[str]]:
    """Node -> URLs of the requests it took and has not finished."""
    client = frontier.client()
    found = {}
    for key in client.scan_iter(match="djcrawl:inflight:*"):
        found[key.decode().split(":", 2)[2]] = {codec.loads(v)["url"] for v in client.hvals(key)}
    return found


def an_article(one_process) -> str:
    """An article URL the one-process crawl made a document of."""
    con_rows = [url for url, doc_id, _h in one_process["pages"] if doc_id and doc_id.startswith("u_")]
    return sorted(con_rows)[0]


# ------------------------------------------------------------------ tests

def test_two_nodes_one_loader_store_what_one_process_stores(mirror, frontier, one_process, tmp_path):
    db = with_seeds(mirror, tmp_path / "shared.duckdb")
    load = loader(mirror, frontier, db)
    wait_until(lambda: frontier.client().exists("djcrawl:run"), what="the loader's run")
    nodes = [node(mirror, frontier), node(mirror, frontier)]
    outs = [finish(n) for n in nodes]
    out = finish(load)
    assert all("documents sent to the loader (finished)" in o for o in outs), outs
    # between them the nodes fetched every page the one process stored (a page twice at most
    # if a retry or a reclaimed request came back; none is stored twice: see corpus())
    fetched = [int(re.search(r"(\d+) pages, \d+ documents sent", o).group(1)) for o in outs]
    assert sum(fetched) >= len(one_process["pages"]), outs
    assert "status finished" in out, out
    assert corpus(db) == one_process
    # the loader cleared the crawl's keys: the next crawl starts from its own seeds
    assert not list(frontier.client().scan_iter(match="djcrawl:*"))

    # a second run through the frontier knows what the first stored (the loader published it)
    load = loader(mirror, frontier, db)
    wait_until(lambda: frontier.client().exists("djcrawl:run"), what="the loader's second run")
    again = finish(node(mirror, frontier))
    finish(load)
    assert "0 documents sent" in again, again
    con = duckdb.connect(str(db), read_only=True)
    skipped = con.execute("SELECT sum(count) FROM crawl_run_counts WHERE reason = 'skipped-known' AND run_id = "
                          "(SELECT max(run_id) FROM crawl_runs)").fetchone()[0]
    con.close()
    assert skipped and skipped > 0


def test_a_node_killed_mid_crawl_loses_nothing(mirror, frontier, one_process, tmp_path):
    db = with_seeds(mirror, tmp_path / "shared.duckdb")
    held = an_article(one_process)
    load = loader(mirror, frontier, db)
    wait_until(lambda: frontier.client().exists("djcrawl:run"), what="the loader's run")
    with mirror.hold(held) as hold:
        first = node(mirror, frontier)
        assert hold.asked.wait(timeout=180), "the held article was never asked for"
        # the node took it from the queue: it is in that node's in-flight requests, nowhere else
        wait_until(lambda: any(held in urls for urls in inflight_urls(frontier).values()), what="in flight")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    before = mirror_asked(mirror, held)
    # a new node takes the dead node's requests back once its heartbeat has expired
    second = node(mirror, frontier)
    out = finish(second)
    finish(load)
    assert "finished" in out
    assert corpus(db)["documents"] == one_process["documents"]
    assert corpus(db)["pages"] == one_process["pages"]
    assert mirror_asked(mirror, held) > before  # the dead node's request, fetched again by the live one


def mirror_asked(mirror, url: str) -> int:
    return sum(1 for _m, logged, _s, _ua in mirror.log if logged == url)


def test_the_loader_killed_mid_batch_loses_nothing(mirror, frontier, one_process, tmp_path):
    db = with_seeds(mirror, tmp_path / "shared.duckdb")
    client = frontier.client()
    first = loader(mirror, frontier, db, DJ_BATCH_SIZE="3")
    wait_until(lambda: client.exists("djcrawl:run"), what="the loader's run")
    os.killpg(first.pid, signal.SIGSTOP)  # it reads nothing while the nodes crawl
    finish(node(mirror, frontier))
    entries = client.xlen("djcrawl:results")
    assert entries > 10
    # let it go on, stopping it again until it is caught between reading a batch and acknowledging it
    caught = False
    for _ in range(5000):
        os.killpg(first.pid, signal.SIGCONT)
        time.sleep(0.002)
        os.killpg(first.pid, signal.SIGSTOP)
        wait_until(lambda: _state(first.pid) == "T", what="the loader stopped")
        if client.xpending("djcrawl:results", "loader")["pending"]:
            caught = True
            break
    assert caught, "the loader was never caught mid-batch"
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert client.xpending("djcrawl:results", "loader")["pending"] > 0
    out = finish(loader(mirror, frontier, db))
    assert "status finished" in out, out
    assert corpus(db) == one_process


def _state(pid: int) -> str:
    """The process state letter of ``pid`` (``T``: stopped)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_a_redis_restart_loses_nothing(mirror, frontier, one_process, tmp_path):
    db = with_seeds(mirror, tmp_path / "shared.duckdb")
    held = an_article(one_process)
    load = loader(mirror, frontier, db)
    wait_until(lambda: frontier.client().exists("djcrawl:run"), what="the loader's run")
    with mirror.hold(held) as hold:
        crawl = node(mirror, frontier)
        assert hold.asked.wait(timeout=180), "the held article was never asked for"
        wait_until(lambda: any(held in urls for urls in inflight_urls(frontier).values()), what="in flight")
        seen = frontier.client().scard("djcrawl:dupefilter")
        entries = frontier.client().xlen("djcrawl:results")
        frontier.kill()  # kill -9: only the append-only file survives
        frontier.start()
        # the duplicate filter, the stream and the node's in-flight requests are back (the node and
        # the loader, reconnected, may have moved on since: these only grow while the page is held)
        assert frontier.client().scard("djcrawl:dupefilter") >= seen > 0
        assert frontier.client().xlen("djcrawl:results") >= entries > 0
        assert any(held in urls for urls in inflight_urls(frontier).values())
    out = finish(crawl)
    finish(load)
    assert "finished" in out
    assert corpus(db) == one_process


@pytest.mark.parametrize("args, says", [
    (["load", "--frontier", "redis://127.0.0.1:{dead}/0"], "not reachable"),
    (["crawl", "spp", "--frontier", "http://127.0.0.1:6379/0"], "is not a redis:// URL"),
    (["load", "--frontier", "{url}", "--idle-exit", "-1"], "--idle-exit must be"),
    (["crawl", "spp", "--frontier", "{url}", "--db", "x.duckdb"], "a node writes no database"),
])
def test_a_bad_frontier_is_one_line(mirror, frontier, tmp_path, args, says):
    args = [a.format(dead=_free_port(), url=frontier.url) for a in args]
    proc = start(mirror, *args, "--db", str(tmp_path / "x.duckdb")) if args[0] == "load" else start(mirror, *args)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1, out
    assert out.strip().splitlines() == [out.strip().splitlines()[0]] and says in out and "Traceback" not in out
    assert not (tmp_path / "x.duckdb").exists()


def test_a_mirror_node_refuses_a_loader_of_real_crawls(mirror, frontier, tmp_path):
    from pipelines.store import Store

    db = tmp_path / "real.duckdb"
    with Store(db) as store:
        store.start_run("20261201T000000-aaaaaa", ["spp"], mirror=None)  # a crawl of the real site
    load = loader(mirror, frontier, db)
    wait_until(lambda: frontier.client().exists("djcrawl:run"), what="the loader's run")
    proc = node(mirror, frontier)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "holds 1 crawls of the real sites" in out and "Traceback" not in out
    assert frontier.client().xlen("djcrawl:results") == 0  # it sent nothing
    assert not frontier.client().exists("djcrawl:seeded")  # nor seeded the frontier
    os.killpg(load.pid, signal.SIGTERM)
    load.wait()


# ------------------------------------------------------------------ what travels through Redis

def test_messages_are_json_records_never_code():
    """A result and a queued request go through Redis as JSON: the records come back equal,
    bytes, dates, tuples and dict keys included, and a message naming any other class (or a
    pickle) is refused instead of being run."""
    import datetime as dt
    import json

    from pipelines.documents import document_from_html
    from pipelines.page import Page

    html = ("<html><head><meta charset='utf-8'></head><body><h1>检察官走进社区开展普法宣传</h1><p>"
            + "人民检察院深入推进党建工作与检察业务深度融合。" * 6 + "</p></body></html>")
    doc = document_from_html(html, url="https://www.spp.gov.cn/spp/a/202405/t20240510_1.shtml")
    page = Page(url=doc.url, site="spp", kind="article", status=200, body=html.encode("gb18030"),
                fetched_at=dt.datetime(2024, 5, 10, 9, 30, tzinfo=dt.timezone.utc))
    payload = {"pages": [page], "document": doc, "counts": {("spp", "document"): 1}, "sites": ("spp",)}
    back = codec.loads(codec.dumps(payload))
    assert back == payload and back["pages"][0].body == page.body and back["document"].published == doc.published
    request = {"url": doc.url, "headers": {b"Referer": [b"https://www.spp.gov.cn/"]}, "body": b"", "priority": 0}
    assert codec.loads(codec.dumps(request)) == request
    with pytest.raises(ValueError):
        codec.loads(json.dumps({"$r": "Popen", "f": {"args": "true"}}).encode())
    with pytest.raises(ValueError):
        codec.loads(b"\x80\x05\x95")  # a pickle is no message
    with pytest.raises(TypeError):
        codec.dumps({"x": object()})
