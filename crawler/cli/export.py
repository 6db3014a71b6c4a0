"""``djcrawl export``: documents to a Parquet, JSON Lines or CSV file, each export recorded
in the database so that ``--new`` writes only what came after (``pipelines/store/exports.py``)."""

from __future__ import annotations

from pathlib import Path

from pipelines.errors import DjcrawlError

from .options import open_between_batches
from .search import parse_since

__all__ = ["cmd_export", "format_of"]

_EXTENSIONS = {".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


def format_of(out: Path, explicit: str | None) -> str:
    """``--format``, else the one the file's extension names."""
    if explicit:
        return explicit
    fmt = _EXTENSIONS.get(out.suffix.lower())
    if fmt is None:
        raise DjcrawlError(f"--out {out}: say --format parquet, jsonl or csv "
                           f"(or end the file name in .parquet, .jsonl or .csv)")
    return fmt


def cmd_export(args) -> int:
    out = Path(args.out)
    fmt = format_of(out, args.format)
    since = parse_since(args.since)
    # the export reads and records itself in one short write, which may go between two
    # batches of a running crawl (README, "Reading during a crawl")
    with open_between_batches(args.db) as store:
        result = store.export_documents(out, fmt, site=args.site, since=since, new=args.new)
    what = f"exported {result.documents:,} document{'s' if result.documents != 1 else ''} to {out} ({fmt})"
    if args.new:
        what += (f"; new: written after {result.after:%Y-%m-%d %H:%M:%S}, the newest the last export held"
                 if result.after else "; new: no earlier export, so all of them")
    print(what)
    return 0
