"""The offline mirror's own data: the real pages it serves, its package data, its command.

The mirror reads the real saved pages from its package (``crawler/mirror/real_pages``),
copies of pages under ``tests/fixtures/real_sites``; these tests hold the two copies
equal byte for byte, so neither can drift from the other.
"""

from __future__ import annotations

import fnmatch
import ssl
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path

import pytest

from crawler.mirror.pages import MANIFEST, REAL_PAGES, build_mirror

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "real_sites"
MIRROR_PACKAGE = ROOT / "crawler" / "mirror"

#: (url, fixture path relative to real_sites) of every article the manifest serves from a real page
PLACED = [(a["url"], a["fixture"])
          for site in tomllib.loads(MANIFEST.read_text(encoding="utf-8"))["sites"].values()
          for a in site.get("articles", []) if "fixture" in a]


def test_the_manifest_places_real_pages():
    assert len(PLACED) >= 20
    assert len({f for _, f in PLACED}) == len(PLACED), "a real page placed at two URLs"


def test_every_page_built_from_a_real_page_is_the_fixture_file_byte_for_byte():
    pages, _ = build_mirror()
    for url, fixture in PLACED:
        page = pages[url]
        assert page.status == 200, url
        assert page.body == (FIXTURES / fixture).read_bytes(), f"{url} is not tests/fixtures/real_sites/{fixture}"


def test_the_mirror_folder_holds_exactly_the_real_pages_the_manifest_places():
    folder = Path(str(REAL_PAGES))
    held = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert held - {".gitattributes"} == {f for _, f in PLACED}


def test_the_server_answers_each_real_page_with_the_fixture_bytes(mirror):
    """Over the wire, as the crawler asks: the mirror as HTTP proxy, https through CONNECT + TLS."""
    unverified = ssl.create_default_context()
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE  # the mirror's throw-away self-signed certificate
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": mirror.url, "https": mirror.url}),
        urllib.request.HTTPSHandler(context=unverified),
    )
    schemes = set()
    for url, fixture in PLACED:
        with opener.open(url, timeout=60) as response:
            assert response.status == 200, url
            assert response.read() == (FIXTURES / fixture).read_bytes(), url
        schemes.add(url.split(":", 1)[0])
    assert schemes == {"http", "https"}


def test_package_data_ships_every_file_the_mirror_reads():
    """An installed wheel holds only the package data pyproject.toml lists: every data file
    of crawler/mirror must match one of its patterns (a new folder level would not)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["crawler.mirror"]
    data = [p.relative_to(MIRROR_PACKAGE).as_posix() for p in MIRROR_PACKAGE.rglob("*")
            if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
            and p.name != ".gitattributes"]
    assert "manifest.toml" in data and any(d.startswith("templates/") for d in data)
    unshipped = [d for d in data if not any(_glob_matches(d, pat) for pat in patterns)]
    assert unshipped == []


def _glob_matches(path: str, pattern: str) -> bool:
    """setuptools' package-data glob: ``*`` stays within one folder level."""
    parts, pats = path.split("/"), pattern.split("/")
    return len(parts) == len(pats) and all(fnmatch.fnmatchcase(a, b) for a, b in zip(parts, pats))


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_python_m_crawler_mirror_help_prints_usage(flag):
    done = subprocess.run([sys.executable, "-m", "crawler.mirror", flag], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m crawler.mirror")
    assert "[port]" in done.stdout and "Traceback" not in done.stderr


def test_python_m_crawler_mirror_rejects_a_port_that_is_not_a_number():
    done = subprocess.run([sys.executable, "-m", "crawler.mirror", "eighty"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "'eighty' is not a port number" in done.stderr and "Traceback" not in done.stderr
