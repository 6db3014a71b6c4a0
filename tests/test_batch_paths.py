"""Batch paths the speed work relies on: reading stored pages in batches while writing.

``djcrawl reprocess`` reads pages with ``Store.iter_pages`` and stores documents every
50 pages on the same connection; every page must still be read. Real DuckDB file.
"""

from __future__ import annotations

from pipelines.document import doc_id_for_url
from pipelines.page import Page
from pipelines.store import Store


def _page(i: int, text: str) -> Page:
    body = (f"<html><head><title>报道{i}</title></head><body><div class='TRS_Editor'>"
            f"<p>{text}</p></div></body></html>").encode("utf-8")
    url = f"http://www.example-jcy.gov.cn/djgz/t{i:05d}.html"
    return Page(url=url, site="example", status=200, body=body, kind="article",
                content_type="text/html; charset=utf-8", doc_id=doc_id_for_url(url))


def test_iter_pages_reads_every_page_when_the_store_is_written_between_batches(tmp_path):
    with Store(tmp_path / "x.duckdb") as store:
        store.put_pages([_page(i, f"第{i}篇") for i in range(23)])
        seen = []
        for page in store.iter_pages(kind="article", batch=4):
            seen.append(page.url)
            store.put_pages([Page(url=f"http://other.example/{len(seen)}", site="other", status=200,
                                  body=b"x", kind="list")])  # a write between reads
        assert len(seen) == 23
        assert seen == sorted(seen)
        assert len(set(seen)) == 23



def test_documents_made_in_worker_processes_equal_those_made_in_this_one(tmp_path):
    from pathlib import Path

    from pipelines.corpus import add_documents, relevance_model, relevance_seeds
    from pipelines.index.entry import index_entry
    from pipelines.parallel import PageJob, make_documents
    from pipelines.process import NotArticle, SiteHints
    from pipelines.seeds import load_seed_dir

    fixtures = sorted((Path(__file__).parent / "fixtures" / "real_sites").rglob("*.html"))[:3]
    jobs = [PageJob(url=f"http://www.example-jcy.gov.cn/djgz/t{i:05d}.html", body=p.read_bytes(), content_type=None,
                    hints=SiteHints(site="example"), doc_id=f"u_{i:016d}") for i, p in enumerate(fixtures)]
    jobs.append(PageJob(url="http://www.example-jcy.gov.cn/empty.html", body=b"<html></html>",
                        content_type=None, hints=SiteHints(), doc_id="u_empty"))
    with Store(tmp_path / "seeded.duckdb") as seeded:
        load_seed_dir(seeded)
        model, seeds = relevance_model(seeded), relevance_seeds(seeded)
    here = list(make_documents(jobs, workers=1))
    pooled = list(make_documents(iter(jobs), workers=2, window=3, seeds=seeds))
    assert [j for j, _ in pooled] == jobs  # input order
    assert [m.outcome for _, m in pooled] == [m.outcome for _, m in here]
    assert isinstance(pooled[-1][1].outcome, NotArticle) and pooled[-1][1].entry is None
    docs = [m.outcome for _, m in pooled if not isinstance(m.outcome, NotArticle)]
    assert len(docs) >= 2
    # the workers' index entries are the ones this process computes with the same model ...
    entries = {m.outcome.doc_id: m.entry for _, m in pooled if m.entry is not None}
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
