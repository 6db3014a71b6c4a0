"""The real crawl against a server that misbehaves on purpose (tests/faults/).

One crawl of a site in the sx_jcy layout whose list links to healthy articles and
to one article per fault (5xx, 404/410, stalls, slow and reset bodies, redirect
loop, robots.txt, pages over the size limit, binary and lying gzip bodies, wrong charsets,
broken tags, an empty 200; endless and self-linking list pages). Asserted on what
is stored afterwards: every healthy article exactly once, nothing from a failed
page, every failure counted by reason in crawl_run_counts. A second run on the
same file adds nothing.
"""

from __future__ import annotations

from collections import Counter

import pytest

from faults.crawl import run_crawl, stored
from faults.server import FaultServer, status
from faults.site import build_fault_site, build_paged_site
from pipelines.document import doc_id_for_url

#: Failures of the fetch itself (crawl_runs.errors); the other failures are pages that are no article.
FETCH_ERRORS = {"http-500", "http-502", "http-503", "http-404", "http-410", "stall", "slow-body",
                "reset-mid-body", "huge-announced", "huge-streamed", "gzip-that-lies", "gzip-truncated",
                "redirect-loop"}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    site = build_fault_site()
    db = tmp_path_factory.mktemp("faults") / "faults.duckdb"
    with FaultServer(site.routes) as server:
        first = run_crawl(db, server.url)
        after_first = stored(db)
        requests_first = Counter(server.log)
        # the second run meets quick failures where the first waited (stalls, oversized pages)
        for name in ("stall", "slow-body", "huge-announced", "huge-streamed"):
            site.routes[site.case(name).path] = status(404)
        second = run_crawl(db, server.url)
        after_second = stored(db)
        requests_second = Counter(server.log) - requests_first
    return {"site": site, "first": first, "second": second, "db1": after_first, "db2": after_second,
            "req1": requests_first, "req2": requests_second}


def _counts(state: dict, run_index: int) -> Counter:
    run_id = state["runs"][run_index]["run_id"]
    return Counter({reason: n for (rid, site, reason), n in state["counts"].items() if rid == run_id})


def test_the_crawl_finishes_and_its_run_is_recorded(crawled):
    first = crawled["first"]
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Traceback" not in first.stderr, first.stderr[-3000:]
    runs = crawled["db1"]["runs"]
    assert [r["status"] for r in runs] == ["finished"]


def test_every_healthy_article_is_stored_exactly_once(crawled):
    site, db = crawled["site"], crawled["db1"]
    assert len(site.good) >= 15
    for case in site.good:
        holders = [doc_id for doc_id, d in db["docs"].items() if case.sentence in d["text_original"]]
        assert holders == [doc_id_for_url(case.url)], f"{case.name}: {holders}"
        assert db["docs"][holders[0]]["url"] == case.url
    assert db["doc_rows"] == len(db["docs"]) == len(site.good)


def test_wrong_charset_declarations_are_decoded_by_the_bytes(crawled):
    db, site = crawled["db1"], crawled["site"]
    for name in ("gbk-declared-utf8", "utf8-declared-gbk"):
        text = db["docs"][doc_id_for_url(site.case(name).url)]["text_original"]
        assert "\ufffd" not in text and site.case(name).sentence in text


def test_nothing_is_stored_from_a_failed_page(crawled):
    db, site = crawled["db1"], crawled["site"]
    for case in site.cases:
        if case.sentence is None:
            assert doc_id_for_url(case.url) not in db["docs"], case.name
            page = db["pages"].get(case.url)
            # a page that arrived is kept with the reason it is no document; a failed fetch leaves no row
            assert page is None or (page["doc_id"] is None and page["reason"]), (case.name, page)


def test_every_failure_is_counted_by_its_reason(crawled):
    site, db = crawled["site"], crawled["db1"]
    counts = _counts(db, 0)
    expected = Counter(c.reason for c in site.cases if c.reason)
    assert len(expected) >= 12
    for reason, n in expected.items():
        assert counts[reason] == n, (reason, counts)
    assert counts["document"] == len(site.good)
    assert db["runs"][0]["errors"] == len(FETCH_ERRORS), (db["runs"][0], counts)


def test_server_errors_and_broken_connections_are_retried_then_given_up(crawled):
    site, seen = crawled["site"], crawled["req1"]
    for case in site.cases:
        if case.requests is not None:
            assert seen[case.path] == case.requests, (case.name, seen[case.path])
    # a 404 or 410 is an answer, not a fault: asked once
    assert seen[site.case("http-404").path] == 1 and seen[site.case("http-410").path] == 1


def test_robots_txt_disallow_is_obeyed(crawled):
    site = crawled["site"]
    assert crawled["req1"][site.case("robots-disallowed").path] == 0
    assert crawled["req1"]["/robots.txt"] == 1


def test_endless_and_self_linking_list_pages_end_at_max_pages(crawled):
    site, seen = crawled["site"], crawled["req1"]
    fetched = [p for p in site.list_paths if seen[p]]
    assert all(seen[p] == 1 for p in fetched), "a list page linking to itself was fetched again"
    assert len(fetched) == site.config.list.max_pages
    assert fetched == site.list_paths[: site.config.list.max_pages]
    assert _counts(crawled["db1"], 0)["list-max-pages"] == 1  # the cut is said, not silent
    # articles linked from several list pages are fetched once
    again = {c.name: seen[c.path] for c in site.good if seen[c.path] > (c.requests or 1)}
    assert not again, again


def test_a_second_run_adds_nothing_and_fetches_no_stored_article_again(crawled):
    site, before, after = crawled["site"], crawled["db1"], crawled["db2"]
    assert crawled["second"].returncode == 0, crawled["second"].stderr[-3000:]
    assert after["hashes"] == before["hashes"]
    assert after["doc_rows"] == before["doc_rows"] and after["page_rows"] == before["page_rows"]
    again = crawled["req2"]
    for case in site.good:
        assert again[case.path] == 0, case.name
    counts = _counts(after, 1)
    assert counts["document"] == 0 and counts["skipped-known"] >= len(site.good)
    # failed pages are tried again, and fail again under the same reasons
    assert again[site.case("http-500").path] == 3 and counts["http-500"] == 1


def test_a_list_page_that_failed_is_walked_again_by_the_next_run(tmp_path):
    # Run 1: the second list page answers 503 (after the retries), so its articles are never
    # seen; the first page's are stored. Run 2, server healthy: the first list page is all
    # known, yet the walk must go on, or the second page's articles would wait for the site
    # to publish something new.
    # Run 1 also has no robots.txt to read (500): Scrapy then crawls as if nothing were disallowed.
    site = build_paged_site(8, 4)
    second_list = site.list_paths[1]
    healthy, robots = site.routes[second_list], site.routes["/robots.txt"]
    site.routes[second_list] = status(503)
    site.routes["/robots.txt"] = status(500)
    db = tmp_path / "list-failed.duckdb"
    with FaultServer(site.routes) as server:
        first = run_crawl(db, server.url)
        assert first.returncode == 0, first.stderr[-3000:]
        after = stored(db)
        assert set(after["docs"]) == {doc_id_for_url(c.url) for c in site.pages[0]}
        assert {("sx_jcy", "http-503"), ("sx_jcy", "list-failed")} <= {(s, r) for (_, s, r) in after["counts"]}
        site.routes[second_list], site.routes["/robots.txt"] = healthy, robots
        second = run_crawl(db, server.url)
        assert second.returncode == 0, second.stderr[-3000:]
    assert set(stored(db)["docs"]) == {doc_id_for_url(c.url) for c in site.cases}
