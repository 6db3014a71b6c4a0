"""``pages``: every fetched page kept raw (zlib-compressed body, validators, why it made
no document, the article it belongs to), so that documents can be rebuilt without the
network. A row is a :class:`~pipelines.page.Page`, in and out."""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Iterator, Sequence

import pyarrow as pa

from ..page import Page
from .connection import Connection

__all__ = ["Pages"]

_PAGE_COLUMNS = [
    "url", "final_url", "site", "status", "kind", "reason", "fetched_at", "encoding",
    "content_type", "etag", "last_modified", "content_hash", "body", "run_id", "doc_id",
    "parent_url", "part_of", "part_no",
]
_PAGE_SCHEMA = pa.schema(
    [
        (name, pa.int32() if name in ("status", "part_no")
         else pa.timestamp("us") if name == "fetched_at"
         else pa.binary() if name == "body"
         else pa.string())
        for name in _PAGE_COLUMNS
    ]
)


class Pages(Connection):

    def put_pages(self, pages: Sequence[Page]) -> None:
        """Store fetched pages (compressed) in one transaction, replacing earlier fetches of a URL.
        A page's ``parts`` are not looked at: the caller passes them as pages of their own."""
        latest = {p.url: p for p in pages}
        if not latest:
            return
        rows = {name: [] for name in _PAGE_COLUMNS}
        for p in latest.values():
            values = {
                "url": p.url, "final_url": p.final_url, "site": p.site, "status": p.status,
                "kind": p.kind, "reason": p.reason, "fetched_at": p.fetched_at or dt.datetime.now(),
                "encoding": p.encoding, "content_type": p.content_type, "etag": p.etag,
                "last_modified": p.last_modified,
                "content_hash": hashlib.sha256(p.body).hexdigest()[:32],
                "body": zlib.compress(p.body, 6), "run_id": p.run_id, "doc_id": p.doc_id,
                "parent_url": p.parent_url, "part_of": p.part_of, "part_no": p.part_no,
            }
            for name in _PAGE_COLUMNS:
                rows[name].append(values[name])
        updates = ", ".join(f"{c} = excluded.{c}" for c in _PAGE_COLUMNS if c != "url")
        # joins the caller's transaction: a crawl batch stores pages and documents together
        with self._registered("_page_batch", pa.table(rows, schema=_PAGE_SCHEMA)):
            self.con.execute(
                f"INSERT INTO pages BY NAME SELECT * FROM _page_batch ON CONFLICT (url) DO UPDATE SET {updates}"
            )

    def known_article_urls(self, site: str | None = None) -> set[str]:
        """URLs of article pages and their attachments already stored (a re-run skips them unless --refresh)."""
        sql = "SELECT url FROM pages WHERE kind IN ('article', 'attachment') AND status BETWEEN 200 AND 299"
        params: list = []
        if site is not None:
            sql += " AND site = ?"
            params.append(site)
        return {r[0] for r in self.con.execute(sql, params).fetchall()}

    # -- article fetches that failed, asked for again by the next runs

    def record_fetch_failures(self, failures: Sequence[tuple[str, str, str]], run_id: str | None,
                              limit: int) -> list[tuple[str, str]]:
        """Count one more failed run for each ``(url, site, reason)`` (a URL stored meanwhile
        is forgotten instead); returns ``(url, site)`` of those that reached ``limit`` runs now."""
        rows = list({url: (url, site, reason) for url, site, reason in failures}.values())
        with self.transaction():
            if rows:
                self.con.executemany(
                    """INSERT INTO fetch_failures VALUES (?, ?, ?, 1, now(), now(), ?)
                       ON CONFLICT (url) DO UPDATE SET reason = excluded.reason, last_failed = now(),
                           run_id = excluded.run_id, attempts = fetch_failures.attempts + 1""",
                    [(url, site, reason, run_id) for url, site, reason in rows],
                )
            # an article stored since (by this run or a --refresh) needs no more asking
            self.con.execute(
                """DELETE FROM fetch_failures f WHERE EXISTS (
                       SELECT 1 FROM pages p WHERE p.url = f.url AND p.status BETWEEN 200 AND 299)""")
            if not rows:
                return []
            return [(u, s) for u, s in self.con.execute(
                "SELECT url, site FROM fetch_failures WHERE run_id = ? AND attempts = ? ORDER BY url",
                [run_id, int(limit)]).fetchall()]

    def failed_fetches(self, limit: int) -> list[tuple[str, str, int]]:
        """``(url, site, attempts)`` of the failed articles to ask for again: fewer than
        ``limit`` failed runs, and not stored since."""
        return [tuple(r) for r in self.con.execute(
            """SELECT url, site, attempts FROM fetch_failures f WHERE attempts < ? AND NOT EXISTS (
                   SELECT 1 FROM pages p WHERE p.url = f.url AND p.status BETWEEN 200 AND 299)
               ORDER BY site, url""", [int(limit)]).fetchall()]

    def list_validators(self) -> dict[str, tuple[str | None, str | None]]:
        """URL -> (ETag, Last-Modified) of every stored list page that has either: a crawl reads
        them once, not with a look-up per list request."""
        rows = self.con.execute("SELECT url, etag, last_modified FROM pages WHERE kind = 'list' "
                                "AND (etag IS NOT NULL OR last_modified IS NOT NULL)").fetchall()
        return {url: (etag, last_modified) for url, etag, last_modified in rows}

    def get_page(self, url: str) -> Page | None:
        """The stored page of a URL (body decompressed): a 304 answer is read from here."""
        for page in self.iter_pages(url=url):
            return page
        return None

    def iter_pages(self, site: str | None = None, kind: str | None = None, batch: int = 500,
                   url: str | None = None) -> Iterator[Page]:
        """Stored pages with their bodies decompressed, in URL order, fetched in batches."""
        where, params = [], []
        if url is not None:
            where.append("url = ?")
            params.append(url)
        if site is not None:
            where.append("site = ?")
            params.append(site)
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        after: str | None = None
        while True:
            # One query a batch, resumed after the last URL: callers run other statements on
            # this connection between batches (reprocess stores documents), and any statement
            # would end an open result early, silently dropping the pages not yet fetched.
            conds = where + ["url > ?"] if after is not None else where
            clause = ("WHERE " + " AND ".join(conds)) if conds else ""
            rows = self.con.execute(
                f"""SELECT url, site, status, body, final_url, kind, reason, fetched_at, encoding,
                           content_type, etag, last_modified, run_id, doc_id, parent_url, part_of, part_no
                    FROM pages {clause} ORDER BY url LIMIT {int(batch)}""",
                params + ([after] if after is not None else []),
            ).fetchall()
            if not rows:
                return
            after = rows[-1][0]
            for r in rows:
                yield Page(
                    url=r[0], site=r[1], status=r[2], body=zlib.decompress(r[3]) if r[3] else b"",
                    final_url=r[4], kind=r[5], reason=r[6], fetched_at=r[7], encoding=r[8],
                    content_type=r[9], etag=r[10], last_modified=r[11], run_id=r[12], doc_id=r[13],
                    parent_url=r[14], part_of=r[15], part_no=r[16],
                )
