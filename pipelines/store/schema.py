"""The schema: versioned migrations of the tables, and the check made on every open.

``MIGRATIONS[i]`` takes a database from version ``i`` to ``i + 1`` (tables, indexes and
rewrites of stored data only; macros and views are ``macros.sql``) and the version
reached is kept in ``schema_version``. A database newer than this code is refused
rather than guessed at; an older one is migrated by the first writing open.
"""

from __future__ import annotations

import pyarrow as pa

from ..index.fingerprint import lsh_buckets, text_signature
from . import exports, macros
from .connection import Connection, StoreError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "prepare", "version"]


def _refingerprint(store: Connection, batch: int = 2000) -> None:
    """Migration 4 -> 5: every stored MinHash signature and its LSH bands computed again
    with the shingle hash of :mod:`pipelines.index.fingerprint` (the text is what they are
    taken over, so nothing else changes; reprint links stay as they are)."""
    store.con.execute("DELETE FROM doc_bands")
    last = ""
    while True:
        rows = store.con.execute(
            """SELECT doc_id, text FROM documents WHERE doc_id > ? AND fingerprint IS NOT NULL
               ORDER BY doc_id LIMIT ?""", [last, batch]).fetchall()
        if not rows:
            return
        last = rows[-1][0]
        sigs = {doc_id: text_signature(text) for doc_id, text in rows}
        bands = [(doc_id, band, bucket) for doc_id, sig in sigs.items() if sig for band, bucket in lsh_buckets(sig)]
        with store._registered("_new_fingerprints", {"doc_id": (pa.string(), list(sigs)),
                                                     "fingerprint": (pa.list_(pa.uint32()), list(sigs.values()))}):
            store.con.execute(
                """UPDATE documents SET fingerprint = f.fingerprint FROM _new_fingerprints f
                   WHERE documents.doc_id = f.doc_id"""
            )
        with store._registered("_new_bands", {"band": (pa.int16(), [b[1] for b in bands]),
                                              "bucket": (pa.uint64(), [b[2] for b in bands]),
                                              "doc_id": (pa.string(), [b[0] for b in bands])}):
            store.con.execute("INSERT INTO doc_bands SELECT band, bucket, doc_id FROM _new_bands")


