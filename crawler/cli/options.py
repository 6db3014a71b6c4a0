"""What several commands share: where the database is, and how a command reading it opens it."""

from __future__ import annotations

from pathlib import Path

from pipelines.errors import DjcrawlError

from ..settings import from_env

__all__ = ["db_path", "DEFAULT_DB", "lock_wait", "open_reader", "open_between_batches"]

DEFAULT_DB = "data/djcrawl.duckdb"


def db_path(explicit: str | None = None) -> Path:
    """``--db`` wins, then ``DJ_DUCKDB_PATH`` (or its old name ``DJCRAWL_DB``), then ``data/djcrawl.duckdb``."""
    return Path(explicit or from_env("DJ_DUCKDB_PATH") or DEFAULT_DB)


def lock_wait() -> float:
    """``DJ_LOCK_WAIT``: seconds a reader waits while a writer (a crawl's batch) holds the file."""
    from ..settings import DJ_LOCK_WAIT

    raw = from_env("DJ_LOCK_WAIT", DJ_LOCK_WAIT)
    try:
        wait = float(raw)
    except (TypeError, ValueError):
        raise DjcrawlError(f"DJ_LOCK_WAIT={raw!r} is not a number of seconds") from None
    if wait < 0:
        raise DjcrawlError("DJ_LOCK_WAIT must be 0 or more seconds")
    return wait


def open_reader(explicit: str | None = None):
    """The database opened read-only, as every command that only reads it opens it: a crawl
    holds the file only while it commits a batch, so this waits up to ``DJ_LOCK_WAIT``
    seconds for it, then fails in one line naming the holder."""
    from pipelines.store import Store

    return Store(db_path(explicit), read_only=True, wait=lock_wait())


def open_between_batches(explicit: str | None = None):
    """The database opened for a short write that may go between two batches of a running
    crawl (``export``, which reads the documents and records the export): it takes no writer
    lock and waits up to ``DJ_LOCK_WAIT`` seconds for the crawl to let the file go; the
    crawl's next batch waits for it in turn."""
    from pipelines.store import Store
    from pipelines.store.writer import BETWEEN_BATCHES

    path = db_path(explicit)
    if not path.exists():  # opened for writing, it would be made empty
        raise DjcrawlError(f"database {path} does not exist (run `djcrawl load-seeds` or `djcrawl demo` first)")
    return Store(path, writer=BETWEEN_BATCHES, wait=lock_wait())
