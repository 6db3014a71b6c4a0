"""``djcrawl load-seeds``, ``clean`` and ``query``: the corpus without a crawl."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from pipelines.errors import DjcrawlError

from .options import db_path, open_reader

__all__ = ["cmd_load_seeds", "cmd_clean", "cmd_query", "render", "clean_file", "clean_workers"]


def cmd_load_seeds(args) -> int:
    from pipelines.seeds import load_seed_dir
    from pipelines.store import Store

    from ..progress import status

    db = db_path(args.db)
    with Store(db) as store:
        with status(f"loading the seed reports of {args.directory}"):
            load = load_seed_dir(store, Path(args.directory))
        r = load.result
        print(f"loaded {load.files} seed files from {args.directory} into {db}: "
              f"{r.new} new, {r.updated} updated, {r.unchanged} unchanged")
        if not args.quiet:
            print(render(*store.seed_summary(), "table"))
    return 0


def _looks_like_html(data: bytes) -> bool:
    head = data[:4096].lower()
    return any(tag in head for tag in (b"<html", b"<!doctype html", b"<body", b"<div", b"<p>", b"<meta"))


def _clean_one(path: Path, url: str | None):
    from pipelines.documents import NotArticle, document_from_file, document_from_html, document_from_text
    from pipelines.seeds import read_text_file

    if path.suffix.lower() in (".pdf", ".docx", ".doc") and path.is_file():
        # An attachment (附件) a report was published as: same chain as the crawl's attachments.
        result = document_from_file(path.read_bytes(), url=url or path.resolve().as_uri(), parent_url=None)
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


def _render(path: Path, doc, fmt: str):
    """What ``djcrawl clean`` prints for one document: the text block, the JSON line, or the
    object of a ``json`` answer."""
    if fmt == "text":
        head = [f"# {doc.title or ''}"]
        for label, value in (("published", doc.published), ("source", doc.source_name),
                             ("authors", ", ".join(doc.authors)), ("editor", doc.editor)):
            if value:
                head.append(f"{label}: {value}")
        return "\n".join(head) + "\n\n" + doc.text + "\n"
    if fmt == "jsonl":
        return json.dumps(_doc_json(path, doc), ensure_ascii=False)
    return _doc_json(path, doc)


def clean_file(job: tuple[str, str | None, str]) -> tuple[bool, object]:
    """``(True, what to print)`` for one file of ``djcrawl clean``, or ``(False, the error
    line)``; run by the document workers (the rendering too: the parent only prints)."""
    name, url, fmt = job
    path = Path(name)
    try:
        return True, _render(path, _clean_one(path, url), fmt)
    except DjcrawlError as exc:
        return False, str(exc)


def clean_workers(requested: int | None, files: int) -> int:
    """Processes for ``files`` files: ``--workers`` (default one per core), none for one file
    (starting a worker costs more than the file) and never more than there are files."""
    if requested is not None and requested < 0:
        raise DjcrawlError("--workers must be 0 (this process) or more")
    workers = (os.cpu_count() or 1) if requested is None else requested
    return 0 if files < 2 else min(workers, files)


def cmd_clean(args) -> int:
    from pipelines.workers import WorkerPool

    failures = 0
    objects = []
    jobs = [(name, args.url, args.format) for name in args.files]
    with WorkerPool(clean_workers(getattr(args, "workers", None), len(jobs))) as pool:
        # in input order: the files' answers are printed as they would be one by one
        for ok, out in pool.imap(clean_file, jobs):
            if not ok:
                print(f"djcrawl: error: {out}", file=sys.stderr)
                failures += 1
            elif args.format == "json":
                objects.append(out)
            else:
                print(out, flush=args.format == "jsonl")
    if args.format == "json" and objects:
        print(json.dumps(objects[0] if len(args.files) == 1 else objects, ensure_ascii=False, indent=2))
    return 1 if failures else 0


def cmd_query(args) -> int:
    with open_reader(args.db) as store:
        columns, rows = store.query(args.sql)
    out = render(columns, rows, args.format)
    if out or args.format != "jsonl":  # no rows in JSON Lines: no line at all
        print(out)
    return 0


def render(columns, rows, fmt: str) -> str:
    from .tables import format_csv, format_json, format_jsonl, format_table

    return {"table": format_table, "csv": format_csv, "json": format_json, "jsonl": format_jsonl}[fmt](columns, rows)
