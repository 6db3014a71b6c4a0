"""A file in a storage format newer than :data:`~.connection.STORAGE_VERSION`, rewritten into it.

DuckDB never writes an existing file down to an older storage version, so the file is
copied into a new one:

1. the old file is checkpointed (what its WAL holds goes into it) by the caller's open;
2. ``COPY FROM DATABASE`` copies tables, rows, views, macros, indexes and constraints
   into ``<file>.compat`` made with the storage version 1.5 reads (each column with the
   compression its table declares: ``text`` uncompressed);
3. every table's row count, and the number of views, macros and indexes, must be the same
   in both, or nothing changes;
4. the old file is kept as ``<file>.backup`` (a hard link: no copy) and the new one
   takes its name in one ``rename``;
5. the file under the old name is opened again and checked against the counts of 3;
   only then is the backup removed. If that check fails, the old file is put back.

A failure at any step leaves the old file as it was and raises one :class:`StoreError` line.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import duckdb

from .fileformat import ROW_GROUP_ROWS, STORAGE_VERSION, StoreError, storage_version

__all__ = ["rewrite", "inventory"]


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def inventory(con, database: str) -> dict[str, int]:
    """Rows of every table of ``database``, and how many views, macros and indexes it holds."""
    tables = [name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY 1", [database]).fetchall()]
    counts = {f"table {t}": con.execute(f'SELECT count(*) FROM "{database}".main."{t}"').fetchone()[0]
              for t in tables}
    for kind, sql in (("views", "SELECT count(*) FROM duckdb_views() WHERE NOT internal AND database_name = ?"),
                      ("macros", "SELECT count(*) FROM duckdb_functions() WHERE NOT internal AND database_name = ?"),
                      ("indexes", "SELECT count(*) FROM duckdb_indexes() WHERE database_name = ?")):
        counts[kind] = con.execute(sql, [database]).fetchone()[0]
    return counts


def _check(path: Path, expected: dict[str, int]) -> None:
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_quote(path)} AS checked (READ_ONLY)")
        found = inventory(con, "checked")
        version = storage_version_of(con, "checked")
    finally:
        con.close()
    if found != expected:
        differ = sorted(k for k in set(found) | set(expected) if found.get(k) != expected.get(k))
        raise StoreError(f"the copy differs in {', '.join(differ)}")
    if not version.startswith(STORAGE_VERSION):
        raise StoreError(f"the copy has storage version {version}, not {STORAGE_VERSION}")


def storage_version_of(con, database: str) -> str:
    row = con.execute("SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = ?",
                      [database]).fetchone()
    return (row[0] if row else None) or ""


def rewrite(path: str | os.PathLike) -> None:
    """Rewrite ``path`` in :data:`STORAGE_VERSION` (see the module's steps); the caller holds its
    writer lock and has no connection open on it."""
    path = Path(path)
    new = path.with_name(path.name + ".compat")
    backup = path.with_name(path.name + ".backup")
    try:
        for leftover in (new, new.with_name(new.name + ".wal")):  # of a rewrite killed midway
            leftover.unlink(missing_ok=True)
        con = duckdb.connect()
        try:
            # 1. a writing attach replays and checkpoints the WAL a killed writer left
            con.execute(f"ATTACH {_quote(path)} AS old")
            con.execute("CHECKPOINT old")
            was = storage_version_of(con, "old")
            con.execute(f"ATTACH {_quote(new)} AS new (STORAGE_VERSION '{STORAGE_VERSION}', ROW_GROUP_SIZE {ROW_GROUP_ROWS})")
            con.execute("COPY FROM DATABASE old TO new")  # 2.
            expected = inventory(con, "old")
            copied = inventory(con, "new")
            con.execute("DETACH new")
            con.execute("DETACH old")
        finally:
            con.close()
        if copied != expected:  # 3.
            differ = sorted(k for k in expected if copied.get(k) != expected[k])
            raise StoreError(f"the copy differs in {', '.join(differ)}")
        _check(new, expected)
    except (duckdb.Error, OSError, StoreError) as exc:
        with contextlib.suppress(OSError):
            new.unlink(missing_ok=True)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"database {path} could not be rewritten in storage version {STORAGE_VERSION} "
                         f"(it is left as it was): {first}") from None
    try:
        backup.unlink(missing_ok=True)
        os.link(path, backup)  # 4.
        os.replace(new, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            new.unlink(missing_ok=True)
        if not path.exists() and backup.exists():
            os.replace(backup, path)
        raise StoreError(f"database {path} could not be replaced by its rewrite (it is left as it was): "
                         f"{exc.strerror or exc}") from None
    try:
        _check(path, expected)  # 5.
    except (duckdb.Error, StoreError) as exc:
        os.replace(backup, path)
        raise StoreError(f"database {path}: its rewrite in storage version {STORAGE_VERSION} did not check out, "
                         f"the file written by {was} is back: {exc}") from None
    backup.unlink()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
