"""Bad input everywhere gets one clear line and a non-zero exit; ``--debug`` gets the traceback.

Complements tests/test_store_cli.py (empty, binary and missing input files, locked,
newer and corrupt databases, read-only query) and tests/test_sites.py (each config
field checked by ``load_site``): here the same failures through the ``djcrawl``
command, plus what the command line adds (directories where files belong, unknown
sites in every command). And the security promises: site configs are data,
``query`` reads the database file and nothing else, the mirrors listen on loopback.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.store import Store

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "seeds" / "sites" / "sx_jcy.toml"


def djcrawl(*args, env=None, cwd=ROOT):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DJ_", "DJCRAWL_"))}
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env={**environ, **(env or {})}, timeout=120)


def one_line_error(proc, *fragments) -> str:
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("djcrawl: error: "), proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def sites_dir(tmp_path):
    d = tmp_path / "sites"
    d.mkdir()
    return d


# --------------------------------------------------------------------------- site configs

_GOOD = CONFIG.read_text(encoding="utf-8")


@pytest.mark.parametrize("content, fragments", [
    (_GOOD.replace('pagination = "createPageHTML"', 'pagination = "scroll"'),
     ("field 'list.pagination'", "must be one of")),
    (_GOOD.replace("max_pages = 30", "max_pages = -1"), ("field 'list.max_pages'", "non-negative integer")),
    (_GOOD.replace("[article]", "[artikel]"), ("field 'article.url_patterns'", "must be a non-empty list")),
    (_GOOD.replace("[list]", "list = 3\n[lists]"), ("field 'list'", "must be a table")),
    ("", ("field 'name'", "missing")),
    ('name = "sx_jcy"\n[list\n', ("not valid TOML",)),
    (b"\xff\xfe\x00\x01 binary \x89PNG", ("not valid TOML",)),
], ids=["bad-value", "negative", "missing-field", "wrong-type", "empty", "not-toml", "binary"])
def test_a_bad_site_config_stops_the_crawl_before_anything_is_opened(sites_dir, tmp_path, content, fragments):
    config = sites_dir / "sx_jcy.toml"
    config.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    db = tmp_path / "never.duckdb"
    proc = djcrawl("crawl", "sx_jcy", "--db", str(db), env={"DJ_SITES_DIR": str(sites_dir)})
    one_line_error(proc, str(config), *fragments)
    assert not db.exists()


def test_the_sites_command_names_every_bad_config_and_fails(sites_dir):
    (sites_dir / "sx_jcy.toml").write_bytes(CONFIG.read_bytes())
    (sites_dir / "broken.toml").write_text('name = "broken"\n', encoding="utf-8")
    proc = djcrawl("sites", env={"DJ_SITES_DIR": str(sites_dir)})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"invalid: {sites_dir / 'broken.toml'}: field 'allowed_domains': must be a non-empty list of strings"]
    assert "1 valid, 1 invalid" in proc.stdout


def test_a_crawl_with_no_site_in_the_default_crawl_says_which_to_name(sites_dir, tmp_path):
    # sx_jcy is unconfirmed: left out of a crawl that names no site, crawled when named
    (sites_dir / "sx_jcy.toml").write_bytes(CONFIG.read_bytes())
    db = tmp_path / "never.duckdb"
    proc = djcrawl("crawl", "--db", str(db), env={"DJ_SITES_DIR": str(sites_dir)})
    one_line_error(proc, "default crawl", "unconfirmed", "sx_jcy")
    assert not db.exists()


def test_no_site_configs_at_all(tmp_path):
    one_line_error(djcrawl("crawl", "--db", str(tmp_path / "x.duckdb"), env={"DJ_SITES_DIR": str(tmp_path / "none")}),
                   "no site configs in")


def test_site_configs_are_data_never_code(sites_dir, tmp_path):
    # Strings that would run if anything evaluated them: a marker file would appear.
    marker = tmp_path / "executed"
    payload = f"__import__('os').system('touch {marker}')"
    text = CONFIG.read_text(encoding="utf-8").replace('title = "山西省人民检察院"', f'title = "{payload}"')
    text = text.replace('page_url = "index_{n}.shtml"', f'page_url = "index_{{n}}.shtml{{{payload}}}"')
    (sites_dir / "sx_jcy.toml").write_text(text, encoding="utf-8")
    proc = djcrawl("sites", env={"DJ_SITES_DIR": str(sites_dir)})
    assert proc.returncode == 0, proc.stderr
    assert payload[:30] in proc.stdout  # shown as the text it is
    (sites_dir / "evil.toml").write_text(f'name = "{payload}"\n', encoding="utf-8")
    proc = djcrawl("crawl", "evil", "--db", str(tmp_path / "x.duckdb"), env={"DJ_SITES_DIR": str(sites_dir)})
    one_line_error(proc, "evil.toml", "field 'name'")
    assert not marker.exists()


def test_no_module_evaluates_or_shells_out():
    # Nothing from a page, a config or a query is ever run as code: no eval/exec, no pickle or
    # yaml loading, no shell. A guard against the easy way in creeping into the code base.
    forbidden = re.compile(r"\b(?:eval|exec)\(|pickle\.loads?\(|yaml\.load\(|shell\s*=\s*True|os\.system\(|"
                           r"__import__\(|marshal\.loads?\(")
    hits = []
    for package in ("pipelines", "crawler"):
        for path in (ROOT / package).rglob("*.py"):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if forbidden.search(line.split("#")[0]):
                    hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not hits, hits


# --------------------------------------------------------------------------- unknown sites, wrong kinds of paths

def test_an_unknown_site_is_refused_by_every_command_that_takes_one(tmp_path):
    db = tmp_path / "db.duckdb"
    Store(db).close()
    one_line_error(djcrawl("crawl", "sx_jcy", "nosuchsite", "--db", str(db)), "unknown site nosuchsite", "known: ")
    one_line_error(djcrawl("reprocess", "--site", "nosuchsite", "--db", str(db)), "unknown site nosuchsite")


def test_paths_of_the_wrong_kind(tmp_path):
    directory = tmp_path / "dir"
    directory.mkdir()
    a_file = tmp_path / "file.txt"
    a_file.write_text("党建", encoding="utf-8")
    one_line_error(djcrawl("clean", str(directory)), str(directory), "is a directory")
    one_line_error(djcrawl("load-seeds", str(a_file), "--db", str(tmp_path / "x.duckdb")), str(a_file), "not a directory")
    one_line_error(djcrawl("query", "select 1", "--db", str(directory)), "is a directory")
    one_line_error(djcrawl("load-seeds", "--db", str(directory)), "is a directory")


def test_a_corrupt_database_is_refused_by_the_crawl_and_left_as_it_was(tmp_path):
    db = tmp_path / "corrupt.duckdb"
    junk = b"not a database " * 1000
    db.write_bytes(junk)
    one_line_error(djcrawl("crawl", "sx_jcy", "--db", str(db)), str(db), "not a valid DuckDB file")
    assert db.read_bytes() == junk


def test_clean_reports_each_bad_file_and_still_cleans_the_good_ones(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("提升政治站位\n" + "基层检察院党建工作要严格落实上级部署。" * 10, encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    proc = djcrawl("clean", str(empty), str(good), str(tmp_path / "missing.txt"), "--format", "jsonl")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 2 and all(e.startswith("djcrawl: error: ") for e in errors), errors
    assert "empty.txt" in errors[0] and "missing.txt" in errors[1]
    assert len(proc.stdout.strip().splitlines()) == 1 and "基层检察院党建工作" in proc.stdout


# --------------------------------------------------------------------------- --debug

def test_debug_shows_the_traceback_the_plain_run_hides(tmp_path):
    args = ("query", "select 1", "--db", str(tmp_path / "none.duckdb"))
    plain = djcrawl(*args)
    line = one_line_error(plain, "does not exist")
    debug = djcrawl("--debug", *args)
    assert debug.returncode != 0
    assert debug.stderr.startswith("Traceback") and "StoreError" in debug.stderr
    assert line.removeprefix("djcrawl: error: ") in debug.stderr


# --------------------------------------------------------------------------- query reads the database only

@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    db = tmp_path_factory.mktemp("seeded") / "seeds.duckdb"
    proc = djcrawl("load-seeds", "--db", str(db), "--quiet")
    assert proc.returncode == 0, proc.stderr
    return db


@pytest.mark.parametrize("sql", [
    "COPY (SELECT * FROM documents) TO '{out}'",
    "SELECT * FROM read_text('{secret}')",
    "ATTACH '{out}' AS other",
    "INSTALL httpfs",
])
def test_query_cannot_reach_past_the_database_file(seeded, tmp_path, sql):
    out, secret = tmp_path / "out.csv", tmp_path / "secret.txt"
    secret.write_text("not for queries", encoding="utf-8")
    before = seeded.read_bytes()
    proc = djcrawl("query", sql.format(out=out, secret=secret), "--db", str(seeded))
    one_line_error(proc)
    assert not out.exists() and "not for queries" not in proc.stdout
    assert seeded.read_bytes() == before


# --------------------------------------------------------------------------- loopback only

def _other_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses (may be none in a sandbox)."""
    found = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(info[4][0])
    except OSError:
        pass
    try:  # the address the default route would use; nothing is sent
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            found.add(s.getsockname()[0])
    except OSError:
        pass
    return sorted(a for a in found if not a.startswith("127."))


def test_the_mirrors_listen_on_loopback_only():
    from crawler.mirror import MirrorServer
    from faults.server import FaultServer

    with MirrorServer() as mirror, FaultServer({}) as faults:
        for url in (mirror.url, faults.url):
            host, port = url.removeprefix("http://").split(":")
            assert host == "127.0.0.1"
            with socket.create_connection((host, int(port)), timeout=2):
                pass  # reachable on loopback
            for address in _other_addresses():
                with pytest.raises(OSError):
                    socket.create_connection((address, int(port)), timeout=2).close()
