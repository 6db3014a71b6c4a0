"""`djcrawl report`: one self-contained HTML file whose charts draw in a real browser
(Debian's headless Chromium) with every network request refused.

The database is made by a real crawl of the offline mirror (`djcrawl demo`, which loads
the seeds too) and a second crawl of it, so there are two runs to chart. What each chart
drew (bars, axis labels, legend entries) is read from the DOM Chromium dumps after the
page's scripts ran, and compared with what plain SQL on the file says.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import lxml.html
import pytest

from crawler.cli import main
from crawler.cli.report import CHARTS, PLOTLY_SCRIPT_ID
from crawler.outcomes import category

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
#: Chromium's own services it may call in the background whatever the flags say; the
#: page must ask for nothing else.
CHROMIUM_OWN_HOSTS = ("google.com", "googleapis.com", "gstatic.com", "googleusercontent.com")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium, installed with apt-get when it is missing (the tests run as root)."""
    if not CHROMIUM.exists():
        if os.geteuid() != 0:
            pytest.fail("chromium is not installed and only root can install it: apt-get install -y chromium")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=900)
        subprocess.run(["apt-get", "install", "-y", "-qq", "-o", "DPkg::Lock::Timeout=600", "chromium"],
                       check=True, env=env, timeout=1800)
    assert CHROMIUM.exists()
    return CHROMIUM


