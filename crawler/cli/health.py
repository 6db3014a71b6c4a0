"""``djcrawl sites --health``: per site, how its last runs went; and the flags a crawl prints.

Read from the store (``pipelines/store/health.py``): the last good run (finished, not
through a mirror, with documents or known articles), the documents the last runs stored
(new or changed), lists without articles, ``selector-stale``, extraction fallbacks,
``blocked`` pages and errors. Two flags:

- a site whose lists gave no article link in its last two runs (``list-without-articles``
  and no ``document`` or ``skipped-known``): its list selector and the links found without
  it both miss, so a crawl of it stores nothing; printed in a crawl's summary too;
- a site whose last runs all went through a mirror: nothing shows that the real site works.
"""

from __future__ import annotations

import sys

from .. import outcomes
from .options import db_path, open_reader
from .tables import format_table

__all__ = ["cmd_health", "site_health", "flag_lines", "lists_yielded_nothing", "LAST_RUNS"]

#: runs a health row sums over
LAST_RUNS = 5
_COLUMNS = ("site", "last good run", "runs (mirror)", "new or changed docs", "lists without articles",
            "selector-stale", "fallbacks", "blocked", "errors", "flags")


def _errors(counts: dict[str, int]) -> int:
    n = 0
    for reason, value in counts.items():
        try:
            if outcomes.category(reason) == "error":
                n += value
        except KeyError:  # a reason an older or newer djcrawl wrote
            continue
    return n


def lists_yielded_nothing(runs: list[dict]) -> bool:
    """The site's last two runs (newest first) found no article link on its lists."""
    last = runs[:2]
    return len(last) == 2 and all(
        r["counts"].get("list-without-articles", 0) > 0
        and not r["counts"].get("document") and not r["counts"].get("skipped-known")
        for r in last)


def site_health(store, site: str, last: int = LAST_RUNS) -> dict:
    runs = store.site_runs(site, last)
    total = {}
    for r in runs:
        for reason, n in r["counts"].items():
            total[reason] = total.get(reason, 0) + n
    flags = []
    if lists_yielded_nothing(runs):
        flags.append("lists-empty")
    if runs and all(r["mirror"] for r in runs):
        flags.append("mirror-only")
    return {
        "site": site,
        "runs": runs,
        "last_good": store.last_good_run(site),
        "mirror_runs": sum(1 for r in runs if r["mirror"]),
        "documents": sum(r["documents"] for r in runs),
        "lists_without_articles": total.get("list-without-articles", 0),
        "selector_stale": total.get("selector-stale", 0),
        "fallbacks": store.extraction_fallbacks(site, [r["run_id"] for r in runs]),
        "blocked": total.get("blocked", 0),
        "errors": _errors(total),
        "flags": flags,
    }


def _flag_line(h: dict, flag: str) -> str:
    if flag == "lists-empty":
        return (f"{h['site']}: its lists gave no article link in its last two runs (only list-without-articles, "
                f"no document or known article): check its list selector and start URLs")
    return (f"{h['site']}: its last {len(h['runs'])} runs all went through a mirror: "
            f"nothing shows that the real site works")


def flag_lines(store, sites, flags=("lists-empty",)) -> list[str]:
    """One line per flagged site (``flags``: which flags to report)."""
    lines = []
    for site in sites:
        h = site_health(store, site, last=2)
        lines += [_flag_line(h, f) for f in h["flags"] if f in flags]
    return lines


def _when(run: dict | None) -> str:
    if run is None:
        return "never"
    return f"{run['started_at']:%Y-%m-%d %H:%M} ({run['run_id']})"


def cmd_health(args) -> int:
    from ..siteconfig import load_sites

    db = db_path(getattr(args, "db", None))
    if not db.exists():
        print(f"no database at {db}: no site was crawled", file=sys.stderr)
        return 1
    with open_reader(str(db)) as store:
        configured = [c.name for c in load_sites(every=True)]
        sites = configured + [s for s in store.crawled_sites() if s not in configured]
        healths = [site_health(store, s) for s in sites]
    rows, lines = [], []
    for h in healths:
        last_good = _when(h["last_good"])
        if h["last_good"] is None and h["runs"] and h["mirror_runs"] == len(h["runs"]):
            last_good = "never (mirror runs only)"
        rows.append((h["site"], last_good, f"{len(h['runs'])} ({h['mirror_runs']})", h["documents"],
                     h["lists_without_articles"], h["selector_stale"], h["fallbacks"], h["blocked"], h["errors"],
                     ", ".join(h["flags"]) if h["runs"] else "never crawled"))
        lines += [_flag_line(h, f) for f in h["flags"]]
    print(format_table(_COLUMNS, rows, max_cell=50))
    print(f"counts over each site's last {LAST_RUNS} runs; a mirror run is never a good run")
    for line in lines:
        print(f"flagged: {line}")
    return 0

