"""Live progress on a terminal: a small table of what a command has done so far, per site.

Drawn on stderr with rich, only when stderr is a terminal: a cron or systemd log gets the
commands' summaries and nothing of this. The table is redrawn a few times a second from a
function that reads the counts (a crawl's Scrapy stats, reprocess's counters), and it is
taken away when the command ends, leaving its summary lines alone on the screen.
While it is up, what is written to stderr (Scrapy's log lines) is printed above it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence

__all__ = ["LiveProgress", "on_terminal", "status"]

#: one row: the site and its numbers, in the order of the columns
Rows = Callable[[], Sequence[Sequence]]


def on_terminal() -> bool:
    return sys.stderr.isatty()


class LiveProgress:
    """``with LiveProgress(title, columns, rows):`` draws ``rows()`` under ``columns`` until
    the block ends; does nothing when ``enabled`` is false (default: stderr is a terminal)."""

    def __init__(self, title: str, columns: Sequence[str], rows: Rows, *, enabled: bool | None = None):
        self.title, self.columns, self.rows = title, tuple(columns), rows
        self.enabled = on_terminal() if enabled is None else enabled
        self._live = None

    def _render(self):
        from rich.table import Table

        table = Table(title=self.title, title_justify="left", box=None, pad_edge=False)
        for i, name in enumerate(self.columns):
            table.add_column(name, justify="left" if i == 0 else "right")
        try:
            rows = list(self.rows())
        except Exception:  # counts read while they change: skip this frame, the next one draws
            rows = []
        for row in rows:
            table.add_row(*(str(v) for v in row))
        return table

    def __enter__(self) -> "LiveProgress":
        if self.enabled:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(get_renderable=self._render, console=Console(stderr=True), refresh_per_second=4,
                              transient=True, redirect_stdout=False, redirect_stderr=True)
            self._live.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


@contextlib.contextmanager
def status(text: str, *, enabled: bool | None = None) -> Iterator[None]:
    """A spinner and ``text`` on stderr while the block runs (a step with nothing to count,
    such as loading the seed reports), when stderr is a terminal."""
    if not (on_terminal() if enabled is None else enabled):
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(text):
        yield
