"""``djcrawl search`` and ``djcrawl similar``: ranked documents as a table or JSON."""

from __future__ import annotations

import datetime as dt
import json

from pipelines.errors import DjcrawlError

from .options import open_reader

__all__ = ["cmd_search", "cmd_similar", "parse_since"]

#: Characters of a snippet in the table (the JSON gets a longer one).
TABLE_SNIPPET = 24
JSON_SNIPPET = 80


def parse_since(value: str | None) -> dt.date | None:
    """``--since`` as a date (None when not given); a bad one is a one-line error."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise DjcrawlError(f"--since {value!r} is not a date (YYYY-MM-DD)") from None


def _date(value) -> str | None:
    return value.isoformat() if value else None


def cmd_search(args) -> int:
    from pipelines.search import search

    since = parse_since(args.since)
    with open_reader(args.db) as store:
        hits = search(store, args.query, limit=args.limit, site=args.site, since=since,
                      snippet_chars=JSON_SNIPPET if args.format == "json" else TABLE_SNIPPET)
    if args.format == "json":
        print(json.dumps(
            [{"doc_id": h.doc_id, "title": h.title, "score": round(h.score, 6), "snippet": h.snippet,
              "published": _date(h.published), "site": h.site, "duplicate_of": h.duplicate_of}
             for h in hits],
            ensure_ascii=False, indent=2,
        ))
        return 0
    from .tables import format_table

    rows = [(i, f"{h.score:.3f}", h.title, _date(h.published), h.site, h.snippet, h.doc_id,
             h.duplicate_of) for i, h in enumerate(hits, 1)]
    print(format_table(["#", "score", "title", "published", "site", "snippet", "doc_id", "reprint_of"],
                       rows, max_cell=TABLE_SNIPPET * 2 + 8))
    return 0


def cmd_similar(args) -> int:
    from pipelines.search import similar

    with open_reader(args.db) as store:
        hits = similar(store, args.doc_id, limit=args.limit)
    if args.format == "json":
        print(json.dumps(
            [{"doc_id": h.doc_id, "score": round(h.score, 6), "jaccard": h.jaccard, "title": h.title,
              "published": _date(h.published), "site": h.site, "duplicate_of": h.duplicate_of}
             for h in hits],
            ensure_ascii=False, indent=2,
        ))
        return 0
    from .tables import format_table

    rows = [(i, f"{h.score:.3f}", f"{h.jaccard:.2f}" if h.jaccard is not None else None, h.title,
             _date(h.published), h.site, h.doc_id, h.duplicate_of) for i, h in enumerate(hits, 1)]
    print(format_table(["#", "score", "jaccard", "title", "published", "site", "doc_id", "reprint_of"], rows))
    return 0
