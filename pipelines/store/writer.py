"""The writer lock of a database file: one writer at a time, even while it lets go of the file.

DuckDB's own lock lasts as long as the file is open. The crawl opens the file only while
it commits a batch, so that readers get in between (README, "Reading during a crawl");
between two batches DuckDB's lock is gone, and without this one a second crawl or
``load-seeds`` could write there too. Every writing open takes it (``flock`` on
``<file>.lock``, which names its holder's PID); readers never look at it. The kernel lets
it go when its holder dies, so a killed crawl leaves nothing to clean up.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .connection import StoreError

__all__ = ["WriterLock"]


class WriterLock:
    """Held from creation until :meth:`release`; refused in one line when another process holds it."""

    def __init__(self, db: str | os.PathLike):
        self.db = Path(db)
        self.path = self.db.with_name(self.db.name + ".lock")
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"database {self.db}: cannot make its lock file {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            by = f" by process {holder}" if holder.isdigit() else ""
            raise StoreError(f"database {self.db} is locked{by} (a crawl or another writer); "
                             f"wait for it to finish or use another --db") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.ftruncate(fd, 0)
            os.close(fd)  # closing the descriptor lets the flock go

    def __enter__(self) -> "WriterLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()
