"""What a djcrawl file is on disk: the storage version it is written in, why no compression is
turned off for the whole file, and the errors of opening it (no DuckDB import here: the store's
first import of duckdb is in :mod:`.connection`, after its allocator settings)."""

from __future__ import annotations

import re

from ..errors import DjcrawlError

__all__ = ["ROW_GROUP_ROWS", "STORAGE_VERSION", "READ_WAIT", "StoreError", "StoreLocked", "is_lock",
           "storage_version", "version_key"]


# DuckDB stores long strings with ZSTD over a whole column segment of up to ~2,000 rows:
# reading ONE document's text then decompresses all of them (at 10,000 documents one text
# took ~70-100 ms, a search's 10 texts ~700 ms). Until schema 11 every writer turned ZSTD
# off for the whole file; since, `documents.text` is declared `USING COMPRESSION
# uncompressed` (schema.py, migration 11: one text in ~1 ms) and every other column is
# left to DuckDB's choice, so that the long columns read only by scans (`text_original`)
# are compressed (benchmarks/README.md, "Store size").


# DuckDB 2.0 writes files (storage "v2.0.0") that no 1.x client reads ("version number 69
# ... can only read versions between 64 and 68"), among them the newest DuckDB CLI on PyPI
# (1.5.6). A file made with this storage version is read by DuckDB 1.5 and 2.0 alike; DuckDB
# keeps an existing file in the version it was made with, so it is set when a file is made.
STORAGE_VERSION = "v1.5.0"

# A checkpoint writes the last row group of a table again, whole, with the rows appended
# since: with DuckDB's default (122,880 rows, more documents than a crawl of 100,000
# holds) every batch's checkpoint copied every text stored before it, and the copy it
# replaced stayed in the file as free blocks (8 KB rows appended 500 at a time: 12,000
# rows took 372 used + 356 free blocks and 170 ms a checkpoint, growing with the table;
# with 8,192-row groups the free blocks and the checkpoint stay flat). DuckDB does not
# keep the size in the file: every writing open attaches the file with it.
ROW_GROUP_ROWS = 8192

#: Seconds a reader waits for a writer to let the file go (the crawl holds it while it
#: commits a batch: well under a second on the mirror, see benchmarks/README.md).
READ_WAIT = 30.0


class StoreError(DjcrawlError):
    """The database cannot be opened or used; the message says why in one line."""


class StoreLocked(StoreError):
    """Another process holds the file (DuckDB's lock, or the writer lock)."""


def is_lock(exc: Exception) -> bool:
    msg = str(exc)
    return "Could not set lock" in msg or "Conflicting lock" in msg


def storage_version(con) -> str:
    """The storage version of the file ``con`` has open (``v1.5.0+``, ``v2.0.0+``)."""
    row = con.execute("SELECT tags['storage_version'] FROM duckdb_databases() "
                      "WHERE database_name = current_database()").fetchone()
    return (row[0] if row else None) or ""


def version_key(tag: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", tag)[:3])
