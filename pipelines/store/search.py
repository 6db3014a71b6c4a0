"""Search and "more like this" over the BM25 postings, through the SQL macros users call
from `djcrawl query`, so the command and the SQL rank alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from .connection import Connection

__all__ = ["Search"]


class Search(Connection):

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
