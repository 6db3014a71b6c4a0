"""The project's data files (``pipelines/data``), read as package resources.

Read through :mod:`importlib.resources`, never by path: a deployed egg is a zip file, where
a path beside the module file names nothing (scrapyd runs the crawl from one).
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

__all__ = ["DATA_DIR", "data_lines"]

DATA_DIR: Traversable = resources.files("pipelines") / "data"


def data_lines(name: str) -> list[str]:
    """The entries of a rules file: one a line, blank lines and ``#`` comment lines left out."""
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("# ")
            and line.strip() != "#"]