class RefusingProxy:
    """An HTTP proxy on 127.0.0.1 that answers nothing: it notes each request's first line
    and closes the connection, so a page that needs the network cannot get it."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.requests: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    self.requests.append(conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1"))
                except OSError:
                    pass

    def hosts(self) -> set[str]:
        """The host each request named (``CONNECT host:443`` or ``GET http://host/...``)."""
        out = set()
        for line in self.requests:
            parts = line.split()
            if len(parts) < 2:
                continue
            target = parts[1].split("://", 1)[-1]
            out.add(target.split("/", 1)[0].rsplit(":", 1)[0])
        return out

    def page_hosts(self) -> set[str]:
        return {h for h in self.hosts() if not any(h == d or h.endswith("." + d) for d in CHROMIUM_OWN_HOSTS)}

    def close(self):
        self.sock.close()


def render(chromium: Path, page: Path, profile: Path) -> tuple[lxml.html.HtmlElement, RefusingProxy]:
    """The DOM of ``page`` after its scripts ran in headless Chromium, with the network refused."""
    proxy = RefusingProxy()
    try:
        result = subprocess.run(
            [str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", f"--proxy-server=http://127.0.0.1:{proxy.port}",
             "--proxy-bypass-list=<-loopback>", "--virtual-time-budget=15000", "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=240)
    finally:
        proxy.close()
    assert result.returncode == 0, result.stderr[-2000:]
    assert "<html" in result.stdout
    return lxml.html.fromstring(result.stdout), proxy


def _class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def chart(dom, name: str):
    found = dom.xpath(f"//div[@id='chart-{name}']")
    assert len(found) == 1, f"no div of chart {name}"
    return found[0]


def svgs(div) -> list:
    return div.xpath(f".//*[local-name()='svg' and {_class('main-svg')}]")


def bar_traces(div) -> list:
    return div.xpath(f".//*[local-name()='g' and {_class('trace')} and {_class('bars')}]")


def bars(div) -> list:
    """Bars drawn with a height (a zero-height bar is drawn as an empty path ``M0,0Z``)."""
    return [p for p in div.xpath(f".//*[local-name()='g' and {_class('point')}]/*[local-name()='path']")
            if p.get("d") and p.get("d") != "M0,0Z"]


def tick_labels(div, axis: str) -> list[str]:
    return [t.text_content() for t in div.xpath(f".//*[local-name()='g' and {_class(axis + 'tick')}]"
                                                 f"/*[local-name()='text']")]


def legend_labels(div) -> set[str]:
    return {t.text_content() for t in div.xpath(
        f".//*[local-name()='g' and {_class('traces')}]/*[local-name()='text' and {_class('legendtext')}]")}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> Path:
    """A database made by `djcrawl demo` (mirror crawl + seeds) and one more mirror crawl."""
    db = tmp_path_factory.mktemp("report") / "crawled.duckdb"
    for argv in (["demo", "--db", str(db)], ["crawl", "--mirror", "--db", str(db)]):
        done = subprocess.run([sys.executable, "-m", "crawler.cli", *argv], cwd=ROOT, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    return db


@pytest.fixture(scope="module")
def report(crawled, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report-out") / "report.html"
    assert main(["report", "--db", str(crawled), "--out", str(out)]) == 0
    return out


def sql(db: Path, query: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def test_the_report_is_one_file_that_loads_nothing(report):
    page = report.read_text(encoding="utf-8")
    dom = lxml.html.fromstring(page)
    assert dom.xpath("//script[@src] | //link[@href] | //img[@src] | //iframe") == []
    inline = dom.xpath(f"//script[@id='{PLOTLY_SCRIPT_ID}']")
    assert len(inline) == 1 and len(inline[0].text) > 1_000_000  # plotly.js itself, inlined
    assert [d.get("id") for d in dom.xpath("//div[@class='chart']//div[starts-with(@id, 'chart-')]")] == [
        f"chart-{name}" for name in CHARTS]


def test_every_chart_draws_in_chromium_without_the_network(chromium, report, crawled, tmp_path):
    dom, proxy = render(chromium, report, tmp_path / "profile")
    assert proxy.page_hosts() == set(), proxy.requests
    for name in CHARTS:
        assert svgs(chart(dom, name)), f"chart {name} did not draw"

    # documents per site and month: a trace a site with dated documents
    sites = {s for (s,) in sql(crawled, "SELECT DISTINCT coalesce(site, '(seeds)') FROM documents "
                                        "WHERE published IS NOT NULL")}
    div = chart(dom, "site-month")
    assert len(bar_traces(div)) == len(sites) and legend_labels(div) == sites
    months = sql(crawled, "SELECT count(DISTINCT (coalesce(site, ''), date_trunc('month', published))) "
                          "FROM documents WHERE published IS NOT NULL")[0][0]
    assert len(bars(div)) == months

    # new documents per run: one label a run, and the first run's new documents are its bar
    runs = sql(crawled, "SELECT documents_new FROM crawl_runs ORDER BY started_at")
    div = chart(dom, "runs")
    assert len(runs) == 2 and runs[0][0] > 0
    assert len(tick_labels(div, "x")) == len(runs)
    assert all("(mirror)" in label for label in tick_labels(div, "x"))

    # errors per site: the sites and reasons the crawl counted as errors (the mirror's 404 and 500)
    errors = sql(crawled, "SELECT site, reason FROM crawl_run_counts WHERE reason LIKE 'http-%' "
                          "OR reason LIKE 'error-%' OR reason IN ('blocked', 'redirect-loop') GROUP BY ALL")
    div = chart(dom, "errors")
    assert errors and set(tick_labels(div, "y")) == {s for s, _r in errors}
    # the legend: each reason under its category's title
    assert legend_labels(div) == {r for _s, r in errors} | {"error"}

    # every reason of every site
    reasons = sql(crawled, "SELECT DISTINCT site, reason FROM crawl_run_counts WHERE count > 0")
    div = chart(dom, "reasons")
    assert set(tick_labels(div, "y")) == {s for s, _r in reasons}
    assert legend_labels(div) == {r for _s, r in reasons} | {category(r) for _s, r in reasons}
    assert len(bars(div)) == len(reasons)

    # top keywords: a bar a keyword, up to 20
    keywords = sql(crawled, "SELECT count(DISTINCT kw) FROM (SELECT unnest(keywords) AS kw FROM documents "
                            "WHERE duplicate_of IS NULL)")[0][0]
    assert len(bars(chart(dom, "keywords"))) == min(20, keywords)

    # reprint clusters: a bar a cluster, labelled by its original
    clusters = sql(crawled, "SELECT original FROM reprint_clusters")
    div = chart(dom, "reprints")
    assert clusters and len(bars(div)) == len(clusters)
    assert {label.rsplit("(", 1)[-1].rstrip(")") for label in tick_labels(div, "y")} == {c for (c,) in clusters}

    # relevance: a trace an origin, bars adding up to every scored document
    origins = {o for (o,) in sql(crawled, "SELECT DISTINCT origin FROM documents WHERE relevance IS NOT NULL")}
    div = chart(dom, "relevance")
    assert len(bar_traces(div)) == len(origins) and legend_labels(div) == origins

    # the totals say what the file holds
    (documents,), = sql(crawled, "SELECT count(*) FROM documents")
    totals = {th.text_content(): td.text_content() for th, td in
              zip(dom.xpath("//table[@class='totals']//th"), dom.xpath("//table[@class='totals']//td"))}
    assert totals["documents"].startswith(f"{documents:,} ")


def test_the_check_fails_a_page_that_needs_the_network(chromium, report, tmp_path):
    """The same page loading plotly.js from its CDN instead: no chart draws (the proxy refused
    the request, and saw it), so the test above would tell a page that is not self-contained."""
    page = report.read_text(encoding="utf-8")
    start = page.index(f'<script id="{PLOTLY_SCRIPT_ID}"')
    end = page.index("</script>", start) + len("</script>")
    online = tmp_path / "online.html"
    online.write_text(page[:start] + '<script src="https://cdn.plot.ly/plotly-3.1.0.min.js"></script>' + page[end:],
                      encoding="utf-8")
    dom, proxy = render(chromium, online, tmp_path / "profile")
    assert "cdn.plot.ly" in proxy.page_hosts()
    assert all(not svgs(chart(dom, name)) for name in CHARTS)


def test_an_empty_database_still_gives_every_chart(chromium, tmp_path):
    db, out = tmp_path / "empty.duckdb", tmp_path / "empty.html"
    from pipelines.store import Store

    Store(db).close()
    assert main(["report", "--db", str(db), "--out", str(out)]) == 0
    dom, _proxy = render(chromium, out, tmp_path / "profile")
    for name in CHARTS:
        div = chart(dom, name)
        assert svgs(div) and bars(div) == []


def test_report_errors_are_one_line(tmp_path, capsys):
    assert main(["report", "--db", str(tmp_path / "missing.duckdb"), "--out", str(tmp_path / "r.html")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err
    assert main(["report", "--db", str(tmp_path / "missing.duckdb"), "--out", str(tmp_path / "no" / "r.html")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err and not (tmp_path / "r.html").exists()
