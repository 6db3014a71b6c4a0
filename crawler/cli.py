"""The ``djcrawl`` command line.

Every expected failure (bad input file, locked or corrupt database, bad config)
is a :class:`pipelines.errors.DjcrawlError` and is printed as one line on stderr
with a non-zero exit; ``--debug`` shows the full traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from pipelines.errors import DjcrawlError

__all__ = ["main", "build_parser"]

EXIT_ERROR = 1
EXIT_USAGE = 2


# --------------------------------------------------------------------------- commands of this module

def cmd_load_seeds(args) -> int:
    from pipelines.seeds import load_seed_dir
    from pipelines.store import Store, default_db_path

    db = default_db_path(args.db)
    with Store(db) as store:
        load = load_seed_dir(store, Path(args.directory))
        r = load.result
        print(f"loaded {load.files} seed files from {args.directory} into {db}: "
              f"{r.new} new, {r.updated} updated, {r.unchanged} unchanged")
        if not args.quiet:
            print(_render(*store.seed_summary(), "table"))
    return 0


def _looks_like_html(data: bytes) -> bool:
    head = data[:4096].lower()
    return any(tag in head for tag in (b"<html", b"<!doctype html", b"<body", b"<div", b"<p>", b"<meta"))


def _clean_one(path: Path, url: str | None):
    from pipelines.process import NotArticle, document_from_html, document_from_text
    from pipelines.seeds import read_text_file

    if path.suffix.lower() in (".pdf", ".docx", ".doc") and path.is_file():
        # An attachment (附件) a report was published as: same chain as the crawl's attachments.
        from pipelines.attachments import document_from_attachment

        result = document_from_attachment(path.read_bytes(), url=url or path.resolve().as_uri(), parent_url=None)
        if isinstance(result, NotArticle):
            raise DjcrawlError(f"{path}: no report text found ({result.reason})")
        return result
    data, text = read_text_file(path)
    if _looks_like_html(data):
        result = document_from_html(data, url=url, origin="crawl")
        if isinstance(result, NotArticle):
            raise DjcrawlError(f"{path}: no article text found ({result.reason})")
        return result
    return document_from_text(text, doc_id=path.stem, origin="seed", url=url)


def _doc_json(path: Path, doc) -> dict:
    return {
        "file": str(path), "title": doc.title, "original_title": doc.original_title,
        "published": doc.published.isoformat() if doc.published else None,
        "source_name": doc.source_name, "authors": doc.authors, "editor": doc.editor,
        "summary": doc.summary, "script": doc.script, "url": doc.url, "text": doc.text,
        "text_original": doc.text_original, "tokens": doc.tokens, "keywords": doc.keywords,
        "provenance": doc.provenance,
    }


def cmd_clean(args) -> int:
    failures = 0
    objects = []
    for name in args.files:
        path = Path(name)
        try:
            doc = _clean_one(path, args.url)
        except DjcrawlError as exc:
            print(f"djcrawl: error: {exc}", file=sys.stderr)
            failures += 1
            continue
        if args.format == "text":
            head = [f"# {doc.title or ''}"]
            for label, value in (("published", doc.published), ("source", doc.source_name),
                                 ("authors", ", ".join(doc.authors)), ("editor", doc.editor)):
                if value:
                    head.append(f"{label}: {value}")
            print("\n".join(head) + "\n\n" + doc.text + "\n")
        elif args.format == "jsonl":
            print(json.dumps(_doc_json(path, doc), ensure_ascii=False), flush=True)
        else:
            objects.append(_doc_json(path, doc))
    if args.format == "json" and objects:
        print(json.dumps(objects[0] if len(args.files) == 1 else objects, ensure_ascii=False, indent=2))
    return EXIT_ERROR if failures else 0


def cmd_query(args) -> int:
    from pipelines.store import Store, default_db_path

    with Store(default_db_path(args.db), read_only=True) as store:
        columns, rows = store.query(args.sql)
    print(_render(columns, rows, args.format))
    return 0


def _render(columns, rows, fmt: str) -> str:
    from .tables import format_csv, format_json, format_table

    return {"table": format_table, "csv": format_csv, "json": format_json}[fmt](columns, rows)


# --------------------------------------------------------------------------- parser

def _lazy(module: str, func: str):
    """Commands living in other modules are imported only when run (start-up stays fast)."""

    def run(args) -> int:
        return getattr(importlib.import_module(module), func)(args)

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="djcrawl", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def db_option(p):
        p.add_argument("--db", help="DuckDB file (default: $DJCRAWL_DB or data/djcrawl.duckdb)")

    p = sub.add_parser("load-seeds", help="load a directory of seed reports (.txt) into the database")
    p.add_argument("directory", nargs="?", default="seeds/documents", metavar="DIR")
    db_option(p)
    p.add_argument("--quiet", action="store_true", help="no summary table")
    p.set_defaults(func=cmd_load_seeds)

    p = sub.add_parser("clean", help="clean HTML pages, text files or PDF/DOCX/DOC attachments and print the documents")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--url", help="the page's URL (helps dates, site rules)")
    p.add_argument("--format", choices=("text", "json", "jsonl"), default="text")
    p.set_defaults(func=cmd_clean)

    p = sub.add_parser("query", help="run SQL against the database, read-only")
    p.add_argument("sql", metavar="SQL")
    db_option(p)
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("crawl", help="crawl configured sites into the database")
    p.add_argument("sites", nargs="*", metavar="SITE", help="site names (default: all)")
    db_option(p)
    p.add_argument("--max-pages", type=int, default=None, metavar="N", help="stop each site after N pages")
    p.add_argument("--refresh", action="store_true", help="fetch known article pages again")
    p.add_argument("--mirror", action="store_true", help="crawl the local offline mirror instead of the real sites")
    p.add_argument("--workers", type=int, metavar="N",
                   help="processes that make documents out of fetched pages (default: one per core; 0 = this process)")
    p.set_defaults(func=_lazy("crawler.run", "cmd_crawl"))

    p = sub.add_parser("sites", help="list and validate the site configs")
    p.set_defaults(func=_lazy("crawler.run", "cmd_sites"))

    p = sub.add_parser("reprocess", help="rebuild documents from stored pages, no network")
    db_option(p)
    p.add_argument("--site", help="only this site")
    p.add_argument("--workers", type=int, metavar="N", help="processes that make documents (default: one per core)")
    p.set_defaults(func=_lazy("crawler.run", "cmd_reprocess"))

    p = sub.add_parser("demo", help="crawl the offline mirror of every site, load the seeds, show a summary")
    db_option(p)
    p.set_defaults(func=_lazy("crawler.run", "cmd_demo"))

    p = sub.add_parser("search", help="rank documents by BM25 for a query")
    p.add_argument("query", metavar="QUERY")
    db_option(p)
    p.add_argument("--limit", type=int, default=10, metavar="N")
    p.add_argument("--site")
    p.add_argument("--since", metavar="DATE", help="published on or after YYYY-MM-DD")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=_lazy("crawler.cli_search", "cmd_search"))

    p = sub.add_parser("similar", help="documents nearest to one document")
    p.add_argument("doc_id", metavar="DOC_ID")
    db_option(p)
    p.add_argument("--limit", type=int, default=10, metavar="N")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=_lazy("crawler.cli_search", "cmd_similar"))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except DjcrawlError as exc:
        if args.debug:
            raise
        print(f"djcrawl: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("djcrawl: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # an unexpected failure still gets one line; --debug shows where
        if args.debug:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"djcrawl: error: {type(exc).__name__}: {first} (run with --debug for details)", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
