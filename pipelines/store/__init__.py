"""The DuckDB store: the only package that knows the schema or writes SQL.

Everything else calls the methods of :class:`Store`, one class made of one part per
subject: ``documents``, ``pages``, ``runs``, ``health`` (per-site run health), ``index`` (fingerprints, bands, postings,
reprint clusters, relevance), ``search``, ``exports`` (exports and their record) and
``report`` (what ``djcrawl report`` charts), all on the connection of ``connection``.
``schema`` migrates the tables; ``macros.sql`` holds every SQL macro and view.
"""

from __future__ import annotations

import os

# first: it sets DuckDB's allocator options, which must be in place before duckdb loads
from .connection import StoreError, StoreLocked
from . import schema
from .documents import Documents, UpsertResult
from .exports import Exports
from .health import Health
from .index import Index
from .pages import Pages
from .report import Report
from .runs import Runs
from .schema import SCHEMA_VERSION
from .search import Search

__all__ = ["Store", "StoreError", "StoreLocked", "SCHEMA_VERSION", "UpsertResult"]


class Store(Documents, Pages, Runs, Health, Index, Search, Exports, Report):
    """A DuckDB file holding the corpus. Use as a context manager."""

    def __init__(self, path: str | os.PathLike, *, read_only: bool = False, wait: float = 0.0, writer=None,
                 checkpoint_on_close: bool = True):
        super().__init__(path, read_only=read_only, wait=wait, writer=writer, checkpoint_on_close=checkpoint_on_close)
        try:
            schema.prepare(self)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> "Store":
        return self

    @property
    def schema_version(self) -> int:
        return schema.version(self)
