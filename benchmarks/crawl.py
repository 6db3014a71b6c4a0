"""Pages per second and peak memory of a full crawl of a loopback mirror, beside ``scrapy bench``.

    .venv/bin/python benchmarks/crawl.py [--sizes 1000,10000] [--json]
    .venv/bin/python benchmarks/crawl.py --sizes 100000          # long: about an hour here

For each size N, in one run on this machine:

- a **mirror** process serves a synthetic site on 127.0.0.1: ``--channels`` list
  channels of 50 links a page (paged ``index.html``, ``index_1.html``, ... with a
  下一页 link) leading to N article pages, page ``i`` being
  ``benchmarks/corpus.py``'s page ``i`` (real fixture layouts and encodings, generated
  report texts), written to files before the crawl starts (``page_files``); it answers
  as an HTTP proxy, like the project's offline mirror (``crawler/mirror``), so the
  crawler runs unchanged with ``DJ_MIRROR_URL`` and a site config in a generated
  ``DJ_SITES_DIR``;
- a **crawl** process runs djcrawl's spider with every pipeline on (documents are
  extracted, cleaned, normalized, fingerprinted, indexed and stored in a fresh DuckDB
  file) and the politeness delays off (``DOWNLOAD_DELAY`` 0, no AutoThrottle,
  ``CONCURRENT_REQUESTS`` 16: the site is loopback, the point is the pipeline's
  throughput), with ``--workers`` document processes (``DJ_WORKERS``; default the
  project's). RSS is sampled every half second (``/proc/<pid>/status``) for the crawl
  process and for its whole process tree (crawl + workers); the crawl process's peak
  is its ``VmHWM``;
- ``scrapy bench`` (Scrapy's own loopback benchmark: a link-following spider, no
  pipelines) runs for ``--bench-seconds`` in a directory outside the project, so no
  project setting slows it.

Reported: pages/s (all responses: lists and articles), documents stored, peak RSS,
RSS when a tenth of the pages had been served and at the end (flatness), and the
ratio to ``scrapy bench``'s pages/s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import corpus  # noqa: E402
from benchmarks.pipeline import table  # noqa: E402

PER_PAGE = 50
HOSTS = [f"bench{k}.djcrawl.test" for k in range(4)]
_ARTICLE = re.compile(r"^/dj/ch(\d+)/t(\d{7})\.html$")
_LIST = re.compile(r"^/dj/ch(\d+)/index(?:_(\d+))?\.html$")

SITE_TOML = """name = "bench"
title = "benchmark site"
allowed_domains = {hosts}
start_urls = {starts}

[list]
link_selector = "ul.list li a"
pagination = "links"
page_url = "index_{{n}}.html"
page_number_pattern = 'index_(\\d+)\\.html$'
first_next_number = 1
max_pages = {max_pages}

