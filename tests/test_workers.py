"""Document workers: the same documents and index entries in worker processes as in this one."""

from __future__ import annotations

from pathlib import Path

from pipelines.documents import SiteHints
from pipelines.index.entry import index_entry
from pipelines.ingest import add_documents, relevance_model, relevance_seeds
from pipelines.page import Page
from pipelines.seeds import load_seed_dir
from pipelines.store import Store
from pipelines.workers import WorkerPool, job_for, make_all

FIXTURES = Path(__file__).parent / "fixtures" / "real_sites"


def _jobs():
    pages = [Page(url=f"http://www.example-jcy.gov.cn/djgz/t{i:05d}.html", site="example", kind="article",
                  status=200, body=p.read_bytes()) for i, p in enumerate(sorted(FIXTURES.rglob("*.html"))[:3])]
    pages.append(Page(url="http://www.example-jcy.gov.cn/empty.html", site="example", kind="article", status=200,
                      body=b"<html></html>"))
    return [job_for(p, SiteHints(site="example")) for p in pages]


def test_list_pages_and_article_parts_make_no_job():
    for kind in ("list", "article-part"):
        assert job_for(Page(url="http://x.example/a", site="x", kind=kind, status=200, body=b"<p>x</p>"), None) is None


def test_documents_made_in_worker_processes_equal_those_made_in_this_one(tmp_path):
    jobs = _jobs()
    with Store(tmp_path / "seeded.duckdb") as seeded:
        load_seed_dir(seeded)
        model, seeds = relevance_model(seeded), relevance_seeds(seeded)
    here = list(make_all(jobs, workers=0))
    with WorkerPool(2, seeds) as pool:
        pooled = list(pool.map(iter(jobs), window=3))
    assert [j for j, _ in pooled] == jobs  # input order
    assert [m.document for _, m in pooled] == [m.document for _, m in here]
    assert pooled[-1][1].document is None and pooled[-1][1].reason and pooled[-1][1].entry is None
    docs = [m.document for _, m in pooled if m.document is not None]
    assert len(docs) >= 2
    # the workers' index entries are the ones this process computes with the same model ...
    entries = {m.document.doc_id: m.entry for _, m in pooled if m.entry is not None}
    assert entries == {d.doc_id: index_entry(d, model) for d in docs}
    assert all(e.relevance is not None and e.bands for e in entries.values())
    # ... so a store given them holds exactly what a store computing them itself holds
    tables = ("SELECT doc_id, fingerprint, relevance, duplicate_of FROM documents ORDER BY doc_id",
              "SELECT * FROM doc_terms ORDER BY ALL", "SELECT * FROM doc_bands ORDER BY ALL")
    held = []
    for name, given in (("given", entries), ("computed", None)):
        with Store(tmp_path / f"{name}.duckdb") as store:
            load_seed_dir(store)
            add_documents(store, docs, given)
            held.append([store.con.execute(sql).fetchall() for sql in tables])
    assert held[0] == held[1] and held[0][1]


async def _made_through(pool, job):
    return await pool.make(job)


def test_the_async_path_of_a_pool_makes_the_same_document():
    import asyncio

    job = _jobs()[0]
    with WorkerPool(1) as pool:
        made = asyncio.run(_made_through(pool, job))
    assert made.document == list(make_all([job], workers=0))[0][1].document
