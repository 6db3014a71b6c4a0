"""The DuckDB store: the only module that knows the schema or writes SQL.

Everything else calls the methods of :class:`Store`. The schema is versioned:
``MIGRATIONS[i]`` takes a database from version ``i`` to ``i + 1`` and the
version reached is kept in ``schema_version``. A database newer than this code
is refused rather than guessed at.

Writes go in batches through Arrow (one registered table, one ``INSERT ... ON
CONFLICT`` statement per batch): about 20-30x faster than ``executemany`` here,
and each batch is one transaction, so a killed process leaves no half-written
rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from .document import Document
from .errors import DjcrawlError

__all__ = ["Store", "StoreError", "DEFAULT_DB", "default_db_path", "SCHEMA_VERSION"]

DEFAULT_DB = "data/djcrawl.duckdb"


class StoreError(DjcrawlError):
    """The database cannot be opened or used; the message says why in one line."""


def default_db_path(explicit: str | os.PathLike | None = None) -> Path:
    """``--db`` wins, then ``DJCRAWL_DB``, then ``data/djcrawl.duckdb``."""
    return Path(explicit or os.environ.get("DJCRAWL_DB") or DEFAULT_DB)


# --------------------------------------------------------------------------- schema

MIGRATIONS: list[str] = [
    # 0 -> 1: documents, seed files, raw pages and crawl runs.
    """
    CREATE TABLE documents (
        doc_id          VARCHAR PRIMARY KEY,
        origin          VARCHAR NOT NULL CHECK (origin IN ('seed', 'crawl', 'attachment')),
        site            VARCHAR,
        url             VARCHAR,
        seed_file       VARCHAR,
        parent_url      VARCHAR,
        title           VARCHAR,
        original_title  VARCHAR,
        published       DATE,
        source_name     VARCHAR,
        authors         VARCHAR[],
        editor          VARCHAR,
        summary         VARCHAR,
        text            VARCHAR NOT NULL,
        text_original   VARCHAR NOT NULL,
        script          VARCHAR NOT NULL CHECK (script IN ('hans', 'hant')),
        tokens          VARCHAR[],
        keywords        VARCHAR[],
        provenance      JSON,
        content_hash    VARCHAR NOT NULL,
        fetched_at      TIMESTAMP,
        run_id          VARCHAR,
        loaded_at       TIMESTAMP NOT NULL
    );
    CREATE TABLE seed_files (
        seed_file   VARCHAR PRIMARY KEY,
        sha256      VARCHAR NOT NULL,
        content     BLOB NOT NULL,
        loaded_at   TIMESTAMP NOT NULL
    );
    CREATE TABLE pages (
        url             VARCHAR PRIMARY KEY,
        final_url       VARCHAR,
        site            VARCHAR,
        status          INTEGER,
        kind            VARCHAR,   -- 'article', 'list', 'other'
        reason          VARCHAR,   -- why a page is not a document ('list-page', 'empty', ...)
        fetched_at      TIMESTAMP,
        encoding        VARCHAR,
        content_type    VARCHAR,
        etag            VARCHAR,
        last_modified   VARCHAR,
        content_hash    VARCHAR,
        body            BLOB,      -- zlib-compressed raw bytes as received
        run_id          VARCHAR,
        doc_id          VARCHAR
    );
    CREATE TABLE crawl_runs (
        run_id                VARCHAR PRIMARY KEY,
        started_at            TIMESTAMP NOT NULL,
        finished_at           TIMESTAMP,
        status                VARCHAR NOT NULL,  -- 'running', 'finished', 'interrupted', 'failed'
        sites                 VARCHAR[],
        pages_fetched         BIGINT DEFAULT 0,
        article_pages_fetched BIGINT DEFAULT 0,
        documents_new         BIGINT DEFAULT 0,
        documents_updated     BIGINT DEFAULT 0,
        errors                BIGINT DEFAULT 0,
        pid                   INTEGER
    );
    CREATE TABLE crawl_run_counts (
        run_id  VARCHAR NOT NULL,
        site    VARCHAR NOT NULL,
        reason  VARCHAR NOT NULL,
        count   BIGINT NOT NULL,
        PRIMARY KEY (run_id, site, reason)
    );
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)

