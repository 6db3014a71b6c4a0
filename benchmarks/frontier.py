"""Pages/s of 1 and 2 crawl nodes on a Redis frontier, the loader's documents/s, and Redis's bytes
a queued request and a duplicate-filter entry.

    .venv/bin/python benchmarks/frontier.py [--articles 1000] [--nodes 1,2] [--workers 1] [--json]

For each node count, on this machine: ``redis-server`` (Debian's, a temporary directory,
append-only) on 127.0.0.1; the synthetic site of ``benchmarks/crawl.py`` (``--articles``
article pages behind 8 list channels, served from files by its mirror process); one
``djcrawl load`` and N ``djcrawl crawl bench --frontier ... --idle-exit 3`` processes, each node
with ``--workers`` document processes. Both are the user's commands (the mirror's settings:
no delay, 2 requests at once per host).

Reported: pages/s of the crawl (pages stored / span of their ``fetched_at``: the nodes'
start-up and idle exit are outside it), the loader's documents/s (documents stored / the
seconds it spent decoding, writing and acknowledging batches, as it prints), and from
samples taken every half second while the crawl runs, the largest queue and duplicate filter
with Redis's ``MEMORY USAGE`` of each (``SAMPLES 0``: every element) divided by their size.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import corpus  # noqa: E402
from benchmarks.crawl import HOSTS, PER_PAGE, SITE_TOML, _host_of  # noqa: E402
from benchmarks.pipeline import table  # noqa: E402

CHANNELS = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis(directory: Path) -> tuple[subprocess.Popen, int]:
    import redis

    port = _free_port()
    proc = subprocess.Popen([shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(port),
                             "--bind", "127.0.0.1", "--dir", str(directory), "--appendonly", "yes", "--save", ""],
                            stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            return proc, port
        except redis.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def _sites(workdir: Path, n: int) -> Path:
    sites = workdir / "sites"
    sites.mkdir(exist_ok=True)
    lists_per_channel = -(-n // CHANNELS // PER_PAGE) + 1
    starts = [f"http://{_host_of(c)}/dj/ch{c}/index.html" for c in range(CHANNELS)]
    (sites / "bench.toml").write_text(SITE_TOML.format(hosts=json.dumps(HOSTS), starts=json.dumps(starts),
                                                       max_pages=lists_per_channel + 1), encoding="utf-8")
    return sites


def run(nodes: int, n: int, workers: int, workdir: Path, port: int, mirror_url: str, sites: Path) -> dict:
    import duckdb
    import redis

    client = redis.Redis(port=port)
    client.flushall()
    url = f"redis://127.0.0.1:{port}/0"
    db = workdir / f"frontier-{nodes}.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJCRAWL_", "DJ_"))}
    env.update(DJ_SITES_DIR=str(sites), DJ_MIRROR_URL=mirror_url, DJ_WORKERS=str(workers), PYTHONPATH=str(ROOT))
    cli = [sys.executable, "-m", "crawler.cli"]
    loader = subprocess.Popen([*cli, "load", "--frontier", url, "--db", str(db), "--idle-exit", "3"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    while not client.exists("djcrawl:run"):
        time.sleep(0.1)
    procs = [subprocess.Popen([*cli, "crawl", "bench", "--frontier", url, "--idle-exit", "3"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(nodes)]
    queue_peak = (0, 0)
    filter_peak = (0, 0)
    while loader.poll() is None:
        queued, seen = client.zcard("djcrawl:requests"), client.scard("djcrawl:dupefilter")
        if queued > queue_peak[0]:
            queue_peak = (queued, client.memory_usage("djcrawl:requests", samples=0) or 0)
        if seen > filter_peak[0]:
            filter_peak = (seen, client.memory_usage("djcrawl:dupefilter", samples=0) or 0)
        time.sleep(0.5)
    out = loader.stdout.read()
    for p in procs:
        p.wait()
    m = re.search(r"(\d+) documents stored .* \(([\d.]+) documents/s of writing\)", out)
    con = duckdb.connect(str(db), read_only=True)
    pages, span = con.execute(
        "SELECT count(*), epoch(max(fetched_at)) - epoch(min(fetched_at)) FROM pages").fetchone()
    con.close()
    return {"nodes": nodes, "workers_per_node": workers, "pages": pages, "crawl_seconds": span,
            "pages_per_s": pages / span if span else None,
            "documents": int(m.group(1)) if m else None, "loader_documents_per_s": float(m.group(2)) if m else None,
            "queue_peak": queue_peak[0], "bytes_per_queued_request": queue_peak[1] / queue_peak[0] if queue_peak[0] else None,
            "dupefilter_entries": filter_peak[0],
            "bytes_per_dupefilter_entry": filter_peak[1] / filter_peak[0] if filter_peak[0] else None,
            "node_exit_codes": [p.returncode for p in procs], "loader_exit_code": loader.returncode}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--nodes", default="1,2")
    ap.add_argument("--workers", type=int, default=1, help="document processes of each node (default 1)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    corpus.OUT.mkdir(parents=True, exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory(dir=corpus.OUT, prefix="frontier-") as tmp:
        workdir = Path(tmp)
        (workdir / "redis").mkdir()
        redis_proc, port = _redis(workdir / "redis")
        sites = _sites(workdir, args.articles)
        port_file = workdir / "mirror-port"
        mirror = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "crawl.py"), "--serve", str(port_file),
                                   "--pages", str(args.articles), "--channels", str(CHANNELS)],
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            while not port_file.exists() or not port_file.read_text():
                time.sleep(0.1)
            mirror_url = f"http://127.0.0.1:{port_file.read_text()}"
            for nodes in (int(x) for x in args.nodes.split(",")):
                results.append(run(nodes, args.articles, args.workers, workdir, port, mirror_url, sites))
                if not args.json:
                    print(f"... {nodes} node(s) done", file=sys.stderr, flush=True)
        finally:
            mirror.terminate()
            mirror.wait()
            redis_proc.terminate()
            redis_proc.wait()
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(table(["nodes", "workers/node", "pages", "crawl s", "pages/s", "documents", "loader docs/s",
                 "queue peak", "B/queued request", "dupefilter entries", "B/dupefilter entry"],
                [[r["nodes"], r["workers_per_node"], r["pages"], r["crawl_seconds"], r["pages_per_s"],
                  r["documents"], r["loader_documents_per_s"], r["queue_peak"], r["bytes_per_queued_request"],
                  r["dupefilter_entries"], r["bytes_per_dupefilter_entry"]] for r in results]))


if __name__ == "__main__":
    main()
