"""An article whose fetch failed is asked for again by the next runs, whatever their list
walks reach, until DJ_RETRY_FAILED runs have failed it. Real crawls in a child process
against the offline mirror, which answers 500 for the article while a test says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.mirror.pages import build_mirror
from crawler.siteconfig import load_sites
from pipelines.document import doc_id_for_url
from pipelines.store import Store

ROOT = Path(__file__).resolve().parent.parent
SITE = "zmdnews"  # one channel, a list of several pages
CONFIG = {c.name: c for c in load_sites(every=True)}[SITE]
PAGES, SITES = build_mirror()


def _article_past_the_first_list_page() -> str:
    """An article the first list page does not link: a run whose walk stops at that page
    (every article on it known) never reaches it through the list."""
    first = PAGES[CONFIG.start_urls[0]].body.decode("utf-8", "replace")
    later = [u for u in SITES[SITE].article_urls if u.rsplit("/", 1)[-1] not in first]
    assert later, "the mirror's list of this site should go on past its first page"
    return later[0]


ARTICLE = _article_past_the_first_list_page()


def crawl(mirror, db: Path, **env) -> subprocess.CompletedProcess:
    start = len(mirror.log)
    result = subprocess.run([sys.executable, "-m", "crawler.cli", "crawl", SITE, "--db", str(db), "--workers", "0"],
                            cwd=ROOT, env={**os.environ, "DJ_MIRROR_URL": mirror.url, **env},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr  # one failed article: the site still works
    result.asked = sum(1 for _m, url, _s, _ua in mirror.log[start:] if url == ARTICLE)
    return result


def state(db: Path) -> dict:
    with Store(db, read_only=True) as store:
        (run_id,), = store.query("SELECT run_id FROM crawl_runs ORDER BY started_at DESC LIMIT 1")[1]
        failures = store.query("SELECT url, attempts, reason FROM fetch_failures")[1]
        return {"counts": {r: n for (s, r), n in store.run_counts(run_id).items() if s == SITE},
                "failures": {url: (attempts, reason) for url, attempts, reason in failures},
                "stored": store.document_exists(doc_id_for_url(ARTICLE))}


@pytest.fixture
def failed_once(mirror, tmp_path):
    db = tmp_path / "dj.duckdb"
    with mirror.failing(ARTICLE, status=500):
        first = crawl(mirror, db, DJ_RETRY_FAILED="2")
    assert first.asked >= 1
    after = state(db)
    assert after["failures"] == {ARTICLE: (1, "http-500")} and not after["stored"]
    assert after["counts"]["http-500"] == 1 and "retry-failed" not in after["counts"]
    return db


def test_a_failed_article_is_asked_again_by_the_next_run_and_stored(mirror, failed_once):
    second = crawl(mirror, failed_once, DJ_RETRY_FAILED="2")
    after = state(failed_once)
    assert second.asked == 1 and after["stored"] and after["failures"] == {}
    assert after["counts"]["retry-failed"] == 1 and after["counts"]["document"] == 1
    # the list walk itself stopped before the article's list page
    assert after["counts"]["list-stop-all-known"] >= 1
    assert "retry-failed 1" in second.stdout


def test_an_article_still_failing_is_given_up_after_the_limit(mirror, failed_once):
    with mirror.failing(ARTICLE, status=503):
        second = crawl(mirror, failed_once, DJ_RETRY_FAILED="2")
    after = state(failed_once)
    assert second.asked >= 1 and not after["stored"]
    assert after["failures"] == {ARTICLE: (2, "http-503")}
    assert after["counts"]["retry-failed"] == 1 and after["counts"]["gave-up"] == 1
    assert "gave-up 1" in second.stdout
    # the limit reached, the next run does not ask for it (and counts nothing of it)
    with mirror.failing(ARTICLE, status=503):
        third = crawl(mirror, failed_once, DJ_RETRY_FAILED="2")
    after = state(failed_once)
    assert third.asked == 0 and not after["stored"]
    assert "retry-failed" not in after["counts"] and "gave-up" not in after["counts"]
    assert "http-503" not in after["counts"]


def test_a_page_that_is_not_there_is_not_asked_again(mirror, tmp_path):
    db = tmp_path / "dj.duckdb"
    with mirror.failing(ARTICLE, status=404):
        crawl(mirror, db)
    assert state(db)["failures"] == {}