# Columns of ``documents`` written from a Document, in table order.
_DOC_COLUMNS = [
    "doc_id", "origin", "site", "url", "seed_file", "parent_url", "title", "original_title",
    "published", "source_name", "authors", "editor", "summary", "text", "text_original",
    "script", "tokens", "keywords", "provenance", "content_hash", "fetched_at", "run_id",
    "loaded_at",
]
_DOC_SCHEMA = pa.schema(
    [
        (name, pa.list_(pa.string()) if name in ("authors", "tokens", "keywords")
         else pa.date32() if name == "published"
         else pa.timestamp("us") if name in ("fetched_at", "loaded_at")
         else pa.string())
        for name in _DOC_COLUMNS
    ]
)
_PAGE_COLUMNS = [
    "url", "final_url", "site", "status", "kind", "reason", "fetched_at", "encoding",
    "content_type", "etag", "last_modified", "content_hash", "body", "run_id", "doc_id",
]
_PAGE_SCHEMA = pa.schema(
    [
        (name, pa.int32() if name == "status"
         else pa.timestamp("us") if name == "fetched_at"
         else pa.binary() if name == "body"
         else pa.string())
        for name in _PAGE_COLUMNS
    ]
)


def content_hash(doc: Document) -> str:
    """Hash of everything a reader sees; a reload that changes nothing keeps the row as is."""
    h = hashlib.sha256()
    for value in (doc.title, doc.original_title, doc.published, doc.source_name, doc.authors,
                  doc.editor, doc.summary, doc.text, doc.text_original, doc.site, doc.url,
                  doc.keywords):
        h.update(repr(value).encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:32]


@dataclass
class UpsertResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class PageRecord:
    """One fetched page as stored in ``pages``; ``body`` is the raw, uncompressed bytes."""

    url: str
    site: str | None
    status: int
    body: bytes
    final_url: str | None = None
    kind: str | None = None
    reason: str | None = None
    fetched_at: dt.datetime | None = None
    encoding: str | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    run_id: str | None = None
    doc_id: str | None = None


# --------------------------------------------------------------------------- store

_LOCK_PID = re.compile(r"\(PID (\d+)\)")


def _friendly(path: Path, exc: Exception) -> StoreError:
    msg = str(exc)
    if "Could not set lock" in msg or "Conflicting lock" in msg:
        pid = _LOCK_PID.search(msg)
        holder = f" by process {pid.group(1)}" if pid else ""
        return StoreError(f"database {path} is locked{holder}; wait for it to finish or use another --db")
    if "not a valid DuckDB database" in msg or "Corrupt" in msg or "corrupt" in msg:
        return StoreError(f"database {path} is not a valid DuckDB file (corrupt or another format)")
    if "read-only" in msg or "read only" in msg:
        return StoreError(f"database {path} is opened read-only; this statement would write to it")
    first = msg.strip().splitlines()[0] if msg.strip() else type(exc).__name__
    return StoreError(f"database {path}: {first}")


