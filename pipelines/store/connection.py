"""Opening the DuckDB file: its settings, its errors in one line, transactions, Arrow
batches and ad-hoc SQL. :class:`Connection` is the base every subject of the store
builds on (``con``, :meth:`~Connection.transaction`, :meth:`~Connection._registered`).

Writes go in batches through Arrow (one registered table, one ``INSERT ... ON
CONFLICT`` statement per batch): about 20-30x faster than ``executemany`` here, and
each batch is one transaction, so a killed process leaves no half-written rows.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

# DuckDB's allocator on Linux is jemalloc, which by default keeps freed pages for ~10 s
# before giving them back: a crawl storing a batch every few seconds then never gives
# them back. Returning them at once kept 1,000 stored documents at +109 MB of RSS instead
# of +281 MB, for ~5 % more CPU in the store stage (benchmarks/README.md, "Where the
# crawl's memory goes"). Read once, when the library loads: it must be set before the
# import (this is the only module of the store that imports duckdb). A value the user set wins.
os.environ.setdefault("DUCKDB_JE_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402

from ..errors import DjcrawlError  # noqa: E402

__all__ = ["Connection", "StoreError", "NO_ZSTD"]


# DuckDB stores long strings (a report's text) with ZSTD over a whole column segment of
# up to ~2,000 rows: reading ONE document's text then decompresses all of them. At 10,000
# documents that made fetching one text take ~70-100 ms, a search's 10 texts ~700 ms, and
# a scan such as `text LIKE '%...%'` 5x slower. Without it the texts are stored
# uncompressed: +60 % for the documents table on disk, one text in ~1 ms
# (benchmarks/README.md, "Store and query"). DuckDB does not keep the setting in the
# file, so every writing connection sets it.
NO_ZSTD = "SET disabled_compression_methods = 'zstd'"


class StoreError(DjcrawlError):
    """The database cannot be opened or used; the message says why in one line."""


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


def _friendly_sql(path: Path, exc: Exception) -> StoreError:
    msg = str(exc)
    if "read-only" in msg or "read only" in msg:
        return StoreError(f"query is read-only: the statement would change {path}")
    if "disabled by configuration" in msg:
        return StoreError(f"query reads {path} only: no other files, extensions or network")
    first = msg.strip().splitlines()[0] if msg.strip() else type(exc).__name__
    return StoreError(f"SQL error: {first}")


class Connection:
    """One open DuckDB file (``con``), for reading and writing or read-only."""

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

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

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

    @contextlib.contextmanager
    def _registered(self, name: str, table: pa.Table | dict[str, tuple[pa.DataType, list]]) -> Iterator[None]:
        """An Arrow table (or columns: name -> (Arrow type, values)) readable by SQL as
        ``name``, inside one transaction (the caller's, if open)."""
        if isinstance(table, dict):
            table = pa.table({c: values for c, (_t, values) in table.items()},
                             schema=pa.schema([(c, t) for c, (t, _v) in table.items()]))
        with self.transaction():
            self.con.register(name, table)
            try:
                yield
            finally:
                self.con.unregister(name)

    def query(self, sql: str, params: Sequence | None = None) -> tuple[list[str], list[tuple]]:
        """Ad-hoc SQL (the `query` command): column names and rows; errors in one line."""
        try:
            cur = self.con.execute(sql, params or [])
        except duckdb.Error as exc:
            raise _friendly_sql(self.path, exc) from exc
        if cur is None:  # DuckDB answers None, not a cursor, to a text holding no statement
            raise StoreError("SQL error: no statement to run (the query is empty or only comments)")
        if cur.description is None:
            return [], []
        return [c[0] for c in cur.description], cur.fetchall()
