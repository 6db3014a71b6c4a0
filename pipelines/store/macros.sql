-- The SQL macros and views of a djcrawl file: what search and "more like this" run on,
-- and what users call from `djcrawl query` (README, "Search and similar").
--
-- Each is defined once, here, with CREATE OR REPLACE. A writing open runs this file
-- again when its sha256 differs from the one stored in `store_macros` (after the
-- migrations: the tables must exist, DuckDB binds a macro when it is created), so
-- macros made in the file persist and read-only connections can call them.
-- Keep semicolons out of comments: the file is run as one script.

-- BM25 (k1 = 1.2, b = 0.75), written once: the inverse document frequency of a word
-- found in df of n documents ...
CREATE OR REPLACE MACRO bm25_idf(df, n) AS
    ln(1 + (n - df + 0.5) / (df + 0.5));

-- ... and the score of one query word of weight qw (1 for a plain query) occurring tf
-- times in a document of dl words, avgdl the mean length. qw comes first so that a
-- weighted sum is computed in the order it always was (same floating-point results).
CREATE OR REPLACE MACRO bm25_term(qw, tf, df, dl, n, avgdl) AS
    qw * bm25_idf(df, n) * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * dl / avgdl));

CREATE OR REPLACE MACRO bm25_stats() AS TABLE
    SELECT count(*)::DOUBLE AS n, coalesce(avg(length), 1)::DOUBLE AS avgdl FROM doc_lengths;

-- BM25 of every document holding at least one of the (already segmented) terms.
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
           sum(bm25_term(1, h.tf, h.df, l.length, s.n, s.avgdl)) AS score,
           count(*)::INTEGER AS matched_terms
    FROM hits h JOIN doc_lengths l USING (doc_id) CROSS JOIN bm25_stats() s
    GROUP BY h.doc_id;

-- SQL has no segmenter: the terms of a query are the indexed words found in it,
-- longest first (a word inside a longer matched word is dropped).
CREATE OR REPLACE MACRO query_terms(q) AS (
    WITH m AS (
        SELECT term FROM doc_vocab
        WHERE df > 0 AND contains(lower(q), term) AND (length(term) > 1 OR length(trim(q)) = 1)
    )
    SELECT coalesce(list(a.term ORDER BY a.term), []::VARCHAR[]) FROM m a
    WHERE NOT EXISTS (SELECT 1 FROM m b WHERE length(b.term) > length(a.term) AND contains(b.term, a.term))
);

CREATE OR REPLACE MACRO search_bm25(q) AS TABLE
    SELECT d.doc_id, d.title, d.published, d.site, b.score, b.matched_terms, d.duplicate_of
    FROM bm25_terms(query_terms(q)) b JOIN documents d USING (doc_id)
    ORDER BY b.score DESC, d.doc_id;

-- "More like this": the document's 40 heaviest terms (tf-idf) as a weighted BM25
-- query, divided by the document's own score (a verbatim copy scores about 1).
CREATE OR REPLACE MACRO similar_source(id) AS TABLE
    WITH src_tf AS (
        SELECT lower(t) AS term, count(*) AS tf
        FROM (SELECT unnest(tokens) AS t FROM documents WHERE doc_id = id) GROUP BY 1
    )
    SELECT s.term, (1 + ln(s.tf)) * bm25_idf(v.df, st.n) AS w
    FROM src_tf s JOIN doc_vocab v USING (term) CROSS JOIN bm25_stats() st
    WHERE v.df > 0 ORDER BY w DESC, s.term LIMIT 40;

-- Scored apart from the rows it shows, so that a caller wanting the best 10 reads 10
-- rows of `documents`, and the source's fingerprint once. It takes the terms as lists so
-- that, given constants (as the `similar` command passes them), the postings scan
-- skips the other words.
CREATE OR REPLACE MACRO similar_scores(id, terms, weights) AS TABLE
    WITH src AS (
        SELECT v.term_id, v.df, s.w
        FROM (SELECT unnest(terms) AS term, unnest(weights) AS w) s JOIN doc_vocab v USING (term)
    ), hits AS (
        SELECT p.doc_id, p.tf, src.w, src.df FROM doc_postings p JOIN src USING (term_id)
        WHERE p.term_id IN (SELECT term_id FROM src)
    ), scored AS (
        SELECT h.doc_id, sum(bm25_term(h.w, h.tf, h.df, l.length, st.n, st.avgdl)) AS raw
        FROM hits h JOIN doc_lengths l USING (doc_id) CROSS JOIN bm25_stats() st
        GROUP BY h.doc_id
    ), relative AS (
        -- the source's own score through a window, not a second reference to `scored`:
        -- referenced twice, the postings were scanned whole (10k documents: 260 ms vs 25)
        SELECT doc_id, raw / max(raw) FILTER (WHERE doc_id = id) OVER () AS score FROM scored
    )
    SELECT doc_id, score FROM relative WHERE doc_id <> id AND score IS NOT NULL;

-- MinHash estimate of shared text between two fingerprints (share of equal slots):
-- near 1 for reprints.
CREATE OR REPLACE MACRO fingerprint_jaccard(a, b) AS
    list_sum(list_transform(range(1, len(a) + 1), lambda i: (a[i] = b[i])::INTEGER))::DOUBLE / len(a);

CREATE OR REPLACE MACRO similar_weighted(id, terms, weights) AS TABLE
    WITH fp AS (SELECT fingerprint FROM documents WHERE doc_id = id)
    SELECT d.doc_id, d.title, d.published, d.site, s.score,
           fingerprint_jaccard(fp.fingerprint, d.fingerprint) AS jaccard, d.duplicate_of
    FROM similar_scores(id, terms, weights) s JOIN documents d USING (doc_id) CROSS JOIN fp
    ORDER BY s.score DESC, d.doc_id;

CREATE OR REPLACE MACRO similar_to(id) AS TABLE
    SELECT * FROM similar_weighted(
        id,
        (SELECT coalesce(list(term ORDER BY w DESC, term), []::VARCHAR[]) FROM similar_source(id)),
        (SELECT coalesce(list(w ORDER BY w DESC, term), []::DOUBLE[]) FROM similar_source(id)));

-- The postings with their words, as the table of that name held them before schema 4,
-- for the queries users wrote against it.
CREATE OR REPLACE VIEW doc_terms AS
    SELECT v.term, p.doc_id, p.tf FROM doc_postings p JOIN doc_vocab v USING (term_id);

-- One row per report printed more than once: its earliest document and every copy.
CREATE OR REPLACE VIEW reprint_clusters AS
    SELECT coalesce(duplicate_of, doc_id) AS original, count(*) AS copies,
           list(doc_id ORDER BY doc_id) AS members
    FROM documents GROUP BY 1 HAVING count(*) > 1;
