"""The demo corpus as a comparable record: documents (doc_id, content_hash, relevance),
reprint clusters (their members) and pages (url, kind, reason, doc_id, status) of a
``djcrawl demo`` database.

A cluster's root is left out: two copies with the same publish date are ordered by when
they were fetched, which the crawl's concurrency decides.

``tests/fixtures/demo_corpus.json`` holds the record of the demo as it was before the
layers were redesigned; ``tests/test_crawl.py`` holds every later demo to it. A change
that is meant to alter documents (a better cleaning rule) records it again, and says so
in its commit:

    python tests/demo_corpus.py data/demo.duckdb > tests/fixtures/demo_corpus.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

RECORD = Path(__file__).resolve().parent / "fixtures" / "demo_corpus.json"


def record(db: str | Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        docs = con.execute("SELECT doc_id, content_hash, round(relevance, 4) FROM documents ORDER BY doc_id").fetchall()
        clusters = con.execute("SELECT members FROM reprint_clusters ORDER BY members").fetchall()
        pages = con.execute("SELECT url, kind, reason, doc_id, status FROM pages ORDER BY url").fetchall()
    finally:
        con.close()
    return {"documents": [list(d) for d in docs], "clusters": [list(c[0]) for c in clusters],
            "pages": [list(p) for p in pages]}


if __name__ == "__main__":
    json.dump(record(sys.argv[1]), sys.stdout, ensure_ascii=False, indent=1)
    print()
