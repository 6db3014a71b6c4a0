"""The schema: versioned migrations and the check made on every open.

``MIGRATIONS[i]`` takes a database from version ``i`` to ``i + 1`` and the version
reached is kept in ``schema_version``. A database newer than this code is refused
rather than guessed at; an older one is migrated by the first writing open, all steps
or none.
"""

from __future__ import annotations

import pyarrow as pa

from ..index.fingerprint import lsh_buckets, text_signature
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
    # in connection.py; the setting is in force while this runs).
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
    _refingerprint,
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
    """Refuse a file this code cannot use; migrate an older one when opened for writing."""
    current = version(store)
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"database {store.path} has schema version {current}, newer than this djcrawl "
            f"understands ({SCHEMA_VERSION}); upgrade djcrawl"
        )
    if current < SCHEMA_VERSION:
        if store.read_only:
            if current == 0:
                raise StoreError(f"database {store.path} holds no djcrawl data")
            raise StoreError(
                f"database {store.path} has schema version {current}; open it once for writing to migrate"
            )
        _migrate(store, current)


def _migrate(store: Connection, current: int) -> None:
    with store.transaction():  # all steps or none
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