class Store:
    """A DuckDB file holding the corpus. Use as a context manager."""

    def __init__(self, path: str | os.PathLike, *, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise StoreError(f"database {self.path} does not exist (run `djcrawl load-seeds` or `djcrawl demo` first)")
        if self.path.is_dir():
            raise StoreError(f"database {self.path} is a directory, not a DuckDB file")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise _friendly(self.path, exc) from exc
        try:
            self._check_version()
        except BaseException:
            self.con.close()
            raise

    # -- lifecycle

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def _version(self) -> int:
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
        ).fetchone()[0]
        if not exists:
            return 0
        row = self.con.execute("SELECT max(version) FROM schema_version").fetchone()
        return row[0] or 0

    def _check_version(self) -> None:
        version = self._version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"database {self.path} has schema version {version}, newer than this djcrawl "
                f"understands ({SCHEMA_VERSION}); upgrade djcrawl"
            )
        if version < SCHEMA_VERSION:
            if self.read_only:
                if version == 0:
                    raise StoreError(f"database {self.path} holds no djcrawl data")
                raise StoreError(
                    f"database {self.path} has schema version {version}; open it once for writing to migrate"
                )
            self._migrate(version)

    def _migrate(self, version: int) -> None:
        self.con.execute("BEGIN")
        try:
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)"
            )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                self.con.execute(MIGRATIONS[target - 1])
                self.con.execute("INSERT INTO schema_version VALUES (?, now())", [target])
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    @property
    def schema_version(self) -> int:
        return self._version()

    # -- documents

    def upsert_documents(self, docs: Sequence[Document]) -> UpsertResult:
        """Insert or update documents by ``doc_id`` in one transaction; unchanged rows are left alone."""
        result = UpsertResult()
        latest: dict[str, Document] = {d.doc_id: d for d in docs}  # last one wins within a batch
        if not latest:
            return result
        now = dt.datetime.now()
        hashes = {doc_id: content_hash(d) for doc_id, d in latest.items()}
        rows = {name: [] for name in _DOC_COLUMNS}
        for doc_id, d in latest.items():
            values = {
                "doc_id": d.doc_id, "origin": d.origin, "site": d.site, "url": d.url,
                "seed_file": d.seed_file, "parent_url": d.parent_url, "title": d.title,
                "original_title": d.original_title, "published": d.published,
                "source_name": d.source_name, "authors": list(d.authors), "editor": d.editor,
                "summary": d.summary, "text": d.text, "text_original": d.text_original,
                "script": d.script, "tokens": list(d.tokens), "keywords": list(d.keywords),
                "provenance": json.dumps(d.provenance, ensure_ascii=False, sort_keys=True),
                "content_hash": hashes[doc_id], "fetched_at": d.fetched_at, "run_id": d.run_id,
                "loaded_at": now,
            }
            for name in _DOC_COLUMNS:
                rows[name].append(values[name])
        batch = pa.table(rows, schema=_DOC_SCHEMA)
        self.con.execute("BEGIN")
        try:
            self.con.register("_doc_batch", batch)
            existing = dict(
                self.con.execute(
                    "SELECT d.doc_id, d.content_hash FROM documents d JOIN _doc_batch b USING (doc_id)"
                ).fetchall()
            )
            updates = ", ".join(f"{c} = excluded.{c}" for c in _DOC_COLUMNS if c != "doc_id")
            self.con.execute(
                f"""
                INSERT INTO documents BY NAME
                SELECT * FROM _doc_batch b
                WHERE b.doc_id NOT IN (SELECT doc_id FROM documents)
                   OR b.content_hash <> (SELECT content_hash FROM documents d WHERE d.doc_id = b.doc_id)
                ON CONFLICT (doc_id) DO UPDATE SET {updates}
                """
            )
            self.con.unregister("_doc_batch")
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        for doc_id, h in hashes.items():
            if doc_id not in existing:
                result.new += 1
            elif existing[doc_id] != h:
                result.updated += 1
            else:
                result.unchanged += 1
        return result

    def document_count(self, origin: str | None = None) -> int:
        if origin is None:
            return self.con.execute("SELECT count(*) FROM documents").fetchone()[0]
        return self.con.execute("SELECT count(*) FROM documents WHERE origin = ?", [origin]).fetchone()[0]

    def get_document(self, doc_id: str) -> dict | None:
        cur = self.con.execute("SELECT * FROM documents WHERE doc_id = ?", [doc_id])
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([c[0] for c in cur.description], row))

    def seed_summary(self) -> tuple[list[str], list[tuple]]:
        """The table `make run` prints after loading the seeds."""
        return self.query(
            """
            SELECT doc_id, script, title, published, source_name, authors, editor,
                   length(text) AS chars, len(tokens) AS tokens
            FROM documents WHERE origin = 'seed' ORDER BY doc_id
            """
        )

    # -- seed files (kept byte for byte)

    def put_seed_files(self, files: Iterable[tuple[str, bytes]]) -> None:
        now = dt.datetime.now()
        rows = [(name, hashlib.sha256(data).hexdigest(), data, now) for name, data in files]
        if not rows:
            return
        self.con.execute("BEGIN")
        try:
            self.con.executemany(
                """
                INSERT INTO seed_files VALUES (?, ?, ?, ?)
                ON CONFLICT (seed_file) DO UPDATE SET sha256 = excluded.sha256,
                    content = excluded.content, loaded_at = excluded.loaded_at
                """,
                rows,
            )
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def seed_file_bytes(self, seed_file: str) -> bytes | None:
        row = self.con.execute("SELECT content FROM seed_files WHERE seed_file = ?", [seed_file]).fetchone()
        return None if row is None else bytes(row[0])

    # -- pages

    def put_pages(self, pages: Sequence[PageRecord]) -> None:
        """Store fetched pages (compressed) in one transaction, replacing earlier fetches of a URL."""
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
            }
            for name in _PAGE_COLUMNS:
                rows[name].append(values[name])
        batch = pa.table(rows, schema=_PAGE_SCHEMA)
        updates = ", ".join(f"{c} = excluded.{c}" for c in _PAGE_COLUMNS if c != "url")
        self.con.execute("BEGIN")
        try:
            self.con.register("_page_batch", batch)
            self.con.execute(
                f"INSERT INTO pages BY NAME SELECT * FROM _page_batch ON CONFLICT (url) DO UPDATE SET {updates}"
            )
            self.con.unregister("_page_batch")
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def known_article_urls(self, site: str | None = None) -> set[str]:
        """URLs of article pages already stored (a re-run skips them unless --refresh)."""
        sql = "SELECT url FROM pages WHERE kind = 'article' AND status BETWEEN 200 AND 299"
        params: list = []
        if site is not None:
            sql += " AND site = ?"
            params.append(site)
        return {r[0] for r in self.con.execute(sql, params).fetchall()}

    def page_validators(self, url: str) -> tuple[str | None, str | None]:
        """ETag and Last-Modified of a stored page, for conditional requests."""
        row = self.con.execute("SELECT etag, last_modified FROM pages WHERE url = ?", [url]).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def iter_pages(self, site: str | None = None, kind: str | None = None, batch: int = 500) -> Iterator[PageRecord]:
        """Stored pages with their bodies decompressed, in URL order, fetched in batches."""
        where, params = [], []
        if site is not None:
            where.append("site = ?")
            params.append(site)
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        cur = self.con.execute(
            f"""SELECT url, site, status, body, final_url, kind, reason, fetched_at, encoding,
                       content_type, etag, last_modified, run_id, doc_id
                FROM pages {clause} ORDER BY url""",
            params,
        )
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                return
            for r in rows:
                yield PageRecord(
                    url=r[0], site=r[1], status=r[2], body=zlib.decompress(r[3]) if r[3] else b"",
                    final_url=r[4], kind=r[5], reason=r[6], fetched_at=r[7], encoding=r[8],
                    content_type=r[9], etag=r[10], last_modified=r[11], run_id=r[12], doc_id=r[13],
                )

    # -- crawl runs

    def start_run(self, run_id: str, sites: Sequence[str]) -> None:
        self.con.execute(
            "INSERT INTO crawl_runs (run_id, started_at, status, sites, pid) VALUES (?, now(), 'running', ?, ?)",
            [run_id, list(sites), os.getpid()],
        )

    def finish_run(self, run_id: str, status: str, totals: dict[str, int], counts: dict[tuple[str, str], int]) -> None:
        """Close a run: totals are crawl_runs columns, counts are (site, reason) -> n."""
        allowed = {"pages_fetched", "article_pages_fetched", "documents_new", "documents_updated", "errors"}
        sets = ", ".join(f"{k} = ?" for k in totals if k in allowed)
        params = [v for k, v in totals.items() if k in allowed]
        self.con.execute("BEGIN")
        try:
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
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def get_run(self, run_id: str) -> dict | None:
        cur = self.con.execute("SELECT * FROM crawl_runs WHERE run_id = ?", [run_id])
        row = cur.fetchone()
        return None if row is None else dict(zip([c[0] for c in cur.description], row))

    def run_counts(self, run_id: str) -> dict[tuple[str, str], int]:
        rows = self.con.execute(
            "SELECT site, reason, count FROM crawl_run_counts WHERE run_id = ?", [run_id]
        ).fetchall()
        return {(s, r): n for s, r, n in rows}

    # -- ad-hoc SQL (the `query` command)

    def query(self, sql: str, params: Sequence | None = None) -> tuple[list[str], list[tuple]]:
        try:
            cur = self.con.execute(sql, params or [])
        except duckdb.Error as exc:
            raise _friendly_sql(self.path, exc) from exc
        if cur.description is None:
            return [], []
        return [c[0] for c in cur.description], cur.fetchall()


def _friendly_sql(path: Path, exc: Exception) -> StoreError:
    msg = str(exc)
    if "read-only" in msg or "read only" in msg:
        return StoreError(f"query is read-only: the statement would change {path}")
    first = msg.strip().splitlines()[0] if msg.strip() else type(exc).__name__
    return StoreError(f"SQL error: {first}")
