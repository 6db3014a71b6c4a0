"""Opening the DuckDB file: its settings, its errors in one line, transactions, Arrow
batches and ad-hoc SQL. :class:`Connection` is the base every subject of the store
builds on (``con``, :meth:`~Connection.transaction`, :meth:`~Connection._registered`).

Writes go in batches through Arrow (one registered table, one ``INSERT ... ON
CONFLICT`` statement per batch): about 20-30x faster than ``executemany`` here, and
each batch is one transaction, so a killed process leaves no half-written rows.

Files are written in the storage format of DuckDB 1.5 (:data:`STORAGE_VERSION`), so that
every 1.x client still in use (the DuckDB CLI on PyPI, pandas with an older duckdb) opens
them; a file in a newer format is rewritten into it by the first writing open
(:mod:`.compat`). DuckDB lets one process hold a file while it writes and no one else open
it meanwhile, so a reader waits (``wait`` seconds at most) while a writer holds it: the
crawl holds it only while it commits a batch (:mod:`.writer`).
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

# DuckDB's allocator on Linux is jemalloc, which by default keeps freed pages for ~10 s
# before giving them back: a crawl storing a batch every few seconds then never gives
# them back. Returning them at once kept 1,000 stored documents at +109 MB of RSS instead
# of +281 MB, for ~5 % more CPU in the store stage (benchmarks/README.md, "Where the
# crawl's memory goes"). Read once, when the library loads: it must be set before the
# import (the store imports duckdb here first: pipelines/store/__init__.py imports this module
# before any other). A value the user set wins.
os.environ.setdefault("DUCKDB_JE_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402

from .compat import rewrite  # noqa: E402
from .fileformat import (ROW_GROUP_ROWS, READ_WAIT, STORAGE_VERSION, StoreError, StoreLocked,  # noqa: E402,F401
                         is_lock as _is_lock, storage_version, version_key as _version_key)
from .writer import BETWEEN_BATCHES, WriterLock  # noqa: E402,F401

__all__ = ["Connection", "StoreError", "StoreLocked", "STORAGE_VERSION", "READ_WAIT", "storage_version"]


_LOCK_PID = re.compile(r"\(PID (\d+)\)")
#: resolved path -> [the connection that attached the file, writing connections using it]
_ATTACHED: dict[str, list] = {}
_ATTACHED_LOCK = threading.Lock()


def _friendly(path: Path, exc: Exception, waited: float = 0.0) -> StoreError:
    msg = str(exc)
    if _is_lock(exc):
        pid = _LOCK_PID.search(msg)
        holder = f" by process {pid.group(1)}" if pid else ""
        after = f" (waited {waited:g} s)" if waited else ""
        return StoreLocked(f"database {path} is locked{holder}{after}; wait for it to finish or use another --db")
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
    """One open DuckDB file (``con``), for reading and writing or read-only.

    ``wait``: seconds to wait while another process holds the file (0: fail at once).
    ``checkpoint_on_close=False`` leaves what was committed in the WAL beside the file
    (readers of DuckDB 1.5 and 2.0 read it) for DuckDB's own checkpoint once the WAL
    passes its threshold, as a connection held open does: closing after every batch then
    costs no more than holding the file (benchmarks/store_readers.py).
    A writing open takes the file's writer lock (:class:`.writer.WriterLock`) for as long
    as it is open, unless given ``writer``, one its caller holds (the crawl's, held from
    its first batch to its last while the file is opened for each), or
    :data:`.writer.BETWEEN_BATCHES` for a short write that may go between a crawl's batches."""

    def __init__(self, path: str | os.PathLike, *, read_only: bool = False, wait: float = 0.0,
                 writer=None, checkpoint_on_close: bool = True):
        self.path = Path(path)
        self.read_only = read_only
        self.checkpoint_on_close = checkpoint_on_close
        self._tx_depth = 0
        self._own_writer = None
        self._attached: str | None = None  # the key of _ATTACHED this connection uses
        if read_only and not self.path.exists():
            raise StoreError(f"database {self.path} does not exist (run `djcrawl load-seeds` or `djcrawl demo` first)")
        if self.path.is_dir():
            raise StoreError(f"database {self.path} is a directory, not a DuckDB file")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if writer is None:
                writer = self._own_writer = WriterLock(self.path)
            # writer=BETWEEN_BATCHES: no lock, DuckDB's own is waited for (a short write)
        try:
            self.con = self._connect(wait)
            if not read_only and _version_key(storage_version(self.con)) > _version_key(STORAGE_VERSION):
                self._close_con()
                rewrite(self.path)  # under the writer lock: no one else writes meanwhile
                self.con = self._connect(wait)
        except BaseException:
            if self._own_writer is not None:
                self._own_writer.release()
            raise

    def _connect(self, wait: float):
        # read-only means the database file and nothing else: no COPY TO files, no reading
        # other files, no extension downloads (a query is data, never a way out)
        config = ({"enable_external_access": False, "autoinstall_known_extensions": False,
                   "autoload_known_extensions": False} if self.read_only
                  else {"storage_compatibility_version": STORAGE_VERSION,
                        "temp_directory": f"{self.path}.tmp"})  # where DuckDB spills for a file of its own
        deadline = time.monotonic() + wait
        pause = 0.01
        while True:
            try:
                con = (duckdb.connect(str(self.path), read_only=True, config=config) if self.read_only
                       else self._attach(config))
                break
            except duckdb.Error as exc:
                left = deadline - time.monotonic()
                if not _is_lock(exc) or left <= 0:
                    raise _friendly(self.path, exc, wait if _is_lock(exc) else 0.0) from exc
                time.sleep(min(pause, left))
                pause = min(pause * 2, 0.2)  # a batch commit is short: look again soon
        if not self.read_only:
            try:
                if not self.checkpoint_on_close:
                    con.execute("PRAGMA disable_checkpoint_on_shutdown")
            except duckdb.Error as exc:
                self.con = con
                self._close_con()
                raise _friendly(self.path, exc) from exc
        return con

    def _attach(self, config: dict):
        """A writing connection: the file attached with :data:`ROW_GROUP_ROWS` (an option
        of ATTACH only) under the name DuckDB would give it, and made the default.

        A file is attached once per process (DuckDB refuses a second ATTACH of a file one
        of its databases holds): a second writing open of it in the same process gets a
        cursor of the first, as two ``duckdb.connect`` of one path share one database."""
        name = self.path.stem if self.path.stem.lower() not in ("memory", "system", "temp") else "store"
        name = '"' + name.replace('"', '""') + '"'
        key = str(self.path.resolve())
        with _ATTACHED_LOCK:
            held = _ATTACHED.get(key)
            if held is None:
                base = duckdb.connect(config=config)
                try:
                    base.execute(f"ATTACH '{str(self.path).replace(chr(39), chr(39) * 2)}' AS {name} "
                                 f"(ROW_GROUP_SIZE {ROW_GROUP_ROWS})")
                except BaseException:
                    base.close()
                    raise
                held = _ATTACHED[key] = [base, 0]
            con = held[0].cursor()
            try:
                con.execute(f"USE {name}")
            except BaseException:
                con.close()
                raise
            held[1] += 1
            self._attached = key
        return con

    def _close_con(self) -> None:
        """Close ``con``; the file's attaching connection goes with its last user."""
        try:
            self.con.close()
        finally:
            key, self._attached = self._attached, None
            if key is not None:
                with _ATTACHED_LOCK:
                    held = _ATTACHED.get(key)
                    if held is not None:
                        held[1] -= 1
                        if held[1] <= 0:
                            del _ATTACHED[key]
                            held[0].close()  # detaches the file: its WAL checkpointed unless disabled

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._close_con()
        finally:
            if self._own_writer is not None:
                self._own_writer.release()
                self._own_writer = None

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