MIGRATIONS: list = [  # SQL, or a function of the open store for a step SQL cannot do
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
        kind            VARCHAR,   -- one of pipelines.page.PAGE_KINDS
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
        status                VARCHAR NOT NULL,  -- 'running', 'finished', 'interrupted', 'failed' ('partial' since 9)
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
    # 1 -> 2: reprint links, relevance, the LSH band table and the BM25 index (BM25
    # itself, and every other macro and view, is macros.sql).
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
    """,
    # 2 -> 3: the two text columns written again, so that they left ZSTD (the writers of
    # schemas 3-10 turned ZSTD off for the whole file; since 11, `text` is declared
    # uncompressed, and this step changes nothing that migration 11 does not make again).
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
    # (macros.sql) with the columns it had, for the queries users wrote against it.
    """
    CREATE TABLE doc_vocab_v4 (term VARCHAR PRIMARY KEY, term_id INTEGER NOT NULL UNIQUE, df INTEGER NOT NULL);
    INSERT INTO doc_vocab_v4 SELECT term, row_number() OVER (ORDER BY term), df FROM doc_vocab;
    CREATE TABLE doc_postings (term_id INTEGER NOT NULL, doc_id VARCHAR NOT NULL, tf INTEGER NOT NULL);
    INSERT INTO doc_postings
        SELECT v.term_id, t.doc_id, t.tf FROM doc_terms t JOIN doc_vocab_v4 v USING (term) ORDER BY v.term_id;
    DROP TABLE doc_terms;
    DROP TABLE doc_vocab;
    ALTER TABLE doc_vocab_v4 RENAME TO doc_vocab;
    """,
    # 4 -> 5: MinHash signatures with a shingle hash NumPy computes for a whole text at
    # once (pipelines/index/fingerprint.py): the stored ones, and their bands, computed again.
    _refingerprint,
    # 5 -> 6: what the crawl knew about a page and its row lost: the article page linking
    # an attachment, and the first page and number of an article's later part. Rows stored
    # before get them from what else the file holds: an attachment's article is named by
    # the document made from it (doc_id of the same URL), a part's by its URL, whose last
    # `_<n>` or `-<n>` before the extension is the part number (the `part_url` patterns of
    # seeds/sites: `{stem}_{n}.{ext}`, and `{stem}-{n}.{ext}` for people.cn).
    # And the record of macros.sql (the sha256 of the file last run, and the macros and
    # views it defined), so that a writing open runs it again when it changed.
    r"""
    ALTER TABLE pages ADD COLUMN parent_url VARCHAR;
    ALTER TABLE pages ADD COLUMN part_of VARCHAR;
    ALTER TABLE pages ADD COLUMN part_no INTEGER;
    UPDATE pages SET parent_url = d.parent_url FROM documents d
        WHERE pages.kind = 'attachment' AND d.doc_id = 'u_' || left(sha256(pages.url), 16);
    UPDATE pages SET part_of = regexp_replace(url, '[_-](\d+)\.(\w+)$', '.\2'),
                     part_no = regexp_extract(url, '[_-](\d+)\.\w+$', 1)::INTEGER
        WHERE kind = 'article-part' AND regexp_matches(url, '[_-]\d+\.\w+$');
    CREATE TABLE store_macros (sha256 VARCHAR NOT NULL, objects VARCHAR[] NOT NULL, applied_at TIMESTAMP NOT NULL);
    """,
    # 6 -> 7: a run through the offline mirror (or another DJ_MIRROR_URL) says so: the
    # mirror's URL, NULL for a crawl of the real sites. Runs stored before are taken as
    # real crawls (nothing in the file tells them apart).
    """
    ALTER TABLE crawl_runs ADD COLUMN mirror VARCHAR;
    """,
    # 7 -> 8: the 引题 / 副题 printed with a headline, apart from the title. Rows stored
    # before keep the title they had (the subtitle is found again by `djcrawl reprocess`).
    """
    ALTER TABLE documents ADD COLUMN subtitle VARCHAR;
    """,
    # 8 -> 9: the record of `djcrawl export`, which `--new` reads (pipelines/store/exports.py).
    exports.MIGRATION,
    # 9 -> 10: article fetches that failed (a 5xx, a timeout, a reset connection): a failed
    # page leaves no row in `pages`, and a later run's list walk may never reach its link
    # again, so the URL is kept here and asked for again by the next runs, up to a limit.
    # A row goes once the article is stored; `attempts` counts the runs that failed it.
    """
    CREATE TABLE fetch_failures (
        url           VARCHAR PRIMARY KEY,
        site          VARCHAR NOT NULL,
        reason        VARCHAR NOT NULL,   -- the last failure's reason (http-500, error-TimeoutError)
        attempts      INTEGER NOT NULL,   -- runs in which the fetch failed
        first_failed  TIMESTAMP NOT NULL,
        last_failed   TIMESTAMP NOT NULL,
        run_id        VARCHAR             -- the run of the last failure
    );
    """,
    # 10 -> 11: compression chosen per column, not for the whole file. Until 10 every
    # writer turned ZSTD off, since one text read by doc_id then decompressed its whole
    # segment (~2,000 texts: 60-110 ms, not ~1.3). That left `text_original`, read only by
    # scans (export, queries), uncompressed too: ~18 KB a document, a quarter of a file.
    # Now `text` (search snippets and one document's text read it by doc_id) and
    # `pages.body` (zlib bytes already, ZSTD took only 7 % off them, and a page is read by
    # URL: its stored copy answers a 304) are declared uncompressed, and `text_original`
    # ZSTD: 18 -> 9 KB a document (benchmarks/README.md, "Store size"). Said, not left to
    # DuckDB: it picks ZSTD for a segment of varied long texts, but a dictionary for a few
    # alike. The other columns are DuckDB's choice. A column's compression is set only when
    # its table is made, so both tables are made again, rows and constraints alike.
    """
    CREATE TABLE documents_v11 (
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
        text            VARCHAR NOT NULL USING COMPRESSION uncompressed,
        text_original   VARCHAR NOT NULL USING COMPRESSION zstd,
        script          VARCHAR NOT NULL CHECK (script IN ('hans', 'hant')),
        tokens          VARCHAR[],
        keywords        VARCHAR[],
        provenance      JSON,
        content_hash    VARCHAR NOT NULL,
        fetched_at      TIMESTAMP,
        run_id          VARCHAR,
        loaded_at       TIMESTAMP NOT NULL,
        fingerprint     UINTEGER[],
        duplicate_of    VARCHAR,
        relevance       DOUBLE,
        subtitle        VARCHAR
    );
    INSERT INTO documents_v11 SELECT * FROM documents ORDER BY doc_id;
    DROP TABLE documents;
    ALTER TABLE documents_v11 RENAME TO documents;
    CREATE TABLE pages_v11 (
        url             VARCHAR PRIMARY KEY,
        final_url       VARCHAR,
        site            VARCHAR,
        status          INTEGER,
        kind            VARCHAR,   -- one of pipelines.page.PAGE_KINDS
        reason          VARCHAR,   -- why a page is not a document ('list-page', 'empty', ...)
        fetched_at      TIMESTAMP,
        encoding        VARCHAR,
        content_type    VARCHAR,
        etag            VARCHAR,
        last_modified   VARCHAR,
        content_hash    VARCHAR,
        body            BLOB USING COMPRESSION uncompressed,  -- zlib-compressed raw bytes as received
        run_id          VARCHAR,
        doc_id          VARCHAR,
        parent_url      VARCHAR,
        part_of         VARCHAR,
        part_no         INTEGER
    );
    INSERT INTO pages_v11 SELECT * FROM pages ORDER BY url;
    DROP TABLE pages;
    ALTER TABLE pages_v11 RENAME TO pages;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def version(store: Connection) -> int:
    exists = store.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()[0]
    if not exists:
        return 0
    row = store.con.execute("SELECT max(version) FROM schema_version").fetchone()
    return row[0] or 0


def prepare(store: Connection) -> None:
    """Refuse a file this code cannot use. Opened for writing, an older file is migrated
    and ``macros.sql`` run if it changed, in one transaction; read-only, the file is used
    with the macros it holds."""
    current = version(store)
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"database {store.path} has schema version {current}, newer than this djcrawl "
            f"understands ({SCHEMA_VERSION}); upgrade djcrawl"
        )
    if current < SCHEMA_VERSION and store.read_only:
        if current == 0:
            raise StoreError(f"database {store.path} holds no djcrawl data")
        raise StoreError(
            f"database {store.path} has schema version {current}; open it once for writing to migrate"
        )
    if store.read_only or (current == SCHEMA_VERSION and not macros.stale(store)):
        return
    with store.transaction():  # all steps or none
        _migrate(store, current)
        macros.apply(store)  # after the migrations: a macro is bound to the tables when made


def _migrate(store: Connection, current: int) -> None:
    store.con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)"
    )
    for target in range(current + 1, SCHEMA_VERSION + 1):
        step = MIGRATIONS[target - 1]
        if callable(step):
            step(store)
        else:
            store.con.execute(step)
        store.con.execute("INSERT INTO schema_version VALUES (?, now())", [target])
