"""What ``djcrawl report`` charts, read from ``documents``, ``crawl_runs``,
``crawl_run_counts`` and ``reprint_clusters``: plain rows, no drawing.

The store knows no reason categories (``crawler/outcomes.py`` does): it answers counts by
site and reason, and the caller groups them.
"""

from __future__ import annotations

from .connection import Connection

__all__ = ["Report", "SEEDS_SITE", "RELEVANCE_BIN"]

#: The site name the report gives documents without one (the seed reports).
SEEDS_SITE = "(seeds)"
#: Width of a bar of the relevance histogram.
RELEVANCE_BIN = 0.05


class Report(Connection):

    def report_totals(self) -> dict:
        """Documents (all, originals, with a date), runs, pages and the span of publish dates."""
        docs, originals, dated, first, last = self.con.execute(
            """SELECT count(*), count(*) FILTER (WHERE duplicate_of IS NULL), count(published),
                      min(published), max(published) FROM documents""").fetchone()
        (runs,), = self.con.execute("SELECT count(*) FROM crawl_runs").fetchall()
        (pages,), = self.con.execute("SELECT count(*) FROM pages").fetchall()
        return {"documents": docs, "originals": originals, "dated": dated, "first_published": first,
                "last_published": last, "runs": runs, "pages": pages}

    def documents_per_site_month(self) -> list[tuple[str, object, int]]:
        """``(site, month, documents)`` of the dated documents, by month then site."""
        return self.con.execute(
            """SELECT coalesce(site, ?) AS site, date_trunc('month', published)::DATE AS month, count(*)
               FROM documents WHERE published IS NOT NULL GROUP BY ALL ORDER BY month, site""",
            [SEEDS_SITE]).fetchall()

    def documents_per_run(self) -> list[tuple[str, object, int, int, bool]]:
        """``(run_id, started_at, documents_new, documents_updated, through a mirror)``, oldest first."""
        return self.con.execute(
            """SELECT run_id, started_at, coalesce(documents_new, 0), coalesce(documents_updated, 0),
                      mirror IS NOT NULL
               FROM crawl_runs ORDER BY started_at, run_id""").fetchall()

    def counts_per_site_reason(self) -> list[tuple[str, str, int]]:
        """``(site, reason, count)`` summed over every run, by site then reason."""
        return self.con.execute(
            """SELECT site, reason, sum(count)::BIGINT FROM crawl_run_counts
               GROUP BY ALL HAVING sum(count) > 0 ORDER BY site, reason""").fetchall()

    def top_keywords(self, limit: int = 20) -> list[tuple[str, int]]:
        """The keywords most documents have (reprints counted once), most frequent first."""
        return self.con.execute(
            """SELECT kw, count(*) AS n FROM (
                   SELECT unnest(keywords) AS kw FROM documents WHERE duplicate_of IS NULL)
               GROUP BY kw ORDER BY n DESC, kw LIMIT ?""", [limit]).fetchall()

    def largest_reprint_clusters(self, limit: int = 20) -> list[tuple[str, str | None, int, list[str]]]:
        """``(original doc_id, its title, copies, sites of the copies)``, largest first."""
        return self.con.execute(
            """SELECT c.original, o.title, c.copies,
                      (SELECT list(DISTINCT coalesce(d.site, ?) ORDER BY coalesce(d.site, ?))
                         FROM documents d WHERE list_contains(c.members, d.doc_id))
               FROM reprint_clusters c LEFT JOIN documents o ON o.doc_id = c.original
               ORDER BY c.copies DESC, c.original LIMIT ?""", [SEEDS_SITE, SEEDS_SITE, limit]).fetchall()

    def relevance_histogram(self) -> list[tuple[str, float, int]]:
        """``(origin, lower edge of the bin, documents)``, bins of :data:`RELEVANCE_BIN`
        (a score of 1 falls in the last bin)."""
        return self.con.execute(
            """SELECT origin, round(least(floor(relevance / ?), ? - 1) * ?, 4) AS lower, count(*)
               FROM documents WHERE relevance IS NOT NULL GROUP BY ALL ORDER BY origin, lower""",
            [RELEVANCE_BIN, round(1 / RELEVANCE_BIN), RELEVANCE_BIN]).fetchall()
