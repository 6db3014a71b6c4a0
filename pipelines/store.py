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

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

# DuckDB's allocator on Linux is jemalloc, which by default keeps freed pages for ~10 s
# before giving them back: a crawl storing a batch every few seconds then never gives
# them back. Returning them at once kept 1,000 stored documents at +109 MB of RSS instead
# of +281 MB, for ~5 % more CPU in the store stage (benchmarks/README.md, "Where the
# crawl's memory goes"). Read once, when the library loads: it must be set before the
# import. A value the user set wins.
os.environ.setdefault("DUCKDB_JE_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402

from .document import Document, content_hash
from .index.entry import IndexEntry
from .errors import DjcrawlError

__all__ = ["Store", "StoreError", "DEFAULT_DB", "default_db_path", "SCHEMA_VERSION"]

DEFAULT_DB = "data/djcrawl.duckdb"


class StoreError(DjcrawlError):
    """The database cannot be opened or used; the message says why in one line."""


def default_db_path(explicit: str | os.PathLike | None = None) -> Path:
    """``--db`` wins, then ``DJCRAWL_DB``, then ``data/djcrawl.duckdb``."""
    return Path(explicit or os.environ.get("DJCRAWL_DB") or DEFAULT_DB)


# --------------------------------------------------------------------------- schema

MIGRATIONS: list = [  # SQL, or a Store method for a step SQL cannot do
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
    # 1 -> 2: reprint links, relevance, the LSH band table and the BM25 index, plus the
    # SQL macros users call from `djcrawl query` (macros made here persist in the file,
    # so read-only connections can call them). BM25: k1 = 1.2, b = 0.75.
    """
    ALTER TABLE documents ADD COLUMN fingerprint UINTEGER[];   -- MinHash signature (pipelines/index/fingerprint.py)
    ALTER TABLE documents ADD COLUMN duplicate_of VARCHAR;     -- earliest document of its reprint cluster
    ALTER TABLE documents ADD COLUMN relevance DOUBLE;         -- 0..1 closeness to the seed reports
    CREATE TABLE doc_bands (band SMALLINT NOT NULL, bucket UBIGINT NOT NULL, doc_id VARCHAR NOT NULL);
    CREATE INDEX doc_bands_bucket ON doc_bands (bucket);
    CREATE TABLE doc_terms (term VARCHAR NOT NULL, doc_id VARCHAR NOT NULL, tf INTEGER NOT NULL);
    CREATE INDEX doc_terms_term ON doc_terms (term);
    CREATE TABLE doc_vocab (term VARCHAR PRIMARY KEY, df INTEGER NOT NULL);
    CREATE TABLE doc_lengths (doc_id VARCHAR PRIMARY KEY, length INTEGER NOT NULL);

    CREATE MACRO bm25_stats() AS TABLE
        SELECT count(*)::DOUBLE AS n, coalesce(avg(length), 1)::DOUBLE AS avgdl FROM doc_lengths;

    -- BM25 of every document holding at least one of the (already segmented) terms.
    CREATE MACRO bm25_terms(qterms) AS TABLE
        WITH q AS (
            SELECT term, df FROM doc_vocab
            WHERE df > 0 AND term IN (SELECT DISTINCT lower(unnest(qterms)))
        ), hits AS (
            SELECT t.doc_id, t.term, t.tf, q.df FROM doc_terms t JOIN q USING (term)
            WHERE t.term IN (SELECT DISTINCT lower(unnest(qterms)))  -- constants: an index scan
        )
        SELECT h.doc_id,
               sum(ln(1 + (s.n - h.df + 0.5) / (h.df + 0.5))
                   * h.tf * 2.2 / (h.tf + 1.2 * (0.25 + 0.75 * l.length / s.avgdl))) AS score,
               count(*)::INTEGER AS matched_terms
        FROM hits h JOIN doc_lengths l USING (doc_id) CROSS JOIN bm25_stats() s
        GROUP BY h.doc_id;

    -- SQL has no segmenter: the terms of a query are the indexed words found in it,
    -- longest first (a word inside a longer matched word is dropped).
    CREATE MACRO query_terms(q) AS (
        WITH m AS (
            SELECT term FROM doc_vocab
            WHERE df > 0 AND contains(lower(q), term) AND (length(term) > 1 OR length(trim(q)) = 1)
        )
        SELECT coalesce(list(a.term ORDER BY a.term), []::VARCHAR[]) FROM m a
        WHERE NOT EXISTS (SELECT 1 FROM m b WHERE length(b.term) > length(a.term) AND contains(b.term, a.term))
    );

    CREATE MACRO search_bm25(q) AS TABLE
        SELECT d.doc_id, d.title, d.published, d.site, b.score, b.matched_terms, d.duplicate_of
        FROM bm25_terms(query_terms(q)) b JOIN documents d USING (doc_id)
        ORDER BY b.score DESC, d.doc_id;

    -- "More like this": the document's 40 heaviest terms (tf-idf) as a weighted BM25
    -- query, divided by the document's own score (a verbatim copy scores about 1);
    -- jaccard is the MinHash estimate of shared text (near 1 for reprints).
    -- similar_weighted takes the terms as a list so that, given constants (as the
    -- `similar` command passes them), postings are read through the term index.
    CREATE MACRO similar_source(id) AS TABLE
        WITH src_tf AS (
            SELECT lower(t) AS term, count(*) AS tf
            FROM (SELECT unnest(tokens) AS t FROM documents WHERE doc_id = id) GROUP BY 1
        )
        SELECT s.term, (1 + ln(s.tf)) * ln(1 + (st.n - v.df + 0.5) / (v.df + 0.5)) AS w
        FROM src_tf s JOIN doc_vocab v USING (term) CROSS JOIN bm25_stats() st
        WHERE v.df > 0 ORDER BY w DESC, s.term LIMIT 40;

    CREATE MACRO similar_weighted(id, terms, weights) AS TABLE
        WITH src AS (
            SELECT unnest(terms) AS term, unnest(weights) AS w
        ), hits AS (
            SELECT t.doc_id, t.tf, src.w, v.df FROM doc_terms t JOIN src USING (term) JOIN doc_vocab v USING (term)
            WHERE t.term IN (SELECT unnest(terms))
        ), scored AS (
            SELECT h.doc_id,
                   sum(h.w * ln(1 + (st.n - h.df + 0.5) / (h.df + 0.5))
                       * h.tf * 2.2 / (h.tf + 1.2 * (0.25 + 0.75 * l.length / st.avgdl))) AS raw
            FROM hits h JOIN doc_lengths l USING (doc_id) CROSS JOIN bm25_stats() st
            GROUP BY h.doc_id
        ), self AS (SELECT raw FROM scored WHERE doc_id = id)
        SELECT d.doc_id, d.title, d.published, d.site, sc.raw / self.raw AS score,
               (SELECT list_sum(list_transform(range(1, len(o.fingerprint) + 1),
                                lambda i: (o.fingerprint[i] = d.fingerprint[i])::INTEGER))::DOUBLE
                       / len(o.fingerprint) FROM documents o WHERE o.doc_id = id) AS jaccard,
               d.duplicate_of
        FROM scored sc CROSS JOIN self JOIN documents d ON d.doc_id = sc.doc_id
        WHERE sc.doc_id <> id
        ORDER BY score DESC, d.doc_id;

    CREATE MACRO similar_to(id) AS TABLE
        SELECT * FROM similar_weighted(
            id,
            (SELECT coalesce(list(term ORDER BY w DESC, term), []::VARCHAR[]) FROM similar_source(id)),
            (SELECT coalesce(list(w ORDER BY w DESC, term), []::DOUBLE[]) FROM similar_source(id)));

    -- One row per report printed more than once: its earliest document and every copy.
    CREATE VIEW reprint_clusters AS
        SELECT coalesce(duplicate_of, doc_id) AS original, count(*) AS copies,
               list(doc_id ORDER BY doc_id) AS members
        FROM documents GROUP BY 1 HAVING count(*) > 1;
    """,
    # 2 -> 3: the two text columns written again, so that they leave ZSTD (see NO_ZSTD
    # below; the setting is in force while this runs).
    """
    ALTER TABLE documents ALTER COLUMN text SET DATA TYPE VARCHAR USING text;
    ALTER TABLE documents ALTER COLUMN text_original SET DATA TYPE VARCHAR USING text_original;
    """,
    # 3 -> 4: postings keyed by an integer term id. Finding a word's postings scans
    # doc_postings (a common word's are too many for an index lookup); over integers
    # that scan is ~5x faster than over the words themselves (10k documents, four common
    # words: 375 -> 76 ms). There is no index on term_id: postings go in sorted by
    # term_id batch by batch, and the filtered scan answers as fast as an index lookup
    # (100k documents: search 49-107 ms, README query 3 32 ms, both with or without one),
    # while the index held ~100 MB more in memory per 1,000 documents added at 100k and
    # cost ~10 % of the load's CPU (benchmarks/README.md). `doc_terms` stays, as a view
    # with the columns it had, for the queries users wrote against it. "More like this"
    # is scored apart from the rows it shows (similar_scores), so that a caller wanting
    # the best 10 reads 10 rows of `documents`, and the source's fingerprint once.
    """
    CREATE TABLE doc_vocab_v4 (term VARCHAR PRIMARY KEY, term_id INTEGER NOT NULL UNIQUE, df INTEGER NOT NULL);
    INSERT INTO doc_vocab_v4 SELECT term, row_number() OVER (ORDER BY term), df FROM doc_vocab;
    CREATE TABLE doc_postings (term_id INTEGER NOT NULL, doc_id VARCHAR NOT NULL, tf INTEGER NOT NULL);
    INSERT INTO doc_postings
        SELECT v.term_id, t.doc_id, t.tf FROM doc_terms t JOIN doc_vocab_v4 v USING (term) ORDER BY v.term_id;
    DROP TABLE doc_terms;
    DROP TABLE doc_vocab;
    ALTER TABLE doc_vocab_v4 RENAME TO doc_vocab;
    CREATE VIEW doc_terms AS
        SELECT v.term, p.doc_id, p.tf FROM doc_postings p JOIN doc_vocab v USING (term_id);

    -- The postings of the query's words: `term_id IN (...)` said again where the
    -- postings are read, so the scan skips the others (a join alone: 2-3x slower).
    CREATE OR REPLACE MACRO bm25_terms(qterms) AS TABLE
        WITH q AS (
            SELECT term_id, df FROM doc_vocab
            WHERE df > 0 AND term IN (SELECT DISTINCT lower(unnest(qterms)))
        ), hits AS (
            SELECT p.doc_id, p.tf, q.df FROM doc_postings p JOIN q USING (term_id)
            WHERE p.term_id IN (SELECT term_id FROM q)
        )
        SELECT h.doc_id,
               sum(ln(1 + (s.n - h.df + 0.5) / (h.df + 0.5))
                   * h.tf * 2.2 / (h.tf + 1.2 * (0.25 + 0.75 * l.length / s.avgdl))) AS score,
               count(*)::INTEGER AS matched_terms
        FROM hits h JOIN doc_lengths l USING (doc_id) CROSS JOIN bm25_stats() s
        GROUP BY h.doc_id;

    CREATE OR REPLACE MACRO similar_scores(id, terms, weights) AS TABLE
        WITH src AS (
            SELECT v.term_id, v.df, s.w
            FROM (SELECT unnest(terms) AS term, unnest(weights) AS w) s JOIN doc_vocab v USING (term)
        ), hits AS (
            SELECT p.doc_id, p.tf, src.w, src.df FROM doc_postings p JOIN src USING (term_id)
            WHERE p.term_id IN (SELECT term_id FROM src)
        ), scored AS (
            SELECT h.doc_id,
                   sum(h.w * ln(1 + (st.n - h.df + 0.5) / (h.df + 0.5))
                       * h.tf * 2.2 / (h.tf + 1.2 * (0.25 + 0.75 * l.length / st.avgdl))) AS raw
            FROM hits h JOIN doc_lengths l USING (doc_id) CROSS JOIN bm25_stats() st
            GROUP BY h.doc_id
        ), relative AS (
            -- the source's own score through a window, not a second reference to `scored`:
            -- referenced twice, the postings were scanned whole (10k documents: 260 ms vs 25)
            SELECT doc_id, raw / max(raw) FILTER (WHERE doc_id = id) OVER () AS score FROM scored
        )
        SELECT doc_id, score FROM relative WHERE doc_id <> id AND score IS NOT NULL;

    -- MinHash estimate of shared text between two fingerprints (share of equal slots).
    CREATE OR REPLACE MACRO fingerprint_jaccard(a, b) AS
        list_sum(list_transform(range(1, len(a) + 1), lambda i: (a[i] = b[i])::INTEGER))::DOUBLE / len(a);

    CREATE OR REPLACE MACRO similar_weighted(id, terms, weights) AS TABLE
        WITH fp AS (SELECT fingerprint FROM documents WHERE doc_id = id)
        SELECT d.doc_id, d.title, d.published, d.site, s.score,
               fingerprint_jaccard(fp.fingerprint, d.fingerprint) AS jaccard, d.duplicate_of
        FROM similar_scores(id, terms, weights) s JOIN documents d USING (doc_id) CROSS JOIN fp
        ORDER BY s.score DESC, d.doc_id;
    """,
    # 4 -> 5: MinHash signatures with a shingle hash NumPy computes for a whole text at
    # once (pipelines/index/fingerprint.py): the stored ones, and their bands, computed again.
    lambda store: store._refingerprint(),
]
SCHEMA_VERSION = len(MIGRATIONS)

# DuckDB stores long strings (a report's text) with ZSTD over a whole column segment of
# up to ~2,000 rows: reading ONE document's text then decompresses all of them. At 10,000
# documents that made fetching one text take ~70-100 ms, a search's 10 texts ~700 ms, and
# a scan such as `text LIKE '%...%'` 5x slower. Without it the texts are stored
# uncompressed: +60 % for the documents table on disk, one text in ~1 ms
# (benchmarks/README.md, "Store and query"). DuckDB does not keep the setting in the
# file, so every writing connection sets it.
NO_ZSTD = "SET disabled_compression_methods = 'zstd'"

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
        self._tx_depth = 0
        if read_only and not self.path.exists():
            raise StoreError(f"database {self.path} does not exist (run `djcrawl load-seeds` or `djcrawl demo` first)")
        if self.path.is_dir():
            raise StoreError(f"database {self.path} is a directory, not a DuckDB file")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # read-only means the database file and nothing else: no COPY TO files, no reading
            # other files, no extension downloads (a query is data, never a way out)
            config = ({"enable_external_access": False, "autoinstall_known_extensions": False,
                       "autoload_known_extensions": False} if read_only else {})
            self.con = duckdb.connect(str(self.path), read_only=read_only, config=config)
            if not read_only:
                self.con.execute(NO_ZSTD)
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
        with self.transaction():  # all steps or none
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)"
            )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                step = MIGRATIONS[target - 1]
                if callable(step):
                    step(self)
                else:
                    self.con.execute(step)
                self.con.execute("INSERT INTO schema_version VALUES (?, now())", [target])

    def _refingerprint(self, batch: int = 2000) -> None:
        """Migration 4 -> 5: every stored MinHash signature and its LSH bands computed again
        with the shingle hash of :mod:`pipelines.fingerprint` (the text is what they are
        taken over, so nothing else changes; reprint links stay as they are)."""
        from .index.fingerprint import lsh_buckets, text_signature

        self.con.execute("DELETE FROM doc_bands")
        last = ""
        while True:
            rows = self.con.execute(
                """SELECT doc_id, text FROM documents WHERE doc_id > ? AND fingerprint IS NOT NULL
                   ORDER BY doc_id LIMIT ?""", [last, batch]).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            sigs = {doc_id: text_signature(text) for doc_id, text in rows}
            bands = [(doc_id, band, bucket) for doc_id, sig in sigs.items() if sig for band, bucket in lsh_buckets(sig)]
            with self._registered("_new_fingerprints", {"doc_id": (pa.string(), list(sigs)),
                                                        "fingerprint": (pa.list_(pa.uint32()), list(sigs.values()))}):
                self.con.execute(
                    """UPDATE documents SET fingerprint = f.fingerprint FROM _new_fingerprints f
                       WHERE documents.doc_id = f.doc_id"""
                )
            with self._registered("_new_bands", {"band": (pa.int16(), [b[1] for b in bands]),
                                                 "bucket": (pa.uint64(), [b[2] for b in bands]),
                                                 "doc_id": (pa.string(), [b[0] for b in bands])}):
                self.con.execute("INSERT INTO doc_bands SELECT band, bucket, doc_id FROM _new_bands")

    @property
    def schema_version(self) -> int:
        return self._version()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction; nested uses join the outer one, so a caller can group several writes."""
        if self._tx_depth:
            self._tx_depth += 1
            try:
                yield
            finally:
                self._tx_depth -= 1
            return
        self.con.execute("BEGIN")
        self._tx_depth = 1
        try:
            yield
        except BaseException:
            self._tx_depth = 0
            self.con.execute("ROLLBACK")
            raise
        self._tx_depth = 0
        self.con.execute("COMMIT")

    # -- documents

    def upsert_documents(self, docs: Sequence[Document]) -> UpsertResult:
        """Insert or update documents by ``doc_id`` in one transaction; unchanged rows are left alone."""
        result = UpsertResult()
        latest: dict[str, Document] = {d.doc_id: d for d in docs}  # last one wins within a batch
        if not latest:
            return result
        now = dt.datetime.now()
        hashes = {doc_id: content_hash(d) for doc_id, d in latest.items()}
        with self.transaction():
            # Looked up by key, so the cost follows the batch, not the size of the corpus.
            existing = dict(self.con.execute(
                "SELECT doc_id, content_hash FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))",
                [list(latest)],
            ).fetchall())
            changed = [d for doc_id, d in latest.items() if existing.get(doc_id) != hashes[doc_id]]
            if changed:
                self._write_documents(changed, hashes, now)
        for doc_id, h in hashes.items():
            if doc_id not in existing:
                result.new += 1
            elif existing[doc_id] != h:
                result.updated += 1
            else:
                result.unchanged += 1
        return result

    def _write_documents(self, docs: Sequence[Document], hashes: dict[str, str], now: dt.datetime) -> None:
        rows = {name: [] for name in _DOC_COLUMNS}
        for d in docs:
            values = {
                "doc_id": d.doc_id, "origin": d.origin, "site": d.site, "url": d.url,
                "seed_file": d.seed_file, "parent_url": d.parent_url, "title": d.title,
                "original_title": d.original_title, "published": d.published,
                "source_name": d.source_name, "authors": list(d.authors), "editor": d.editor,
                "summary": d.summary, "text": d.text, "text_original": d.text_original,
                "script": d.script, "tokens": list(d.tokens), "keywords": list(d.keywords),
                "provenance": json.dumps(d.provenance, ensure_ascii=False, sort_keys=True),
                "content_hash": hashes[d.doc_id], "fetched_at": d.fetched_at, "run_id": d.run_id,
                "loaded_at": now,
            }
            for name in _DOC_COLUMNS:
                rows[name].append(values[name])
        batch = pa.table(rows, schema=_DOC_SCHEMA)
        updates = ", ".join(f"{c} = excluded.{c}" for c in _DOC_COLUMNS if c != "doc_id")
        self.con.register("_doc_batch", batch)
        try:
            self.con.execute(
                f"INSERT INTO documents BY NAME SELECT * FROM _doc_batch ON CONFLICT (doc_id) DO UPDATE SET {updates}"
            )
        finally:
            self.con.unregister("_doc_batch")

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
        with self.transaction():
            self.con.executemany(
                """
                INSERT INTO seed_files VALUES (?, ?, ?, ?)
                ON CONFLICT (seed_file) DO UPDATE SET sha256 = excluded.sha256,
                    content = excluded.content, loaded_at = excluded.loaded_at
                """,
                rows,
            )

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
        with self.transaction():  # joins the caller's: a crawl batch stores pages and documents together
            self.con.register("_page_batch", batch)
            self.con.execute(
                f"INSERT INTO pages BY NAME SELECT * FROM _page_batch ON CONFLICT (url) DO UPDATE SET {updates}"
            )
            self.con.unregister("_page_batch")

    def known_article_urls(self, site: str | None = None) -> set[str]:
        """URLs of article pages and their attachments already stored (a re-run skips them unless --refresh)."""
        sql = "SELECT url FROM pages WHERE kind IN ('article', 'attachment') AND status BETWEEN 200 AND 299"
        params: list = []
        if site is not None:
            sql += " AND site = ?"
            params.append(site)
        return {r[0] for r in self.con.execute(sql, params).fetchall()}

    def page_validators(self, url: str) -> tuple[str | None, str | None]:
        """ETag and Last-Modified of a stored page, for conditional requests."""
        row = self.con.execute("SELECT etag, last_modified FROM pages WHERE url = ?", [url]).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def get_page(self, url: str) -> PageRecord | None:
        """The stored page of a URL (body decompressed): a 304 answer is read from here."""
        for page in self.iter_pages(url=url):
            return page
        return None

    def iter_pages(self, site: str | None = None, kind: str | None = None, batch: int = 500,
                   url: str | None = None) -> Iterator[PageRecord]:
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
                           content_type, etag, last_modified, run_id, doc_id
                    FROM pages {clause} ORDER BY url LIMIT {int(batch)}""",
                params + ([after] if after is not None else []),
            ).fetchall()
            if not rows:
                return
            after = rows[-1][0]
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

    # -- reprint links, relevance and the search index (driven by pipelines/corpus.py)

    def index_state(self, doc_ids: Sequence[str]) -> dict[str, tuple[str, bool]]:
        """doc_id -> (content_hash, already indexed?) for the stored ones among ``doc_ids``."""
        rows = self.con.execute(
            """SELECT d.doc_id, d.content_hash, l.doc_id IS NOT NULL
               FROM documents d LEFT JOIN doc_lengths l USING (doc_id)
               WHERE d.doc_id IN (SELECT unnest(?::VARCHAR[]))""",
            [list(doc_ids)],
        ).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def unindexed_doc_ids(self) -> list[str]:
        """Documents stored without fingerprint and postings (e.g. written before schema 2)."""
        return [r[0] for r in self.con.execute(
            "SELECT doc_id FROM documents WHERE doc_id NOT IN (SELECT doc_id FROM doc_lengths) ORDER BY doc_id"
        ).fetchall()]

    def replace_index(self, entries: Sequence[IndexEntry], reindexed: Sequence[str] = ()) -> None:
        """Write fingerprints, LSH bands, BM25 postings and relevance; ``reindexed`` ids lose their old rows first."""
        if not entries:
            return
        bands = {"band": [], "bucket": [], "doc_id": []}
        terms = {"term": [], "doc_id": [], "tf": []}
        docs = {"doc_id": [], "fingerprint": [], "relevance": [], "length": []}
        for e in entries:
            for band, bucket in e.bands:
                bands["band"].append(band)
                bands["bucket"].append(bucket)
                bands["doc_id"].append(e.doc_id)
            for term, tf in e.terms.items():
                terms["term"].append(term)
                terms["doc_id"].append(e.doc_id)
                terms["tf"].append(tf)
            docs["doc_id"].append(e.doc_id)
            docs["fingerprint"].append(e.fingerprint)
            docs["relevance"].append(e.relevance)
            docs["length"].append(e.length)
        band_t = pa.table(bands, schema=pa.schema([("band", pa.int16()), ("bucket", pa.uint64()), ("doc_id", pa.string())]))
        term_t = pa.table(terms, schema=pa.schema([("term", pa.string()), ("doc_id", pa.string()), ("tf", pa.int32())]))
        doc_t = pa.table(docs, schema=pa.schema([("doc_id", pa.string()), ("fingerprint", pa.list_(pa.uint32())),
                                                  ("relevance", pa.float64()), ("length", pa.int32())]))
        with self.transaction():
            if reindexed:
                old = [list(reindexed)]
                # Old postings leave the document frequencies before they are deleted.
                self.con.execute(
                    """UPDATE doc_vocab SET df = doc_vocab.df - c.n
                       FROM (SELECT term_id, count(*) AS n FROM doc_postings
                             WHERE doc_id IN (SELECT unnest(?::VARCHAR[])) GROUP BY term_id) c
                       WHERE doc_vocab.term_id = c.term_id""",
                    old,
                )
                self.con.execute("DELETE FROM doc_postings WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))", old)
                self.con.execute("DELETE FROM doc_bands WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))", old)
            self.con.register("_idx_bands", band_t)
            self.con.register("_idx_terms", term_t)
            self.con.register("_idx_docs", doc_t)
            try:
                self.con.execute("INSERT INTO doc_bands SELECT band, bucket, doc_id FROM _idx_bands")
                # words seen for the first time get the next ids, then every word's df grows
                self.con.execute(
                    """INSERT INTO doc_vocab
                       SELECT term, (SELECT coalesce(max(term_id), 0) FROM doc_vocab) + row_number() OVER (ORDER BY term), 0
                       FROM (SELECT DISTINCT term FROM _idx_terms) n
                       WHERE NOT EXISTS (SELECT 1 FROM doc_vocab v WHERE v.term = n.term)"""
                )
                self.con.execute(
                    """UPDATE doc_vocab SET df = doc_vocab.df + c.n
                       FROM (SELECT term, count(*) AS n FROM _idx_terms GROUP BY term) c
                       WHERE doc_vocab.term = c.term"""
                )
                self.con.execute(
                    """INSERT INTO doc_postings
                       SELECT v.term_id, i.doc_id, i.tf FROM _idx_terms i JOIN doc_vocab v USING (term)
                       ORDER BY v.term_id"""
                )
                self.con.execute(
                    """INSERT INTO doc_lengths SELECT doc_id, length FROM _idx_docs
                       ON CONFLICT (doc_id) DO UPDATE SET length = excluded.length"""
                )
                self.con.execute(
                    """UPDATE documents SET fingerprint = b.fingerprint, relevance = b.relevance
                       FROM _idx_docs b WHERE documents.doc_id = b.doc_id"""
                )
            finally:
                for name in ("_idx_bands", "_idx_terms", "_idx_docs"):
                    self.con.unregister(name)

    def band_neighbours(self, buckets: Sequence[int]) -> list[tuple[int, str]]:
        """``(bucket, doc_id)`` of every document in one of these LSH buckets (an index lookup each)."""
        if not buckets:
            return []
        return self.con.execute(
            "SELECT bucket, doc_id FROM doc_bands WHERE bucket IN (SELECT unnest(?::UBIGINT[]))",
            [list(set(buckets))],
        ).fetchall()

    def fingerprints(self, doc_ids: Iterable[str]) -> dict[str, list[int]]:
        rows = self.con.execute(
            "SELECT doc_id, fingerprint FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[])) AND fingerprint IS NOT NULL",
            [list(set(doc_ids))],
        ).fetchall()
        return {r[0]: r[1] for r in rows}

    def cluster_members(self, doc_ids: Iterable[str]) -> list[tuple[str, str]]:
        """``(member, earliest)`` for every document of the reprint clusters these documents belong to."""
        return [tuple(r) for r in self.con.execute(
            """SELECT doc_id, coalesce(duplicate_of, doc_id) FROM documents WHERE coalesce(duplicate_of, doc_id) IN (
                   SELECT coalesce(duplicate_of, doc_id) FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[])))""",
            [list(set(doc_ids))],
        ).fetchall()]

    def reprint_candidates(self, owned: Sequence[tuple[str, int]], per_cluster: int) -> list[tuple[str, str, str]]:
        """``(doc, neighbour, neighbour's cluster root)`` for documents owning LSH ``(doc, bucket)``s:
        per document and neighbouring cluster, the ``per_cluster`` neighbours sharing the most
        buckets with it. Counted here, not in Python: a bucket a whole site's template fills
        holds thousands of documents."""
        if not owned:
            return []
        return [tuple(r) for r in self.con.execute(
            """WITH mine AS (SELECT unnest(?::VARCHAR[]) AS a, unnest(?::UBIGINT[]) AS bucket),
               hits AS (
                   SELECT m.a, b.doc_id AS n, count(*) AS shared
                   FROM mine m JOIN doc_bands b ON b.bucket = m.bucket
                   WHERE b.doc_id <> m.a
                   GROUP BY m.a, b.doc_id)
               SELECT h.a, h.n, coalesce(d.duplicate_of, d.doc_id) AS root
               FROM hits h JOIN documents d ON d.doc_id = h.n
               QUALIFY row_number() OVER (PARTITION BY h.a, root ORDER BY h.shared DESC, h.n) <= ?""",
            [[a for a, _ in owned], [b for _, b in owned], per_cluster],
        ).fetchall()]

    def published_dates(self, doc_ids: Iterable[str]) -> dict[str, dt.date]:
        """``doc_id -> published`` of the stored documents among these that have a date."""
        return dict(self.con.execute(
            "SELECT doc_id, published FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[])) AND published IS NOT NULL",
            [list(set(doc_ids))],
        ).fetchall())

    def cluster_roots(self, doc_ids: Iterable[str]) -> dict[str, str]:
        """``doc_id -> earliest member of its reprint cluster`` (itself for an original)."""
        return dict(self.con.execute(
            "SELECT doc_id, coalesce(duplicate_of, doc_id) FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))",
            [list(set(doc_ids))],
        ).fetchall())

    @contextlib.contextmanager
    def _registered(self, name: str, columns: dict[str, tuple[pa.DataType, list]]):
        """``columns`` (name -> (Arrow type, values)) readable by SQL as table ``name``, inside
        one transaction (the caller's, if open)."""
        table = pa.table({c: values for c, (_t, values) in columns.items()},
                         schema=pa.schema([(c, t) for c, (t, _v) in columns.items()]))
        with self.transaction():
            self.con.register(name, table)
            try:
                yield
            finally:
                self.con.unregister(name)

    def move_clusters(self, moves: dict[str, str]) -> None:
        """Point each cluster named by a key (its old earliest member and every member linked
        to it) at the value, the cluster's new earliest member."""
        if not moves:
            return
        with self._registered("_cluster_moves", {"old": (pa.string(), list(moves)),
                                                 "new": (pa.string(), list(moves.values()))}):
            self.con.execute(
                """UPDATE documents SET duplicate_of = m.new FROM _cluster_moves m
                   WHERE documents.duplicate_of = m.old OR documents.doc_id = m.old"""
            )

    def earliest_keys(self, doc_ids: Iterable[str]) -> dict[str, tuple]:
        """Sort key of "earliest": published (unknown last), then first seen (fetched, else loaded), then doc_id."""
        rows = self.con.execute(
            """SELECT doc_id, published, coalesce(fetched_at, loaded_at) FROM documents
               WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))""",
            [list(set(doc_ids))],
        ).fetchall()
        return {
            r[0]: (r[1] is None, r[1] or dt.date.max, r[2] or dt.datetime.max, r[0])
            for r in rows
        }

    def set_duplicate_of(self, links: dict[str, str | None]) -> int:
        """Point documents at the earliest of their cluster (None: it is the original); returns rows changed."""
        if not links:
            return 0
        with self._registered("_dup_links", {"doc_id": (pa.string(), list(links)),
                                             "duplicate_of": (pa.string(), list(links.values()))}):
            return self.con.execute(
                """UPDATE documents SET duplicate_of = b.duplicate_of FROM _dup_links b
                   WHERE documents.doc_id = b.doc_id AND documents.duplicate_of IS DISTINCT FROM b.duplicate_of"""
            ).fetchone()[0]

    def seed_texts(self) -> list[tuple[str, list[str], str]]:
        """``(doc_id, tokens, text)`` of the seed documents: the reference set of relevance."""
        return [tuple(r) for r in self.con.execute(
            "SELECT doc_id, tokens, text FROM documents WHERE origin = 'seed' ORDER BY doc_id"
        ).fetchall()]

    def iter_document_texts(self, batch: int = 1000) -> Iterator[tuple[str, list[str], str]]:
        cur = self.con.execute("SELECT doc_id, tokens, text FROM documents ORDER BY doc_id")
        while rows := cur.fetchmany(batch):
            yield from (tuple(r) for r in rows)

    def set_relevance(self, values: dict[str, float]) -> None:
        if not values:
            return
        with self._registered("_relevance", {"doc_id": (pa.string(), list(values)),
                                             "relevance": (pa.float64(), list(values.values()))}):
            self.con.execute(
                "UPDATE documents SET relevance = b.relevance FROM _relevance b WHERE documents.doc_id = b.doc_id"
            )

    def bm25_search(self, terms: Sequence[str], *, limit: int = 10, site: str | None = None,
                    since: dt.date | None = None) -> list[dict]:
        """Documents ranked by BM25 for segmented query terms (the ``bm25_terms`` macro), best first."""
        # The best ``limit`` first, then their rows: joined before the limit, every matching
        # document's text would be read (at 10,000 documents most of a 150 ms search).
        top = self.con.execute(
            """SELECT b.doc_id, b.score, b.matched_terms FROM bm25_terms(?::VARCHAR[]) b
               WHERE (?::VARCHAR IS NULL AND ?::DATE IS NULL) OR b.doc_id IN (
                   SELECT doc_id FROM documents
                   WHERE (?::VARCHAR IS NULL OR site = ?) AND (?::DATE IS NULL OR published >= ?))
               ORDER BY b.score DESC, b.doc_id LIMIT ?""",
            [list(terms), site, since, site, site, since, since, limit],
        ).fetchall()
        if not top:
            return []
        rows = {r[0]: r for r in self.con.execute(
            """SELECT doc_id, title, published, site, duplicate_of, text FROM documents
               WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))""",
            [[t[0] for t in top]],
        ).fetchall()}
        return [{"doc_id": doc_id, "title": rows[doc_id][1], "published": rows[doc_id][2], "site": rows[doc_id][3],
                 "score": score, "matched_terms": matched, "duplicate_of": rows[doc_id][4], "text": rows[doc_id][5]}
                for doc_id, score, matched in top]

    def known_terms(self, terms: Sequence[str]) -> set[str]:
        return {r[0] for r in self.con.execute(
            "SELECT term FROM doc_vocab WHERE df > 0 AND term IN (SELECT unnest(?::VARCHAR[]))", [list(terms)]
        ).fetchall()}

    def terms_within(self, text: str) -> list[str]:
        """Indexed words found inside ``text`` (the ``query_terms`` macro), for a word the index lacks."""
        return list(self.con.execute("SELECT query_terms(?)", [text]).fetchone()[0] or [])

    def similar_documents(self, doc_id: str, *, limit: int = 10) -> list[dict]:
        """Nearest documents to one document (the ``similar_to`` macro), best first."""
        source = self.con.execute("SELECT term, w FROM similar_source(?)", [doc_id]).fetchall()
        # Scored first, rows of the best ``limit`` after: the same as the similar_weighted
        # macro, without reading the rows of every document that shares a term.
        top = self.con.execute(
            "SELECT doc_id, score FROM similar_scores(?, ?::VARCHAR[], ?::DOUBLE[]) ORDER BY score DESC, doc_id LIMIT ?",
            [doc_id, [r[0] for r in source], [r[1] for r in source], limit],
        ).fetchall()
        if not top:
            return []
        rows = {r[0]: r for r in self.con.execute(
            """SELECT d.doc_id, d.title, d.published, d.site, fingerprint_jaccard(o.fingerprint, d.fingerprint),
                      d.duplicate_of
               FROM documents d, (SELECT fingerprint FROM documents WHERE doc_id = ?) o
               WHERE d.doc_id IN (SELECT unnest(?::VARCHAR[]))""",
            [doc_id, [t[0] for t in top]],
        ).fetchall()}
        return [{"doc_id": d, "title": rows[d][1], "published": rows[d][2], "site": rows[d][3], "score": score,
                 "jaccard": rows[d][4], "duplicate_of": rows[d][5]} for d, score in top]

    def document_exists(self, doc_id: str) -> bool:
        return self.con.execute("SELECT count(*) FROM documents WHERE doc_id = ?", [doc_id]).fetchone()[0] > 0

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
    if "disabled by configuration" in msg:
        return StoreError(f"query reads {path} only: no other files, extensions or network")
    first = msg.strip().splitlines()[0] if msg.strip() else type(exc).__name__
    return StoreError(f"SQL error: {first}")
