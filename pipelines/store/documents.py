"""``documents`` and ``seed_files``: cleaned documents by ``doc_id``, and the seed files
kept byte for byte."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyarrow as pa

from ..document import Document, content_hash
from .connection import Connection

__all__ = ["Documents", "UpsertResult"]

# Columns of ``documents`` written from a Document, in table order.
_DOC_COLUMNS = [
    "doc_id", "origin", "site", "url", "seed_file", "parent_url", "title", "original_title",
    "published", "source_name", "authors", "editor", "summary", "text", "text_original",
    "script", "tokens", "keywords", "provenance", "content_hash", "fetched_at", "run_id",
    "loaded_at", "subtitle",
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


@dataclass
class UpsertResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


class Documents(Connection):

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
                "loaded_at": now, "subtitle": d.subtitle,
            }
            for name in _DOC_COLUMNS:
                rows[name].append(values[name])
        updates = ", ".join(f"{c} = excluded.{c}" for c in _DOC_COLUMNS if c != "doc_id")
        with self._registered("_doc_batch", pa.table(rows, schema=_DOC_SCHEMA)):
            self.con.execute(
                f"INSERT INTO documents BY NAME SELECT * FROM _doc_batch ON CONFLICT (doc_id) DO UPDATE SET {updates}"
            )

    def document_count(self, origin: str | None = None) -> int:
        if origin is None:
            return self.con.execute("SELECT count(*) FROM documents").fetchone()[0]
        return self.con.execute("SELECT count(*) FROM documents WHERE origin = ?", [origin]).fetchone()[0]

    def document_exists(self, doc_id: str) -> bool:
        return self.con.execute("SELECT count(*) FROM documents WHERE doc_id = ?", [doc_id]).fetchone()[0] > 0

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
