"""A crawl killed at any moment, then run again, ends with the documents of an uninterrupted crawl.

The real crawl (``scrapy crawl djcrawl``, a child process) against a loopback site
of 16 articles on 4 list pages. Pages are written one at a time
(``DJ_BATCH_SIZE=1``) so that a kill lands between writes, and the kill moments are
taken from the crawl's own log: "Scraped from" is logged after the item's batch
was committed. After every kill the file must be consistent (no page naming a
missing document, no document without its page); after the last re-run it must
hold exactly the documents (doc_id and content_hash) of the uninterrupted crawl.
SIGTERM (``scrapy crawl``) and Ctrl-C (``djcrawl crawl``) stop the crawl gracefully and
record the run as interrupted.

What the crawl may have fetched when the signal lands is set by the test, not by the
clock: the pages it must not have yet are held by the fault server's Gate until the
test has delivered the signal (and, for a graceful stop, until the crawl's log says
the engine is stopping). A held download never ends by its DOWNLOAD_TIMEOUT unless a
test means it to (HOLD).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from faults.crawl import STOPPING, Crawl, run_crawl, stored, wait_until
from faults.server import FaultServer, Gate
from faults.site import build_paged_site
from pipelines.document import doc_id_for_url

N_ARTICLES, PER_PAGE = 16, 4
ONE_BY_ONE = {"DJ_BATCH_SIZE": 1}
#: DOWNLOAD_TIMEOUT of the graceful-stop test: how long a download under way may still take
GRACE = 5
#: DOWNLOAD_TIMEOUT where held downloads must wait for the test (a kill, an opened gate),
#: never time out: longer than any test runs
HOLD = 3600


def _articles(crawl: Crawl) -> set[str]:
    return {u for u in crawl.stored_urls() if "/t2023" in u}


def _all_stored(crawl: Crawl, cases) -> bool:
    return {c.url for c in cases} <= _articles(crawl)


def _site_with_later_pages(gate: Gate):
    """``(site, first page's cases, later cases)``: the articles of the later list pages
    are held by ``gate`` until the test opens it, the first page's answer at once."""
    site = build_paged_site(N_ARTICLES, PER_PAGE)
    later = [c for page in site.pages[1:] for c in page]
    for c in later:
        site.routes[c.path] = gate.hold(c.behaviour)
    return site, site.pages[0], later


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """doc_id -> content_hash of an uninterrupted crawl."""
    site = build_paged_site(N_ARTICLES, PER_PAGE)
    db = tmp_path_factory.mktemp("reference") / "reference.duckdb"
    with FaultServer(site.routes) as server:
        proc = run_crawl(db, server.url)
    assert proc.returncode == 0, proc.stderr[-3000:]
    hashes = stored(db)["hashes"]
    assert set(hashes) == {doc_id_for_url(c.url) for c in site.cases}
    return hashes


def assert_consistent(state: dict) -> None:
    """No half-written rows: pages and documents agree, nothing twice."""
    docs = set(state["docs"])
    named = {p["doc_id"] for p in state["pages"].values() if p["doc_id"]}
    assert named == docs, f"pages name {named - docs or '-'} missing; documents {docs - named or '-'} have no page"
    assert state["doc_rows"] == len(docs) and state["page_rows"] == len(state["pages"])
    for url, page in state["pages"].items():
        if page["kind"] == "article" and page["status"] == 200:
            assert page["doc_id"] == doc_id_for_url(url), url


def test_sigkill_at_several_moments_then_a_rerun_gives_the_uninterrupted_result(reference, tmp_path):
    site = build_paged_site(N_ARTICLES, PER_PAGE)
    db = tmp_path / "killed.duckdb"
    killed_runs = 0
    with FaultServer(site.routes) as server:
        # killed at its first list request, before any article can be stored; then once 5
        # articles are stored: only the first 5 article requests are answered before the
        # kill, the others are held, so the kill lands mid-crawl and between writes
        for more in (0, 5):
            gate = Gate(free=more)
            for c in site.cases:
                site.routes[c.path] = gate.hold(c.behaviour)
            crawl = Crawl(db, server.url, DOWNLOAD_TIMEOUT=HOLD, **ONE_BY_ONE)
            if more == 0:
                wait_until(lambda: server.requests(site.list_paths[0]) > killed_runs or not crawl.running(),
                           what="the first list request")
            else:
                wait_until(lambda: len(_articles(crawl)) >= more or not crawl.running(),
                           what=f"{more} stored articles")
            assert crawl.running(), "the crawl ended before the kill"
            crawl.signal(signal.SIGKILL)
            assert crawl.wait() == -signal.SIGKILL
            gate.open()  # the killed crawl's held requests now answer a closed socket
            killed_runs += 1
            state = stored(db)
            assert_consistent(state)
            assert len(state["docs"]) == more
        for c in site.cases:
            site.routes[c.path] = c.behaviour
        final = run_crawl(db, server.url)
        assert final.returncode == 0, final.stderr[-3000:]
    state = stored(db)
    assert_consistent(state)
    assert state["hashes"] == reference
    statuses = [r["status"] for r in state["runs"]]
    # killed runs cannot say so themselves: the next run marks them interrupted
    assert statuses == ["interrupted"] * killed_runs + ["finished"], statuses


def test_a_crash_after_a_whole_list_page_was_stored_loses_no_article_of_later_pages(reference, tmp_path):
    # The first list page's articles arrive, the later pages' articles hang; the kill comes
    # when the first page is completely stored. A re-run must not take "every article of
    # the first list page is known" for "nothing new down this list".
    gate = Gate()
    site, first, later = _site_with_later_pages(gate)
    db = tmp_path / "first-page.duckdb"
    with FaultServer(site.routes) as server:
        crawl = Crawl(db, server.url, DOWNLOAD_TIMEOUT=HOLD, **ONE_BY_ONE)
        wait_until(lambda: _all_stored(crawl, first) or not crawl.running(), what="the first page")
        assert crawl.running(), "the crawl ended before the kill"
        crawl.signal(signal.SIGKILL)
        assert crawl.wait() == -signal.SIGKILL
        gate.open()
        state = stored(db)
        assert set(state["docs"]) == {doc_id_for_url(c.url) for c in first}
        for c in later:  # the server is healthy again
            site.routes[c.path] = c.behaviour
        final = run_crawl(db, server.url)
        assert final.returncode == 0, final.stderr[-3000:]
    state = stored(db)
    assert_consistent(state)
    assert state["hashes"] == reference


def test_sigterm_stops_gracefully_and_records_the_run_as_interrupted(reference, tmp_path):
    # The later articles never answer during this crawl (the gate stays shut), and their
    # timed-out downloads are retried without end: the crawl can only end by the signal.
    gate = Gate()
    site, first, later = _site_with_later_pages(gate)
    db = tmp_path / "stopped.duckdb"
    with FaultServer(site.routes) as server:
        crawl = Crawl(db, server.url, DOWNLOAD_TIMEOUT=GRACE, RETRY_TIMES=1000, **ONE_BY_ONE)
        wait_until(lambda: _all_stored(crawl, first) or not crawl.running(), what="the first page")
        assert crawl.running()
        crawl.signal(signal.SIGTERM)
        # graceful: the downloads under way end (by DOWNLOAD_TIMEOUT: they are never
        # answered), nothing new starts, not even their retries; a crawl that waited for
        # them would never stop; stopped, not finished: the exit says so (130, as djcrawl crawl)
        assert crawl.wait() == 130
        assert crawl.saw(STOPPING)
        assert not crawl.lines, crawl.lines
        state = stored(db)
        assert_consistent(state)
        assert set(state["docs"]) == {doc_id_for_url(c.url) for c in first}
        assert [r["status"] for r in state["runs"]] == ["interrupted"]
        for c in later:
            site.routes[c.path] = c.behaviour
        gate.open()
        final = run_crawl(db, server.url)
        assert final.returncode == 0, final.stderr[-3000:]
    state = stored(db)
    assert state["hashes"] == reference
    assert [r["status"] for r in state["runs"]] == ["interrupted", "finished"]


def test_ctrl_c_stops_djcrawl_crawl_with_its_summary_and_a_failing_exit(tmp_path):
    # The user's command with its own settings (batches of 50, 30 s timeouts). The later
    # articles are held until Ctrl-C has stopped the engine, then answered: the downloads
    # under way end and are stored with the rest of the batch, and no other request
    # starts. Under way are at most CONCURRENT_REQUESTS (8) requests, fewer than the 12
    # later articles, so some are never fetched.
    gate = Gate()
    site, first, later = _site_with_later_pages(gate)
    db = tmp_path / "ctrl-c.duckdb"
    with FaultServer(site.routes) as server:
        crawl = Crawl(db, server.url, cli=True)
        wait_until(lambda: _all_stored(crawl, first) or not crawl.running(), what="the first page")
        assert crawl.running()
        assert server.completed([c.path for c in later]) == 0
        crawl.signal(signal.SIGINT)
        wait_until(lambda: crawl.saw(STOPPING) or not crawl.running(), what="the engine to stop")
        gate.open()
        assert crawl.wait() == 130  # interrupted (README, "Exit codes")
    assert not crawl.lines, crawl.lines
    assert ": interrupted," in crawl.stdout, crawl.stdout
    state = stored(db)
    assert_consistent(state)
    assert {doc_id_for_url(c.url) for c in first} <= set(state["docs"])
    assert len(state["docs"]) < N_ARTICLES
    assert crawl.saw(STOPPING)
    assert [r["status"] for r in state["runs"]] == ["interrupted"]


def _workers(pid: int) -> list[int]:
    """The spawned pool workers among ``pid``'s children (not multiprocessing's resource tracker)."""
    kids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(k) for k in (task / "children").read_text().split()]
    return [k for k in kids if b"spawn_main" in Path(f"/proc/{k}/cmdline").read_bytes()]


