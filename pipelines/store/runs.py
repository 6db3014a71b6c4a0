"""``crawl_runs`` and ``crawl_run_counts``: one row a crawl, and its counts per site and reason."""

from __future__ import annotations

import os
from collections.abc import Sequence

from .connection import Connection

__all__ = ["Runs"]

# the totals a run may set (crawl_runs columns)
_TOTALS = ("pages_fetched", "article_pages_fetched", "documents_new", "documents_updated", "errors")


class Runs(Connection):

    def start_run(self, run_id: str, sites: Sequence[str], mirror: str | None = None) -> None:
        """A run begins; ``mirror``: the URL of the mirror it goes through (None: the real sites)."""
        self.con.execute(
            "INSERT INTO crawl_runs (run_id, started_at, status, sites, pid, mirror) "
            "VALUES (?, now(), 'running', ?, ?, ?)",
            [run_id, list(sites), os.getpid(), mirror or None],
        )

    def interrupt_stale_runs(self) -> int:
        """Runs still marked 'running' were killed (whoever opens the file for writing holds its
        lock, so no other crawl is under way): mark them 'interrupted'."""
        (n,), = self.con.execute("SELECT count(*) FROM crawl_runs WHERE status = 'running'").fetchall()
        if n:
            self.con.execute("UPDATE crawl_runs SET status = 'interrupted' WHERE status = 'running'")
        return n

    def last_run_of_site(self, site: str, exclude_run: str | None = None) -> tuple[str | None, set[str]]:
        """Status of the latest run that crawled ``site`` (other than ``exclude_run``) and the
        reasons it counted for the site; ``(None, set())`` if the site was never crawled."""
        row = self.con.execute(
            """SELECT run_id, status FROM crawl_runs
               WHERE list_contains(sites, ?) AND run_id IS DISTINCT FROM ?
               ORDER BY started_at DESC LIMIT 1""",
            [site, exclude_run],
        ).fetchone()
        if row is None:
            return None, set()
        reasons = {r for (r,) in self.con.execute(
            "SELECT reason FROM crawl_run_counts WHERE run_id = ? AND site = ?", [row[0], site]).fetchall()}
        return row[1], reasons

    def finish_run(self, run_id: str, status: str, totals: dict[str, int], counts: dict[tuple[str, str], int]) -> None:
        """Close a run: totals are crawl_runs columns, counts are (site, reason) -> n."""
        sets = ", ".join(f"{k} = ?" for k in totals if k in _TOTALS)
        params = [v for k, v in totals.items() if k in _TOTALS]
        with self.transaction():
            self.con.execute(
                f"UPDATE crawl_runs SET finished_at = now(), status = ?{', ' + sets if sets else ''} WHERE run_id = ?",
                [status, *params, run_id],
            )
            if counts:
                self.con.executemany(
                    """INSERT INTO crawl_run_counts VALUES (?, ?, ?, ?)
                       ON CONFLICT (run_id, site, reason) DO UPDATE SET count = excluded.count""",
                    [(run_id, site, reason, n) for (site, reason), n in counts.items()],
                )

    def get_run(self, run_id: str) -> dict | None:
        cur = self.con.execute("SELECT * FROM crawl_runs WHERE run_id = ?", [run_id])
        row = cur.fetchone()
        return None if row is None else dict(zip([c[0] for c in cur.description], row))

    def run_origins(self) -> tuple[int, int]:
        """``(real, mirrored)``: how many runs of this file crawled the real sites, and how many
        went through a mirror (``crawl_runs.mirror``)."""
        real, mirrored = self.con.execute(
            "SELECT count(*) FILTER (mirror IS NULL), count(*) FILTER (mirror IS NOT NULL) FROM crawl_runs"
        ).fetchone()
        return real, mirrored

    def documents_of_run(self, run_id: str) -> dict[str, int]:
        """Per site, the documents a run stored new or changed (those it wrote carry its run_id)."""
        rows = self.con.execute(
            "SELECT site, count(*) FROM documents WHERE run_id = ? GROUP BY site", [run_id]).fetchall()
        return {site: n for site, n in rows}

    def run_counts(self, run_id: str) -> dict[tuple[str, str], int]:
        rows = self.con.execute(
            "SELECT site, reason, count FROM crawl_run_counts WHERE run_id = ?", [run_id]
        ).fetchall()
        return {(s, r): n for s, r, n in rows}
