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
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from faults.crawl import Crawl, run_crawl, stored, wait_until
from faults.server import FaultServer, delayed, stall
from faults.site import build_paged_site
from pipelines.document import doc_id_for_url

N_ARTICLES, PER_PAGE = 16, 4
ONE_BY_ONE = {"DJ_BATCH_SIZE": 1}
#: DOWNLOAD_TIMEOUT of the graceful-stop tests: how long a download under way may still take
GRACE = 5


def _articles(crawl: Crawl) -> set[str]:
    return {u for u in crawl.stored_urls() if "/t2023" in u}


def _all_stored(crawl: Crawl, cases) -> bool:
    return {c.url for c in cases} <= _articles(crawl)


def _site_with_later_pages(behaviour):
    """``(site, first page's cases, later cases)``: the articles of the later list pages
    answer with ``behaviour(case)`` (stalled or slow), the first page's normally."""
    site = build_paged_site(N_ARTICLES, PER_PAGE)
    later = [c for page in site.pages[1:] for c in page]
    for c in later:
        site.routes[c.path] = behaviour(c)
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
    for c in site.cases:  # slow enough that every kill lands mid-crawl
        site.routes[c.path] = delayed(0.2, c.behaviour)
    db = tmp_path / "killed.duckdb"
    killed_runs = 0
    with FaultServer(site.routes) as server:
        # killed before anything is stored, then after 5 more articles were stored
        for more in (0, 5):
            crawl = Crawl(db, server.url, **ONE_BY_ONE)
            if more == 0:
                wait_until(lambda: server.requests(site.list_paths[0]) > killed_runs or not crawl.running(),
                           what="the first list request")
            else:
                wait_until(lambda: len(_articles(crawl)) >= more or not crawl.running(),
                           what=f"{more} stored articles")
            assert crawl.running(), "the crawl ended before the kill"
            crawl.signal(signal.SIGKILL)
            assert crawl.wait() == -signal.SIGKILL
            killed_runs += 1
            state = stored(db)
            assert_consistent(state)
            assert len(state["docs"]) < N_ARTICLES
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
    site, first, later = _site_with_later_pages(lambda c: stall(60))
    db = tmp_path / "first-page.duckdb"
    with FaultServer(site.routes) as server:
        crawl = Crawl(db, server.url, DOWNLOAD_TIMEOUT=60, **ONE_BY_ONE)
        wait_until(lambda: _all_stored(crawl, first) or not crawl.running(), what="the first page")
        crawl.signal(signal.SIGKILL)
        crawl.wait()
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
    site, first, later = _site_with_later_pages(lambda c: stall(60))
    db = tmp_path / "stopped.duckdb"
    with FaultServer(site.routes) as server:
        crawl = Crawl(db, server.url, DOWNLOAD_TIMEOUT=GRACE, **ONE_BY_ONE)
        wait_until(lambda: _all_stored(crawl, first) or not crawl.running(), what="the first page")
        assert crawl.running()
        crawl.signal(signal.SIGTERM)
        # graceful: the downloads under way end (at most DOWNLOAD_TIMEOUT), nothing new starts
        crawl.wait(timeout=GRACE + 15)
        assert not crawl.lines, crawl.lines
        state = stored(db)
        assert_consistent(state)
        assert set(state["docs"]) == {doc_id_for_url(c.url) for c in first}
        assert [r["status"] for r in state["runs"]] == ["interrupted"]
        for c in later:
            site.routes[c.path] = c.behaviour
        final = run_crawl(db, server.url)
        assert final.returncode == 0, final.stderr[-3000:]
    state = stored(db)
    assert state["hashes"] == reference
    assert [r["status"] for r in state["runs"]] == ["interrupted", "finished"]


def test_ctrl_c_stops_djcrawl_crawl_with_its_summary_and_a_failing_exit(tmp_path):
    # The user's command with its own settings (batches of 50, 30 s timeouts). Later
    # articles are slow, not dead, so the downloads under way end soon after the signal
    # and are stored with the rest of the batch.
    site, first, _later = _site_with_later_pages(lambda c: delayed(3, c.behaviour))
    db = tmp_path / "ctrl-c.duckdb"
    with FaultServer(site.routes) as server:
        crawl = Crawl(db, server.url, cli=True)
        wait_until(lambda: _all_stored(crawl, first) or not crawl.running(), what="the first page")
        assert crawl.running()
        crawl.signal(signal.SIGINT)
        assert crawl.wait(timeout=30) == 1
    assert not crawl.lines, crawl.lines
    assert ": interrupted," in crawl.stdout, crawl.stdout
    state = stored(db)
    assert_consistent(state)
    assert {doc_id_for_url(c.url) for c in first} <= set(state["docs"])
    assert len(state["docs"]) < N_ARTICLES
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
    # the later pages' articles are still to come when the worker dies
    site, first, _later = _site_with_later_pages(lambda c: delayed(3, c.behaviour))
    db = tmp_path / "worker-killed.duckdb"
    with FaultServer(site.routes) as server:
        crawl = Crawl(db, server.url, DJ_WORKERS=1, **ONE_BY_ONE)
        wait_until(lambda: _all_stored(crawl, first) or not crawl.running(), what="the first page's articles")
        assert crawl.running(), "the crawl ended before the kill"
        workers = _workers(crawl.proc.pid)
        assert workers, "no worker process"
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        assert crawl.wait(timeout=90) == 0
    state = stored(db)
    assert_consistent(state)
    assert state["hashes"] == reference
    assert state["runs"][-1]["status"] == "finished" and state["runs"][-1]["errors"] == 0
    assert [line for line in crawl.lines if "Traceback" in line] == []


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
    site, first, _later = _site_with_later_pages(lambda c: delayed(3, c.behaviour))
    with FaultServer(site.routes) as server:
        crawl = Crawl(tmp_path / "orphans.duckdb", server.url, DJ_WORKERS=1, **ONE_BY_ONE)
        wait_until(lambda: _all_stored(crawl, first) or not crawl.running(), what="the first page's articles")
        workers = _workers(crawl.proc.pid)
        assert workers and crawl.running()
        os.kill(crawl.proc.pid, signal.SIGKILL)
        crawl.wait()
        wait_until(lambda: not any(_alive(pid) for pid in workers), timeout=10, what="the workers to end")
