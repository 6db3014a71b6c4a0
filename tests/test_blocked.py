"""Anti-bot answers (pipelines/blocked.py, crawler.middlewares.BlockedPageMiddleware).

The recognition on its own (real article and list pages are never walls), then the real
crawl against a loopback site where three articles answer with walls in the shapes sites
behind 瑞数 / 加速乐-style challenges and slider captchas send: each is counted
``blocked`` once, named in one warning line, requested once (the server's log), and
nothing of it is stored; the healthy articles are.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from faults import server as s
from faults.crawl import run_crawl, stored
from faults.site import build_paged_site
from pipelines.blocked import blocked_rule
from pipelines.document import doc_id_for_url
from pipelines.store import Store

REAL = Path(__file__).parent / "fixtures" / "real_sites"

#: 瑞数-style: HTTP 412, a meta holding the seed, an inline $_ts script and an external one
CHALLENGE_412 = (b'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
                 b'<meta id="9DhefwqGPrzGxEp9hPaoag" content="Hx6PjLDdAyh5bpGv0pBl3a">'
                 b'<script type="text/javascript">$_ts=window[\'$_ts\'];if(!$_ts)$_ts={};$_ts.nsd=85721;'
                 b'$_ts.cd="qbxrrpAlEa3mraEtcsLDcGAlqGGkrGVmcGLlqaVmqqqlrPEtcaLmwGqlrsGm";</script>'
                 b'<script type="text/javascript" charset="utf-8" src="/4QbVtADbnLVIc/d.js"></script>'
                 b'</head><body></body></html>')
#: a 200 shell: a cookie set by a script, then the page reloaded (加速乐-style first answer)
COOKIE_RELOAD = (b'<html><script>document.cookie=("__jsl_clearance=1701430000.123|0|"+'
                 b'"abcDEF%3D")+";max-age=3600;path=/";location.reload();</script></html>')
#: a slider captcha page (阿里云 nc-style)
SLIDER = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>安全验证</title>'
          '<script src="https://g.alicdn.com/AWSC/AWSC/awsc.js"></script></head><body>'
          '<div class="wrapper"><p>请完成安全验证</p><p>请按住滑块，拖动到最右边</p>'
          '<div id="nc" class="nc-container"></div></div>'
          '<script>AWSC.use("nc",function(s,m){m.init({renderTo:"nc",appkey:"FFFF0N0000000000A0F1",'
          'scene:"nc_other_h5"});});</script></body></html>').encode()


@pytest.mark.parametrize("status, body, rule", [
    (412, CHALLENGE_412, "js-challenge"),
    (200, COOKIE_RELOAD, "cookie-reload"),
    (200, SLIDER, "captcha"),
    (200, '<html><body><p>请开启Cookie后刷新本页面。</p></body></html>'.encode(), "cookie-wall"),
])
def test_walls_are_recognised(status, body, rule):
    assert blocked_rule(status, body, "text/html; charset=utf-8") == rule


def test_no_real_page_is_taken_for_a_wall():
    pages = [p for p in REAL.rglob("*") if p.suffix in (".html", ".htm", ".shtml")]
    assert len(pages) >= 20
    assert [p.name for p in pages if blocked_rule(200, p.read_bytes())] == []
    # a short answer that only mentions the words, a 412 without a script, a PDF
    assert blocked_rule(412, b"<html><body>Precondition Failed</body></html>") is None
    assert blocked_rule(200, COOKIE_RELOAD, "application/pdf") is None
    article = "<html><body><h1>网络安全宣传</h1><p>" + "检察机关开展网络安全宣传，提醒群众注意人机验证短信诈骗。" * 20 + "</p></body></html>"
    assert blocked_rule(200, article.encode()) is None


WALLS = {"article-1": (CHALLENGE_412, 412), "article-5": (COOKIE_RELOAD, 200), "article-9": (SLIDER, 200)}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    site = build_paged_site(12, 4)
    walls = {}
    for case in site.cases:
        if case.name in WALLS:
            body, code = WALLS[case.name]
            site.routes[case.path] = s.page(body, code=code)
            walls[case.name] = case
    db = tmp_path_factory.mktemp("blocked") / "blocked.duckdb"
    with s.FaultServer(site.routes) as server:
        result = run_crawl(db, server.url)
        log = Counter(server.log)
        url = server.url
    with Store(db, read_only=True) as store:
        mirrors = store.query("SELECT mirror FROM crawl_runs")[1]
    return {"site": site, "walls": walls, "result": result, "db": stored(db), "log": log, "mirror": url,
            "mirrors": mirrors}


def test_walls_are_counted_blocked_and_not_retried(crawled):
    result, db = crawled["result"], crawled["db"]
    assert result.returncode == 0, result.stderr[-3000:]
    assert [r["status"] for r in db["runs"]] == ["finished"]
    counts = Counter({reason: n for (_run, _site, reason), n in db["counts"].items()})
    assert counts["blocked"] == 3
    assert db["runs"][0]["errors"] == 3
    # one request each in the server's log: no retry, no reload loop
    for case in crawled["walls"].values():
        assert crawled["log"][case.path] == 1, (case.name, crawled["log"])


def test_walls_are_named_in_one_warning_line_each_and_never_stored(crawled):
    stderr, db = crawled["result"].stderr, crawled["db"]
    for case in crawled["walls"].values():
        lines = [line for line in stderr.splitlines() if case.url in line and "blocked" in line]
        assert len(lines) == 1 and "sx_jcy" in lines[0] and "WARNING" in lines[0], lines
        assert case.url not in db["pages"]
        assert doc_id_for_url(case.url) not in db["docs"]
    healthy = [c for c in crawled["site"].cases if c.name not in WALLS]
    assert {doc_id_for_url(c.url) for c in healthy} == set(db["docs"])


def test_a_run_through_a_mirror_is_marked_with_its_url(crawled):
    # the fault server is the crawl's DJ_MIRROR_URL (schema 7, crawl_runs.mirror)
    assert crawled["mirrors"] == [(crawled["mirror"],)]


def _without_hints(status: int, body: bytes) -> str | None:
    import dataclasses

    import pipelines.blocked as b

    saved = b._COMPILED
    b._COMPILED = [(dataclasses.replace(rule, hints=()), patterns) for rule, patterns in saved]
    try:
        return b.blocked_rule(status, body)
    finally:
        b._COMPILED = saved


def test_the_hints_looked_for_first_change_no_answer():
    # every rule's hints are in whatever its patterns match: the same answers with and without
    # them, on the real pages, the walls, and walls written in other cases
    pages = [(200, p.read_bytes()) for p in REAL.rglob("*") if p.suffix in (".html", ".htm", ".shtml")]
    walls = [(412, CHALLENGE_412), (200, COOKIE_RELOAD), (200, SLIDER),
             (200, '<html><body><p>请开启Cookie后刷新本页面。</p></body></html>'.encode())]
    walls += [(status, body.upper()) for status, body in walls] + [(status, body.title()) for status, body in walls]
    walls += [(200, b"<html><body>Please ENABLE   JavaScript to view</body></html>"),
              (200, b"<html><body><div class='geetest_holder'>GeeTest</div></body></html>")]
    answers = [(blocked_rule(status, body), _without_hints(status, body)) for status, body in pages + walls]
    assert all(fast == slow for fast, slow in answers)
    assert sum(1 for fast, _ in answers if fast) >= 10  # the walls were recognised, not only the pages passed