def test_a_document_worker_killed_mid_crawl_is_replaced_and_no_document_is_lost(reference, tmp_path):
    # The crawl makes documents in a worker process; one killed by the OOM killer (here
    # SIGKILL) takes every page it held with it. The crawl must start a new worker, try
    # those pages again there, and end with every document of an uninterrupted crawl.
    # The worker is stopped (SIGSTOP) before the later pages' articles are let through: they
    # go to it and stay there, no document made, until it is killed.
    gate = Gate()
    site, first, later = _site_with_later_pages(gate)
    db = tmp_path / "worker-killed.duckdb"
    with FaultServer(site.routes) as server:
        crawl = Crawl(db, server.url, DJ_WORKERS=1, DOWNLOAD_TIMEOUT=HOLD, **ONE_BY_ONE)
        wait_until(lambda: _all_stored(crawl, first) or not crawl.running(), what="the first page's articles")
        assert crawl.running(), "the crawl ended before the kill"
        workers = _workers(crawl.proc.pid)
        assert workers, "no worker process"
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)
        gate.open()
        # every later article downloaded (Scrapy logs "Crawled" as a response arrives) and on
        # its way to the stopped worker; none can have become a document
        wait_until(lambda: all(crawl.saw(f"Crawled (200) <GET {c.url}>") for c in later) or not crawl.running(),
                   what="the later articles to be downloaded")
        assert crawl.running() and not {c.url for c in later} & _articles(crawl)
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        assert crawl.wait() == 0
    state = stored(db)
    assert_consistent(state)
    assert state["hashes"] == reference
    assert state["runs"][-1]["status"] == "finished" and state["runs"][-1]["errors"] == 0
    assert [line for line in crawl.lines if "Traceback" in line] == []
    assert crawl.saw("a document worker died; starting a new one")  # the pool was replaced


def _alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_document_workers_do_not_outlive_a_killed_crawl(tmp_path):
    # SIGKILL to the crawl process alone (an OOM kill, `kill -9 <pid>`): its workers must
    # not linger, holding memory, waiting for pages that never come.
    # the later pages' articles are held, so the crawl is mid-way when it is killed
    gate = Gate()
    site, first, _later = _site_with_later_pages(gate)
    with FaultServer(site.routes) as server:
        crawl = Crawl(tmp_path / "orphans.duckdb", server.url, DJ_WORKERS=1, DOWNLOAD_TIMEOUT=HOLD, **ONE_BY_ONE)
        wait_until(lambda: _all_stored(crawl, first) or not crawl.running(), what="the first page's articles")
        workers = _workers(crawl.proc.pid)
        assert workers and crawl.running()
        os.kill(crawl.proc.pid, signal.SIGKILL)
        assert crawl.wait() == -signal.SIGKILL
        # the workers are killed by the kernel when their parent dies (PR_SET_PDEATHSIG): the
        # limit only turns a worker that lingers into a failure
        wait_until(lambda: not any(_alive(pid) for pid in workers), timeout=60, what="the workers to end")