[article]
url_patterns = ['^http://bench\\d\\.djcrawl\\.test/dj/ch\\d+/t\\d{{7}}\\.html$']
body_selectors = [".TRS_Editor"]
"""


# --------------------------------------------------------------------------- the mirror

def _channel_of(number: int, channels: int) -> int:
    return number % channels


def _host_of(channel: int) -> str:
    return HOSTS[channel % len(HOSTS)]


def _list_page(channel: int, index: int, n: int, channels: int) -> bytes | None:
    numbers = list(range(channel, n, channels))  # this channel's articles, oldest first
    numbers.reverse()  # lists are newest first
    rows = numbers[index * PER_PAGE:(index + 1) * PER_PAGE]
    if not rows and index:
        return None
    links = "\n".join(f'<li><a href="t{i:07d}.html">报道 {i}</a><span>2024-01-01</span></li>' for i in rows)
    more = (index + 1) * PER_PAGE < len(numbers)
    pager = f'<a href="index_{index + 1}.html">下一页</a>' if more else ""
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>党建工作</title></head><body>'
            f'<ul class="list">{links}</ul><div class="pager">{pager}</div></body></html>').encode("utf-8")


def page_files(n: int) -> Path:
    """Pages 0 .. n-1 written once to ``benchmarks/out/pages-<text>/`` (content type, newline, body).

    Generating a page costs ~5 ms of CPU; done while the crawl runs, it would take a
    share of the two cores from the crawl being measured. Served from files, it costs
    a read."""
    directory = corpus.OUT / f"pages-{corpus.text_kind()}"
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        path = directory / f"{i:07d}"
        if not path.exists():
            page = corpus.page(i)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(page.content_type.encode() + b"\n" + page.body)
            tmp.rename(path)
    return directory


def serve(port_file: str, n: int, channels: int) -> None:
    """The mirror process: answer proxy-form requests for the benchmark hosts."""
    served = [0]
    files = page_files(n)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            parts = urlsplit(self.path)
            host, path = (parts.hostname or self.headers.get("Host", "")).lower(), parts.path or self.path
            status, body, ctype = 404, b"not found", "text/plain"
            if host in HOSTS:
                m = _ARTICLE.match(path)
                if m and int(m.group(2)) < n and _channel_of(int(m.group(2)), channels) == int(m.group(1)):
                    ctype, body = (files / f"{int(m.group(2)):07d}").read_bytes().split(b"\n", 1)
                    status, ctype = 200, ctype.decode()
                m = _LIST.match(path)
                if m:
                    got = _list_page(int(m.group(1)), int(m.group(2) or 0), n, channels)
                    if got is not None:
                        status, body, ctype = 200, got, "text/html; charset=utf-8"
            served[0] += 1
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    Path(port_file).write_text(str(server.server_address[1]))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    count_file = Path(port_file + ".served")
    while True:  # the parent reads progress from here
        count_file.write_text(str(served[0]))
        time.sleep(0.5)


# --------------------------------------------------------------------------- the crawl

def crawl_child(db: str, mirror_url: str, out: str, workers: str = "") -> None:
    """The crawl process: djcrawl's spider and pipelines, politeness off."""
    import uuid

    from crawler.run import crawl_settings, run_crawl
    from pipelines.store import Store

    settings = crawl_settings(
        db=db, sites=["bench"], run_id="bench-" + uuid.uuid4().hex[:6], mirror_url=mirror_url, progress=False,
        workers=int(workers) if workers else None,
        extra={"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16,
               "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "LOG_LEVEL": "ERROR", "RETRY_ENABLED": False})
    t = time.perf_counter()
    stats = run_crawl(settings).stats
    seconds = time.perf_counter() - t
    with Store(db, read_only=True) as store:
        documents = store.document_count()
    Path(out).write_text(json.dumps({
        "seconds": seconds, "responses": stats.get("response_received_count", 0),
        "items": stats.get("item_scraped_count", 0), "documents": documents,
        "finish_reason": stats.get("finish_reason"),
    }))


def _rss_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in kB."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                values[key] = int(value.split()[0])
    except OSError:
        pass
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            pass
    return found


def run_crawl(n: int, channels: int, workdir: Path, workers: int | None = None, keep: Path | None = None) -> dict:
    sites = workdir / "sites"
    sites.mkdir(exist_ok=True)
    lists_per_channel = -(-n // channels // PER_PAGE) + 1
    starts = [f"http://{_host_of(c)}/dj/ch{c}/index.html" for c in range(channels)]
    (sites / "bench.toml").write_text(SITE_TOML.format(hosts=json.dumps(HOSTS), starts=json.dumps(starts),
                                                       max_pages=lists_per_channel + 1), encoding="utf-8")
    port_file = str(workdir / f"port-{n}")
    for stale in (Path(port_file), Path(port_file + ".served")):
        stale.unlink(missing_ok=True)
    env = {**os.environ, "DJ_SITES_DIR": str(sites), "PYTHONPATH": str(ROOT)}
    mirror = subprocess.Popen([sys.executable, __file__, "--serve", port_file, "--pages", str(n),
                               "--channels", str(channels)], env=env)
    try:
        while not Path(port_file).exists() or not Path(port_file).read_text():
            time.sleep(0.1)
        url = f"http://127.0.0.1:{Path(port_file).read_text()}"
        out = workdir / f"crawl-{n}-w{workers}.json"
        db = workdir / f"crawl-{n}-w{workers}.duckdb"  # a new database each run: nothing known yet
        child = subprocess.Popen([sys.executable, __file__, "--crawl-child", str(db), url, str(out),
                                  "" if workers is None else str(workers)], env=env)
        samples = []  # (seconds, pages served, rss kB)
        t0 = time.perf_counter()
        hwm = tree_max = 0
        while child.poll() is None:
            rss, peak = _rss_kb(child.pid)
            hwm = max(hwm, peak)
            tree_max = max(tree_max, sum(_rss_kb(p)[0] for p in _tree(child.pid)))
            try:
                served = int(Path(port_file + ".served").read_text() or 0)
            except (OSError, ValueError):
                served = 0
            samples.append((time.perf_counter() - t0, served, rss))
            time.sleep(0.5)
        if child.returncode != 0:
            raise SystemExit(f"crawl of {n} pages failed with exit code {child.returncode}")
        result = json.loads(out.read_text())
        if result["documents"] < n * 0.9:
            raise SystemExit(f"crawl of {n} pages stored only {result['documents']} documents: {result}")
    finally:
        mirror.terminate()
        mirror.wait()
    if keep is not None:  # the crawled file, for the store and reprocess measurements of the same corpus
        keep.mkdir(parents=True, exist_ok=True)
        db.replace(keep / db.name)
    total = result["responses"]
    tenth = [rss for _, served, rss in samples if served >= total / 10]
    # the crawl process's RSS when each tenth of the pages had been served: how it grows
    deciles = [next((round(rss / 1024) for _, served, rss in samples if served >= total * k / 10), None)
               for k in range(1, 11)]
    last = [rss for _, _, rss in samples if rss]
    return {
        "articles": n, "pages": total, "seconds": result["seconds"], "pages_per_s": total / result["seconds"],
        "documents": result["documents"], "finish_reason": result["finish_reason"],
        "workers": workers, "tree_max_rss_mb": tree_max / 1024,
        "peak_rss_mb": hwm / 1024, "max_sampled_rss_mb": max(last, default=0) / 1024,
        "rss_at_tenth_mb": (tenth[0] / 1024) if tenth else None,
        "rss_at_end_mb": (last[-1] / 1024) if last else None,
        "rss_at_deciles_mb": deciles,
        # and when it was there: the rate of each tenth shows whether the crawl slows as the store grows
        "seconds_at_deciles": [next((round(t, 1) for t, served, _ in samples if served >= total * k / 10), None)
                               for k in range(1, 11)],
        "rss_samples": [(round(t, 1), s, round(r / 1024)) for t, s, r in samples[:: max(1, len(samples) // 40)]],
    }


def scrapy_bench(seconds: int) -> dict:
    """``scrapy bench`` for ``seconds``, run outside the project so its settings do not apply."""
    scrapy = Path(sys.executable).with_name("scrapy")
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([str(scrapy), "bench", "-s", f"CLOSESPIDER_TIMEOUT={seconds}", "-s", "LOG_LEVEL=INFO"],
                              cwd=tmp, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
    log = proc.stdout + proc.stderr
    received = re.search(r"'response_received_count': (\d+)", log)
    elapsed = re.search(r"'elapsed_time_seconds': ([\d.]+)", log)
    if not received or not elapsed:
        raise SystemExit("scrapy bench did not report its stats:\n" + log[-2000:])
    pages, secs = int(received.group(1)), float(elapsed.group(1))
    return {"pages": pages, "seconds": secs, "pages_per_s": pages / secs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000", help="article pages per crawl, comma-separated")
    ap.add_argument("--channels", type=int, default=8, help="list channels of the synthetic site (default 8)")
    ap.add_argument("--bench-seconds", type=int, default=20)
    ap.add_argument("--workers", default="", help="DJ_WORKERS values to run each size with, comma-separated "
                                                   "(default: the project's setting)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--keep", type=Path, help="move each crawled DuckDB file into this directory")
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    ap.add_argument("--pages", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--crawl-child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        return serve(args.serve, args.pages, args.channels)
    if args.crawl_child:
        return crawl_child(*args.crawl_child)
    corpus.OUT.mkdir(parents=True, exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory(dir=corpus.OUT, prefix="crawl-") as tmp:
        # before and after the crawls: other work on the machine changes over a long run
        before = scrapy_bench(args.bench_seconds)
        worker_counts = [int(w) for w in args.workers.split(",")] if args.workers else [None]
        for n in (int(s) for s in args.sizes.split(",")):
            for workers in worker_counts:
                results.append(run_crawl(n, args.channels, Path(tmp), workers, args.keep))
            if not args.json:
                print(f"... {n:,} pages done", file=sys.stderr, flush=True)
        after = scrapy_bench(args.bench_seconds)
    bench = {"pages": before["pages"] + after["pages"], "seconds": before["seconds"] + after["seconds"],
             "before_pages_per_s": before["pages_per_s"], "after_pages_per_s": after["pages_per_s"]}
    bench["pages_per_s"] = bench["pages"] / bench["seconds"]
    for r in results:
        r["ratio_to_scrapy_bench"] = r["pages_per_s"] / bench["pages_per_s"]
    if args.json:
        print(json.dumps({"scrapy_bench": bench, "crawls": results}, indent=2))
        return
    print(f"scrapy bench: {bench['pages_per_s']:.1f} pages/s ({bench['pages']:,} pages in {bench['seconds']:.1f} s; "
          f"{bench['before_pages_per_s']:.1f} before the crawls, {bench['after_pages_per_s']:.1f} after)\n")
    print(table(["articles", "workers", "pages fetched", "pages/s", "of scrapy bench", "documents", "seconds",
                 "peak RSS MB", "max sampled MB", "RSS at 1/10 MB", "RSS at end MB", "tree max MB"],
                [[r["articles"], "default" if r["workers"] is None else r["workers"], r["pages"], r["pages_per_s"],
                  f"{r['ratio_to_scrapy_bench']:.0%}", r["documents"], r["seconds"], r["peak_rss_mb"],
                  r["max_sampled_rss_mb"], r["rss_at_tenth_mb"], r["rss_at_end_mb"], r["tree_max_rss_mb"]]
                 for r in results]))
    for r in results:
        print(f"{r['articles']:,} articles: RSS MB at each tenth of the pages {r['rss_at_deciles_mb']}, "
              f"seconds {r['seconds_at_deciles']}")


if __name__ == "__main__":
    main()
