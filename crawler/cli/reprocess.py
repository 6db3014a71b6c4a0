"""``djcrawl reprocess``: documents made again from the stored raw pages, no network.

The same chain as the crawl (:func:`pipelines.workers.job_for` and
:class:`~pipelines.workers.WorkerPool`): pages become documents and index entries in
worker processes (every core), this process stores them. An article's later pages are
the stored rows whose ``part_of`` names it; an attachment's article is its
``parent_url``. The seeds are left alone, so their relevance model holds throughout.
"""

from __future__ import annotations

import sys
from collections import Counter

from pipelines.errors import DjcrawlError

from ..pipelines import workers_setting
from ..progress import LiveProgress
from ..siteconfig import SiteConfigError, load_sites
from .options import db_path

__all__ = ["cmd_reprocess"]

BATCH = 50


def cmd_reprocess(args) -> int:
    from ..run import crawl_settings

    db = db_path(args.db)
    if not db.exists():
        raise DjcrawlError(f"database {db} does not exist (run `djcrawl crawl` or `djcrawl demo` first)")
    configs = {c.name: c for c in load_sites(every=True)}
    if args.site and args.site not in configs:
        raise SiteConfigError(f"unknown site {args.site} (known: {', '.join(configs)})")
    hints = {name: cfg.hints() for name, cfg in configs.items()}
    workers = workers_setting(crawl_settings(db=db, workers=args.workers))
    reasons: Counter[str] = Counter()
    totals = Counter()
    #: per site: pages read, documents made (shown live on a terminal)
    done: dict[str, Counter] = {}

    def rows():
        return [(site, c["pages"], c["documents"]) for site, c in sorted(done.items())]

    live = LiveProgress("reprocessing", ("site", "pages", "documents"), rows)
    try:
        with live:
            _reprocess(db, args, hints, workers, reasons, totals, done)
    except KeyboardInterrupt:
        # the batches written before are kept (each is one transaction); the one under way is not
        print(f"djcrawl: interrupted: reprocess stored {totals['new']} new and {totals['updated']} updated "
              f"documents before it stopped", file=sys.stderr)
        return 130
    scope = f"site {args.site}" if args.site else "all sites"
    print(f"reprocessed {totals['pages']} stored article pages and {totals['files']} attachments of {scope}: "
          f"{totals['new']} new, {totals['updated']} updated, {totals['unchanged']} unchanged documents")
    for reason, n in sorted(reasons.items()):
        print(f"  {reason}: {n}")
    return 0


def _reprocess(db, args, hints, workers, reasons, totals, done) -> None:
    from pipelines.ingest import add_documents, relevance_seeds
    from pipelines.store import Store
    from pipelines.workers import job_for, make_all

    with Store(db) as store:
        parts: dict[str, list] = {}
        for part in store.iter_pages(site=args.site, kind="article-part"):
            if part.part_of:
                parts.setdefault(part.part_of, []).append(part)

        def pages():
            for page in store.iter_pages(site=args.site, kind="article"):
                totals["pages"] += 1
                page.parts = sorted(parts.get(page.url, []), key=lambda p: p.part_no or 0)
                yield page
            for page in store.iter_pages(site=args.site, kind="attachment"):
                totals["files"] += 1
                yield page

        batch, entries = [], {}

        def flush():
            if batch:
                r = add_documents(store, batch, entries)
                totals.update(new=r.new, updated=r.updated, unchanged=r.unchanged)
                batch.clear()
                entries.clear()

        jobs = (job_for(page, hints.get(page.site)) for page in pages())
        for job, made in make_all(jobs, workers, seeds=relevance_seeds(store)):
            mine = done.setdefault(job.page.site or "", Counter())
            mine["pages"] += 1
            if made.document is None:
                reasons[made.reason] += 1
                continue
            reasons["document"] += 1
            mine["documents"] += 1
            batch.append(made.document)
            if made.entry is not None:
                entries[made.document.doc_id] = made.entry
            if len(batch) >= BATCH:
                flush()
        flush()
