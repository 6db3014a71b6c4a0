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

from .fileformat import StoreError, StoreLocked

__all__ = ["WriterLock", "BETWEEN_BATCHES"]

#: ``Connection(writer=BETWEEN_BATCHES)``: a short write (an export's record) that takes no
#: writer lock and waits for DuckDB's own, so that it can go in between two batches of a
#: running crawl; the crawl's next batch waits for it in turn. Never for a long writer
#: (a crawl, load-seeds, reprocess): those take the lock.
BETWEEN_BATCHES = "between-batches"


#: Locks this process holds, by lock file: DuckDB lets one process open a file many times,
#: so this lock is shared the same way (a count of holders, the flock taken once).
_HELD: dict[Path, list] = {}


class WriterLock:
    """Held from creation until :meth:`release`; refused in one line when another process holds it."""

    def __init__(self, db: str | os.PathLike):
        self.db = Path(db)
        self.path = self.db.with_name(self.db.name + ".lock")
        self._key = self.path.resolve()
        self._held = True
        if self._key in _HELD:
            _HELD[self._key][1] += 1
            return
        try:
            # a writer may be the file's first: its folder (data/ of a fresh checkout) too
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"database {self.db}: cannot make its lock file {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            by = f" by process {holder}" if holder.isdigit() else ""
            raise StoreLocked(f"database {self.db} is locked{by} (a crawl or another writer); "
                              f"wait for it to finish or use another --db") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        _HELD[self._key] = [fd, 1]

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        entry = _HELD[self._key]
        entry[1] -= 1
        if entry[1] == 0:
            del _HELD[self._key]
            os.ftruncate(entry[0], 0)
            os.close(entry[0])  # closing the descriptor lets the flock go

    def __enter__(self) -> "WriterLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()
