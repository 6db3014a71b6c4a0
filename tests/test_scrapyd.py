"""scrapyd end to end: a real scrapyd on 127.0.0.1, the egg ``scrapyd-deploy`` builds from a clean
copy of the repository, a job of the djcrawl spider against the offline mirror.

The egg is a zip file holding only packages, so this is where a file read by a path beside the
source, a missing settings entry point or a site config left out of the build shows. A second
egg, built from a copy whose word lists are missing, has workers that cannot start: its job must
end as failed."""

from __future__ import annotations

import configparser
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from crawler.mirror.pages import build_mirror
from pipelines.store import Store

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
_PAGES, SITES = build_mirror()
#: a multi-page article and lists paged by script (spp), plain lists (sx_jcy)
CRAWLED = ("spp", "sx_jcy")
#: how long a job may take; polled, never slept through
JOB_DEADLINE = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_copy(dest: Path) -> Path:
    """The files git tracks, as a fresh clone would have them (the working tree's content)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


class Scrapyd:
    """A scrapyd process with its own config, folders and port, in ``home``."""

    def __init__(self, home: Path):
        self.home, self.port = home, _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        (home / "scrapyd.conf").write_text(f"""[scrapyd]
bind_address = 127.0.0.1
http_port = {self.port}
eggs_dir = {home / 'eggs'}
logs_dir = {home / 'logs'}
dbs_dir = {home / 'dbs'}
items_dir =
jobs_to_keep = 5
max_proc = 1
poll_interval = 0.2
""", encoding="utf-8")
        self.output = home / "scrapyd.out"
        # HOME too: scrapyd also reads ~/.scrapyd.conf
        env = {**os.environ, "HOME": str(home)}
        with open(self.output, "wb") as out:
            self.proc = subprocess.Popen([str(BIN / "scrapyd")], cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.get("daemonstatus.json")["status"] == "ok":
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"scrapyd did not start: {self.output.read_text(errors='replace')}")
            time.sleep(0.1)

    def get(self, endpoint: str, **params) -> dict:
        url = self.url + endpoint + ("?" + urllib.parse.urlencode(params) if params else "")
        with urllib.request.urlopen(url, timeout=10) as resp:
            return json.load(resp)

    def post(self, endpoint: str, fields: list[tuple[str, str]]) -> dict:
        data = urllib.parse.urlencode(fields).encode()
        with urllib.request.urlopen(self.url + endpoint, data=data, timeout=10) as resp:
            return json.load(resp)

    def deploy(self, checkout: Path, project: str) -> subprocess.CompletedProcess:
        """``scrapyd-deploy`` in ``checkout`` to a target named in the user's config (scrapy.cfg of
        $XDG_CONFIG_HOME, which Scrapy reads besides the project's), so the copy stays as cloned."""
        config = self.home / "config" / project
        config.mkdir(parents=True, exist_ok=True)
        (config / "scrapy.cfg").write_text(f"[deploy:test]\nurl = {self.url}\nproject = {project}\n", encoding="utf-8")
        return subprocess.run([str(BIN / "scrapyd-deploy"), "test"], cwd=checkout, capture_output=True, text=True,
                              env={**os.environ, "XDG_CONFIG_HOME": str(config)}, timeout=300)

    def run_job(self, project: str, fields: list[tuple[str, str]]) -> dict:
        """Schedule a job and wait until scrapyd lists it as finished; its listjobs entry."""
        job = self.post("schedule.json", [("project", project), ("spider", "djcrawl"), *fields])
        assert job["status"] == "ok", job
        deadline = time.monotonic() + JOB_DEADLINE
        while time.monotonic() < deadline:
            for entry in self.get("listjobs.json", project=project)["finished"]:
                if entry["id"] == job["jobid"]:
                    return entry
            time.sleep(0.2)
        raise AssertionError(f"job {job['jobid']} not finished after {JOB_DEADLINE} s")

    def job_log(self, project: str, job_id: str) -> str:
        return (self.home / "logs" / project / "djcrawl" / f"{job_id}.log").read_text(encoding="utf-8")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory):
    server = Scrapyd(tmp_path_factory.mktemp("scrapyd"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    return _clean_copy(tmp_path_factory.mktemp("clone"))


def _mirror_settings(mirror, db: Path) -> list[tuple[str, str]]:
    # loopback: no delay, no throttling (as `djcrawl crawl --mirror` sets them)
    return [("setting", f"DJ_DUCKDB_PATH={db}"), ("setting", f"DJ_MIRROR_URL={mirror.url}"),
            ("setting", "DOWNLOAD_DELAY=0"), ("setting", "AUTOTHROTTLE_ENABLED=False")]


def _process_line(scrapyd: Scrapyd, job_id: str) -> str:
    """scrapyd's own line on how the job's process ended."""
    lines = [line for line in scrapyd.output.read_text(errors="replace").splitlines()
             if f"job='{job_id}'" in line and ("Process finished" in line or "Process died" in line)]
    assert len(lines) == 1, lines
    return lines[0]


def test_the_project_names_a_local_scrapyd_target(checkout):
    cfg = configparser.ConfigParser()
    cfg.read(checkout / "scrapy.cfg", encoding="utf-8")
    assert cfg["settings"]["default"] == "crawler.settings"
    assert dict(cfg["deploy:local"]) == {"url": "http://127.0.0.1:6800/", "project": "djcrawl"}
    listed = subprocess.run([str(BIN / "scrapyd-client"), "targets"], cwd=checkout, capture_output=True, text=True,
                            env={**os.environ, "XDG_CONFIG_HOME": str(checkout / "no-user-config")}, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "local" in listed.stdout.split() and "http://127.0.0.1:6800/" in listed.stdout, listed.stdout


def test_a_deployed_egg_crawls_the_mirror_into_the_database(scrapyd, checkout, mirror, tmp_path):
    deployed = scrapyd.deploy(checkout, "djcrawl")
    assert deployed.returncode == 0, deployed.stderr
    answer = json.loads(deployed.stdout)
    assert answer["status"] == "ok" and answer["spiders"] == 1, answer
    assert scrapyd.get("listspiders.json", project="djcrawl")["spiders"] == ["djcrawl"]

    db = tmp_path / "scheduled.duckdb"
    job = scrapyd.run_job("djcrawl", [("sites", ",".join(CRAWLED)), *_mirror_settings(mirror, db)])

    log = scrapyd.job_log("djcrawl", job["id"])
    assert "Traceback" not in log and " ERROR: " not in log, log[-3000:]
    assert "Spider closed (finished)" in log
    assert "Process finished" in _process_line(scrapyd, job["id"])
    with Store(db, read_only=True) as store:
        (run_id, status, sites, through), = store.query("SELECT run_id, status, sites, mirror FROM crawl_runs")[1]
        assert (status, sorted(sites), through) == ("finished", sorted(CRAWLED), mirror.url)
        for name in CRAWLED:
            articles = {u for (u,) in store.query(
                "SELECT url FROM pages WHERE site = ? AND kind = 'article'", [name])[1]}
            assert articles == set(SITES[name].article_urls), name
            (docs,), = store.query("""SELECT count(*) FROM documents WHERE site = ? AND origin = 'crawl'
                                      AND run_id = ? AND title IS NOT NULL AND text <> ''""", [name, run_id])[1]
            assert docs >= 2, name
        # every page was made into a document (or declined) by a worker inside scrapyd
        assert store.query("SELECT count(*) FROM pages WHERE reason LIKE 'extract-error-%'")[1] == [(0,)]


def test_a_job_whose_workers_cannot_start_ends_as_failed(scrapyd, checkout, mirror, tmp_path):
    broken = _clean_copy(tmp_path / "clone")
    (broken / "pipelines" / "data" / "userdict.txt").unlink()  # the workers' dictionaries cannot load
    deployed = scrapyd.deploy(broken, "broken")
    assert deployed.returncode == 0, deployed.stderr

    db = tmp_path / "broken.duckdb"
    job = scrapyd.run_job("broken", [("sites", "sx_jcy"), ("setting", "DJ_WORKERS=1"), *_mirror_settings(mirror, db)])

    assert "Process died: exitstatus=1" in _process_line(scrapyd, job["id"])
    log = scrapyd.job_log("broken", job["id"])
    errors = [line for line in log.splitlines() if " ERROR: " in line]
    assert len(errors) == 1 and "document workers" in errors[0], errors
    assert "Traceback" not in log, log[-3000:]
    assert "Spider closed (workers-failed)" in log
    with Store(db, read_only=True) as store:
        assert store.query("SELECT status FROM crawl_runs")[1] == [("interrupted",)]
        assert store.query("SELECT count(*) FROM documents")[1] == [(0,)]
