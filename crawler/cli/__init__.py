"""The ``djcrawl`` command line.

Every expected failure (bad input file, locked or corrupt database, bad config)
is a :class:`pipelines.errors.DjcrawlError` and is printed as one line on stderr
with a non-zero exit; ``--debug`` shows the full traceback instead. Each command
lives in the module of its group (``corpus``, ``crawl``, ``export``, ``links``, ``report``,
``reprocess``, ``search``)
and is imported only when it runs, so start-up stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from pipelines.errors import DjcrawlError

__all__ = ["main", "build_parser"]

EXIT_ERROR = 1
EXIT_USAGE = 2

#: The exit codes of ``crawl`` and ``demo`` (crawler/cli/crawl.py EXIT_CODES), for cron and systemd.
CRAWL_EXIT_CODES = """exit codes:
  0    every site gave articles (fetched, or known from earlier runs)
  1    error before or instead of crawling: bad input or config, database locked, corrupt, or
       holding runs of the other kind (real sites / offline mirror)
  2    usage mistake (unknown option, bad value)
  3    partial: some sites failed, gave no article link, or lost a list page
  4    nothing fetched at all: no site reached (no network, every start page failing)
  130  interrupted (Ctrl-C, SIGTERM); what was stored is kept
A line a site at the end says how it went; download errors are one line each (site, URL,
reason); tracebacks only with --debug (djcrawl --debug crawl ...)."""


# --------------------------------------------------------------------------- parser

def _lazy(module: str, func: str):
    """Commands living in other modules are imported only when run (start-up stays fast)."""

    def run(args) -> int:
        return getattr(importlib.import_module(module), func)(args)

    return run


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("djcrawl")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="djcrawl", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"djcrawl {_version()}",
                        help="print djcrawl's version and exit")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def db_option(p):
        p.add_argument("--db", help="DuckDB file (default: $DJ_DUCKDB_PATH or data/djcrawl.duckdb)")

    p = sub.add_parser("load-seeds", help="load a directory of seed reports (.txt) into the database")
    p.add_argument("directory", nargs="?", default="seeds/documents", metavar="DIR",
                   help="directory of .txt reports, UTF-8, GBK or GB18030 (default: seeds/documents)")
    db_option(p)
    p.add_argument("--quiet", action="store_true", help="no summary table")
    p.set_defaults(func=_lazy("crawler.cli.corpus", "cmd_load_seeds"))

    p = sub.add_parser("clean", help="clean HTML pages, text files or PDF/DOCX/DOC attachments and print the documents")
    p.add_argument("files", nargs="+", metavar="FILE", help="HTML pages, text files, PDF, DOCX or DOC files")
    p.add_argument("--url", help="the page's URL (helps dates, site rules)")
    p.add_argument("--format", choices=("text", "json", "jsonl"), default="text",
                   help="text: title, metadata and text; json: one object (an array for several files); "
                        "jsonl: one object a line (default: text)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="processes that clean the files (default: one per core, at most one per file; 0 = "
                        "this process, as for a single file); the output is in the order of the files either way")
    p.set_defaults(func=_lazy("crawler.cli.corpus", "cmd_clean"))

    p = sub.add_parser("links", help="print the article links of a list page, found without a site config")
    p.add_argument("target", metavar="FILE|URL", help="a saved list page, or an http(s) URL to fetch once")
    p.add_argument("--url", help="the page's URL: makes its links absolute and tells its own site from others "
                                 "(default: the fetched URL, else the page's canonical link)")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text: one URL a line; json: the page URL and each link with its headline")
    p.set_defaults(func=_lazy("crawler.cli.links", "cmd_links"))

    p = sub.add_parser("query", help="run SQL against the database, read-only")
    p.add_argument("sql", metavar="SQL", help="one SQL statement (the macros of README 'Search and similar' work)")
    db_option(p)
    p.add_argument("--format", choices=("table", "csv", "json", "jsonl"), default="table",
                   help="table (default); csv with a header; json: one array of objects; jsonl: one object a line")
    p.set_defaults(func=_lazy("crawler.cli.corpus", "cmd_query"))

    p = sub.add_parser("crawl", help="crawl configured sites into the database", epilog=CRAWL_EXIT_CODES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sites", nargs="*", metavar="SITE", help="site names (default: all)")
    p.add_argument("--db", help="DuckDB file (default: $DJ_DUCKDB_PATH or data/djcrawl.duckdb; "
                                "with --mirror: data/demo.duckdb)")
    p.add_argument("--max-pages", type=int, default=None, metavar="N", help="stop each site after N pages")
    p.add_argument("--refresh", action="store_true", help="fetch known article pages again")
    p.add_argument("--mirror", action="store_true", help="crawl the local offline mirror instead of the real sites")
    p.add_argument("--workers", type=int, metavar="N",
                   help="processes that make documents out of fetched pages (default: one per core; 0 = this process)")
    p.add_argument("--frontier", metavar="redis://HOST:PORT/DB",
                   help="be one node of a crawl shared through Redis: results go to the loader "
                        "(djcrawl load), not to --db (default: $DJ_FRONTIER_URL)")
    p.add_argument("--idle-exit", type=float, metavar="SECONDS",
                   help="with --frontier: end once the frontier has been empty this long (default: wait for work)")
    p.set_defaults(func=_lazy("crawler.cli.crawl", "cmd_crawl"))

    p = sub.add_parser("load", help="store what the crawl nodes of a Redis frontier send: the one writer of --db")
    p.add_argument("--frontier", metavar="redis://HOST:PORT/DB", help="the frontier (default: $DJ_FRONTIER_URL)")
    db_option(p)
    p.add_argument("--idle-exit", type=float, metavar="SECONDS",
                   help="end once nothing came this long, no node lives and the frontier is empty "
                        "(default: wait for work)")
    p.set_defaults(func=_lazy("crawler.cli.load", "cmd_load"))

    p = sub.add_parser("sites", help="list and validate the site configs")
    p.add_argument("--health", action="store_true", help="how each site's last runs went (from the database)")
    p.add_argument("--check", metavar="NAME",
                   help="run the config NAME against one list page and one article, and say what it found")
    p.add_argument("--mirror", action="store_true", help="with --check: ask the offline mirror, not the site")
    db_option(p)
    p.set_defaults(func=_lazy("crawler.cli.crawl", "cmd_sites"))

    p = sub.add_parser("add-site", help="write a draft site config from a site's front page")
    p.add_argument("url", metavar="URL", help="the site's front page (http or https)")
    p.add_argument("--mirror", action="store_true", help="ask the offline mirror, not the site")
    p.add_argument("--name", help="the config's name (default: from the host, dangjian_people)")
    p.add_argument("--out", metavar="DIR", help="where to write NAME.toml (default: $DJ_SITES_DIR or seeds/sites)")
    p.set_defaults(func=_lazy("crawler.cli.addsite", "cmd_add_site"))

    p = sub.add_parser("reprocess", help="rebuild documents from stored pages, no network")
    db_option(p)
    p.add_argument("--site", help="only this site")
    p.add_argument("--workers", type=int, metavar="N",
                   help="processes that make documents (default: one per core; 0 = this process)")
    p.set_defaults(func=_lazy("crawler.cli.reprocess", "cmd_reprocess"))

    p = sub.add_parser("demo", help="crawl the offline mirror of every site, load the seeds, show a summary",
                       epilog=CRAWL_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", help="DuckDB file (default: data/demo.duckdb; never the real crawls' database)")
    p.set_defaults(func=_lazy("crawler.cli.crawl", "cmd_demo"))

    p = sub.add_parser("search", help="rank documents by BM25 for a query")
    p.add_argument("query", metavar="QUERY", help="words to search for, Simplified or Traditional")
    db_option(p)
    p.add_argument("--limit", type=int, default=10, metavar="N", help="at most N documents (default: 10)")
    p.add_argument("--site", help="only documents of this site")
    p.add_argument("--since", metavar="DATE", help="published on or after YYYY-MM-DD")
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="table (default) or json: an array of hits with longer snippets")
    p.set_defaults(func=_lazy("crawler.cli.search", "cmd_search"))

    p = sub.add_parser("similar", help="documents nearest to one document")
    p.add_argument("doc_id", metavar="DOC_ID", help="the document to compare the others with")
    db_option(p)
    p.add_argument("--limit", type=int, default=10, metavar="N", help="at most N documents (default: 10)")
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="table (default) or json: an array of documents with score and jaccard")
    p.set_defaults(func=_lazy("crawler.cli.search", "cmd_similar"))

    p = sub.add_parser("export", help="write documents to a Parquet, JSON Lines or CSV file")
    p.add_argument("--format", choices=("parquet", "jsonl", "csv"),
                   help="parquet (lists kept as lists), jsonl (one object a line) or csv (lists as JSON "
                        "arrays); default: from the --out file's extension")
    p.add_argument("--out", required=True, metavar="PATH", help="the file to write (replaced whole)")
    db_option(p)
    p.add_argument("--since", metavar="DATE", help="only documents published on or after YYYY-MM-DD")
    p.add_argument("--site", help="only documents of this site")
    p.add_argument("--new", action="store_true",
                   help="only documents added or changed since the last export that selected as much")
    p.set_defaults(func=_lazy("crawler.cli.export", "cmd_export"))

    p = sub.add_parser("report", help="write one self-contained HTML file of charts about the database")
    db_option(p)
    p.add_argument("--out", default="report.html", metavar="PATH",
                   help="the HTML file to write (default: report.html)")
    p.set_defaults(func=_lazy("crawler.cli.report", "cmd_report"))
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

