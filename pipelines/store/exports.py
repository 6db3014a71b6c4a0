"""Exports of ``documents`` to Parquet, JSON Lines or CSV, and the ``exports`` table that
records each one, so that ``--new`` writes only what was written after the last export.

Every column of ``documents`` but the MinHash ``fingerprint`` (an index detail) is
exported, so a column a later schema adds is exported too. Per format:

- Parquet: list columns stay lists, dates and timestamps keep their types, JSON
  (``provenance``) is written as its text;
- JSON Lines: one object a line, lists as arrays, JSON as a nested object;
- CSV: a header row, lists as JSON arrays, JSON as its text.

An export's ``through`` is the latest ``loaded_at`` of the documents when it ran; it holds
every document written up to then that its filters select. ``--new`` starts after the
``through`` of the latest earlier export that selected at least as much: the whole corpus
or the same site, and no later ``since`` date.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from .connection import Connection, StoreError

__all__ = ["Exports", "ExportResult", "FORMATS", "MIGRATION"]

FORMATS = ("parquet", "jsonl", "csv")

#: The table of exports, one row each; a migration step of ``schema.py``.
MIGRATION = """
    CREATE TABLE exports (
        export_id    INTEGER PRIMARY KEY,
        exported_at  TIMESTAMP NOT NULL,
        format       VARCHAR NOT NULL,
        path         VARCHAR NOT NULL,
        site         VARCHAR,            -- --site, NULL: every site
        since        DATE,               -- --since (published on or after), NULL: every date
        new_only     BOOLEAN NOT NULL,   -- --new
        after        TIMESTAMP,          -- --new: documents written after this (NULL: no earlier export)
        through      TIMESTAMP,          -- latest loaded_at of the documents when it ran
        documents    BIGINT NOT NULL
    );
"""

#: Columns never exported.
_LEFT_OUT = ("fingerprint",)

_COPY_OPTIONS = {"parquet": "FORMAT parquet, COMPRESSION zstd", "jsonl": "FORMAT json",
                 "csv": "FORMAT csv, HEADER true"}


@dataclass
class ExportResult:
    path: Path
    format: str
    documents: int
    after: dt.datetime | None   # --new: the earlier export's ``through`` it started after
    through: dt.datetime | None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _remove(tmp: Path) -> None:
    if tmp.is_file():
        tmp.unlink()


class Exports(Connection):

    def _export_columns(self, fmt: str) -> list[str]:
        """The select list for ``fmt``: each column of ``documents`` as that format writes it."""
        out = []
        for name, kind in self.con.execute(
            """SELECT column_name, data_type FROM information_schema.columns
               WHERE table_name = 'documents' AND table_schema = 'main' ORDER BY ordinal_position"""
        ).fetchall():
            if name in _LEFT_OUT:
                continue
            col = _quote(name)
            if kind == "JSON" and fmt != "jsonl":
                out.append(f"{col}::VARCHAR AS {col}")
            elif kind.endswith("[]") and fmt == "csv":
                out.append(f"to_json({col})::VARCHAR AS {col}")
            else:
                out.append(col)
        return out

    def last_export_through(self, site: str | None, since: dt.date | None) -> dt.datetime | None:
        """The ``through`` of the latest export that selected at least what ``site`` and
        ``since`` select (None if there is none)."""
        return self.con.execute(
            """SELECT max(through) FROM exports
               WHERE (site IS NULL OR site = ?) AND (since IS NULL OR (?::DATE IS NOT NULL AND since <= ?))""",
            [site, since, since],
        ).fetchone()[0]

    def export_documents(self, path: str | os.PathLike, fmt: str, *, site: str | None = None,
                         since: dt.date | None = None, new: bool = False) -> ExportResult:
        """Write the selected documents to ``path`` (written whole to a temporary file beside
        it, then renamed: a failed export leaves no partial file) and record the export."""
        if fmt not in FORMATS:
            raise StoreError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
        path = Path(path)
        if path.is_dir():
            raise StoreError(f"{path} is a directory; --out names the file to write")
        if not path.parent.is_dir():
            raise StoreError(f"{path.parent} does not exist; make it first or choose another --out")
        through = self.con.execute("SELECT max(loaded_at) FROM documents").fetchone()[0]
        after = self.last_export_through(site, since) if new else None
        where = ["loaded_at <= ?"]
        params: list = [through]
        if site is not None:
            where.append("site = ?")
            params.append(site)
        if since is not None:
            where.append("published >= ?")
            params.append(since)
        if after is not None:
            where.append("loaded_at > ?")
            params.append(after)
        select = (f"SELECT {', '.join(self._export_columns(fmt))} FROM documents "
                  f"WHERE {' AND '.join(where)} ORDER BY doc_id")
        tmp = path.with_name(f".{path.name}.part")
        try:
            # COPY answers the number of rows it wrote
            (count,), = self.con.execute(f"COPY ({select}) TO ? ({_COPY_OPTIONS[fmt]})",
                                         [*params, str(tmp)]).fetchall()
            os.replace(tmp, path)
        except Exception as exc:  # DuckDB's IO errors and the OS's: one line naming the file
            _remove(tmp)
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StoreError(f"cannot write {path}: {first}") from exc
        except BaseException:
            _remove(tmp)
            raise
        with self.transaction():
            self.con.execute(
                """INSERT INTO exports
                   SELECT coalesce(max(export_id), 0) + 1, now(), ?, ?, ?, ?, ?, ?, ?, ? FROM exports""",
                [fmt, str(path.resolve()), site, since, new, after, through, count],
            )
        return ExportResult(path=path, format=fmt, documents=count, after=after, through=through)

    def export_history(self) -> list[dict]:
        """Every export, oldest first."""
        cur = self.con.execute("SELECT * FROM exports ORDER BY export_id")
        return [dict(zip([c[0] for c in cur.description], row)) for row in cur.fetchall()]
