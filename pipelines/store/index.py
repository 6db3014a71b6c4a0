"""What is kept about documents besides their rows, driven by ``pipelines/ingest.py``:
MinHash fingerprints and their LSH bands (``doc_bands``), the BM25 postings
(``doc_postings``, ``doc_vocab``, ``doc_lengths``), reprint clusters
(``documents.duplicate_of``) and relevance."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from .connection import Connection

if TYPE_CHECKING:
    from ..index.entry import IndexEntry

__all__ = ["Index"]

_BANDS = pa.schema([("band", pa.int16()), ("bucket", pa.uint64()), ("doc_id", pa.string())])
_TERMS = pa.schema([("term", pa.string()), ("doc_id", pa.string()), ("tf", pa.int32())])
_DOCS = pa.schema([("doc_id", pa.string()), ("fingerprint", pa.list_(pa.uint32())),
                   ("relevance", pa.float64()), ("length", pa.int32())])


class Index(Connection):

    def index_state(self, doc_ids: Sequence[str]) -> dict[str, tuple[str, bool]]:
        """doc_id -> (content_hash, already indexed?) for the stored ones among ``doc_ids``."""
        rows = self.con.execute(
            """SELECT d.doc_id, d.content_hash, l.doc_id IS NOT NULL
               FROM documents d LEFT JOIN doc_lengths l USING (doc_id)
               WHERE d.doc_id IN (SELECT unnest(?::VARCHAR[]))""",
            [list(doc_ids)],
        ).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

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
            with (self._registered("_idx_bands", pa.table(bands, schema=_BANDS)),
                  self._registered("_idx_terms", pa.table(terms, schema=_TERMS)),
                  self._registered("_idx_docs", pa.table(docs, schema=_DOCS))):
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
                # sorted by term id batch by batch: what lets a scan stand in for an index
                # on term_id (migration 4)
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

    # -- LSH bands and fingerprints

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

    # -- reprint clusters: every member points at the earliest (duplicate_of), which points nowhere

    def cluster_members(self, doc_ids: Iterable[str]) -> list[tuple[str, str]]:
        """``(member, earliest)`` for every document of the reprint clusters these documents belong to."""
        return [tuple(r) for r in self.con.execute(
            """SELECT doc_id, coalesce(duplicate_of, doc_id) FROM documents WHERE coalesce(duplicate_of, doc_id) IN (
                   SELECT coalesce(duplicate_of, doc_id) FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[])))""",
            [list(set(doc_ids))],
        ).fetchall()]

    def published_dates(self, doc_ids: Iterable[str]) -> dict[str, dt.date]:
        """``doc_id -> published`` of the stored documents among these that have a date."""
        return dict(self.con.execute(
            "SELECT doc_id, published FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[])) AND published IS NOT NULL",
            [list(set(doc_ids))],
        ).fetchall())

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

    # -- relevance: scored against the seed documents

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
