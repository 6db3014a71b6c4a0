"""Site health read from ``crawl_runs``, ``crawl_run_counts`` and ``documents``: per site, its
last runs with their counts, its last good run, and how many of its documents came from an
extraction fallback.

The store knows no reason categories (``crawler/outcomes.py`` does): it answers counts by
reason, and the caller reads them. A run through a mirror (``crawl_runs.mirror``) is
reported as such and never makes a site's last good run.
"""

from __future__ import annotations

from collections.abc import Sequence

from .connection import Connection

__all__ = ["Health", "FALLBACK_BODIES"]

#: ``provenance->>'body'`` prefixes of the extraction fallbacks (pipelines/extract/body.py,
#: step 4): trafilatura favouring recall, and the block with the most paragraph text
FALLBACK_BODIES = ("trafilatura:favor_recall", "density:")


class Health(Connection):

    def crawled_sites(self) -> list[str]:
        """Every site some run crawled, sorted."""
        return [s for (s,) in self.con.execute(
            "SELECT DISTINCT unnest(sites) AS s FROM crawl_runs ORDER BY s").fetchall()]

    def site_runs(self, site: str, last: int) -> list[dict]:
        """The ``last`` runs that crawled ``site``, newest first: ``run_id``, ``started_at``,
        ``status``, ``mirror``, ``counts`` (the site's reason -> n) and ``documents`` (the
        site's documents whose latest version that run stored: new or changed)."""
        rows = self.con.execute(
            """WITH runs AS (
                   SELECT run_id, started_at, status, mirror FROM crawl_runs
                   WHERE list_contains(sites, ?) ORDER BY started_at DESC, run_id DESC LIMIT ?)
               SELECT r.run_id, r.started_at, r.status, r.mirror,
                      (SELECT map(list(c.reason), list(c.count)) FROM crawl_run_counts c
                        WHERE c.run_id = r.run_id AND c.site = ?) AS counts,
                      (SELECT count(*) FROM documents d WHERE d.run_id = r.run_id AND d.site = ?) AS documents
               FROM runs r ORDER BY r.started_at DESC, r.run_id DESC""",
            [site, last, site, site],
        ).fetchall()
        return [{"run_id": run_id, "started_at": started, "status": status, "mirror": mirror,
                 "counts": dict(counts or {}), "documents": documents}
                for run_id, started, status, mirror, counts, documents in rows]

    def last_good_run(self, site: str) -> dict | None:
        """The latest run of ``site`` that finished, was not a mirror run, and counted a document
        or a known article for it (``run_id``, ``started_at``); None if there is none."""
        row = self.con.execute(
            """SELECT r.run_id, r.started_at FROM crawl_runs r
               WHERE list_contains(r.sites, ?) AND r.status IN ('finished', 'partial') AND r.mirror IS NULL
                 AND EXISTS (SELECT 1 FROM crawl_run_counts c WHERE c.run_id = r.run_id AND c.site = ?
                             AND c.reason IN ('document', 'skipped-known') AND c.count > 0)
               ORDER BY r.started_at DESC, r.run_id DESC LIMIT 1""",
            [site, site],
        ).fetchone()
        return None if row is None else {"run_id": row[0], "started_at": row[1]}

    def extraction_fallbacks(self, site: str, run_ids: Sequence[str]) -> int:
        """Documents of ``site`` stored by ``run_ids`` whose body came from a fallback."""
        if not run_ids:
            return 0
        (n,), = self.con.execute(
            """SELECT count(*) FROM documents
               WHERE site = ? AND list_contains(?, run_id)
                 AND (starts_with(provenance->>'body', ?) OR starts_with(provenance->>'body', ?))""",
            [site, list(run_ids), *FALLBACK_BODIES],
        ).fetchall()
        return n
