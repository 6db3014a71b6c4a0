"""What several commands share: where the database is."""

from __future__ import annotations

from pathlib import Path

from ..settings import from_env

__all__ = ["db_path", "DEFAULT_DB"]

DEFAULT_DB = "data/djcrawl.duckdb"


def db_path(explicit: str | None = None) -> Path:
    """``--db`` wins, then ``DJ_DUCKDB_PATH`` (or its old name ``DJCRAWL_DB``), then ``data/djcrawl.duckdb``."""
    return Path(explicit or from_env("DJ_DUCKDB_PATH") or DEFAULT_DB)
