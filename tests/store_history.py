"""The schema as djcrawl wrote it before ``pipelines/store/macros.sql`` (schema 5,
commit 1365f80): migrations 1-4 copied verbatim from the old ``pipelines/store.py``, macros
and views included, so a test can build a file of an older version exactly as it was and
open it with the code of today. Migration 5 only recomputed stored signatures: on an
empty file it writes nothing, so a schema-5 file is 1-4 plus its version row.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

# 0 -> 1
V1 = """
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
    """

# 1 -> 2
V2 = """
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
    """

# 2 -> 3
V3 = """
    ALTER TABLE documents ALTER COLUMN text SET DATA TYPE VARCHAR USING text;
    ALTER TABLE documents ALTER COLUMN text_original SET DATA TYPE VARCHAR USING text_original;
    """

# 3 -> 4
V4 = """
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
    """

OLD_MIGRATIONS = [V1, V2, V3, V4, ""]  # 4 -> 5 wrote no SQL


def build(path: Path, version: int, *, zstd: bool = False) -> duckdb.DuckDBPyConnection:
    """An empty djcrawl file at ``version`` (2-5) as the old code made it, left open for
    the caller to fill. ``zstd``: long texts compressed as DuckDB did before schema 3."""
    con = duckdb.connect(str(path))
    if zstd:
        # DuckDB picks ZSTD for long texts once a segment holds many; a few documents need telling
        con.execute("SET force_compression = 'zstd'")
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
    for target, sql in enumerate(OLD_MIGRATIONS[:version], start=1):
        if sql:
            con.execute(sql)
        con.execute("INSERT INTO schema_version VALUES (?, now())", [target])
    return con


def copy_tables(con: duckdb.DuckDBPyConnection, source: Path) -> list[str]:
    """Fill every table of the old file from the table or view of that name in ``source``
    (a file of today), with the old table's columns; returns the tables filled."""
    db = con.execute("SELECT current_database()").fetchone()[0]
    con.execute(f"ATTACH '{source}' AS cur (READ_ONLY)")
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND table_name <> 'schema_version'",
            [db]).fetchall()]
        for table in tables:
            columns = ", ".join(r[0] for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND table_name = ? "
                "ORDER BY column_index", [db, table]).fetchall())
            con.execute(f"INSERT INTO main.{table} SELECT {columns} FROM cur.{table}")
    finally:
        con.execute("DETACH cur")
    return tables
