"""The store stage: every document enters the corpus through :func:`add_documents`.

Load-seeds, the crawl's store pipeline and reprocess all call it, so whatever must
happen before a document is stored (reprint linking, relevance) happens once, here.

An attachment (PDF, DOC, DOCX) whose own text names no date takes the publish date of
the article page that links it (provenance ``published = parent-page``): the file was
published with the article.

For each new or changed document, in ONE transaction with the upsert:

1. its MinHash fingerprint and LSH bands, its BM25 postings and its relevance are written;
2. its reprint cluster is worked out again: LSH buckets give candidates (indexed lookups,
   no scan), :func:`pipelines.fingerprint.similarity` confirms them, and every member of
   the touched clusters gets ``duplicate_of`` = the earliest member (published date, then
   first seen, then doc_id; NULL for that earliest one). An earlier-published reprint
   that arrives later therefore takes its cluster over, and a changed document that no
   longer matches leaves its cluster;
3. when the seed set changed, every document's relevance is scored again (the seeds
   are the reference set).

The crawl's relevance threshold (``DJ_MIN_RELEVANCE``) is read here too
(:func:`relevance_threshold`, :func:`is_relevant`): an article under it is kept as a
page and never becomes a document.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from .document import Document, content_hash, doc_id_for_url
from .index.entry import IndexEntry, index_entry
from .index.fingerprint import DUPLICATE_THRESHOLD, Clusterer, lsh_buckets, similarity
from .errors import DjcrawlError
from .index.relevance import RelevanceModel
from .store import Store, UpsertResult

__all__ = ["add_documents", "relevance_model", "relevance_seeds", "relevance_threshold", "is_relevant"]


def relevance_seeds(store: Store) -> list[tuple[str, list[str]]]:
    """``(doc_id, tokens)`` of the seeds stored in ``store``: the reference set of relevance."""
    return [(doc_id, list(tokens or [])) for doc_id, tokens, _text in store.seed_texts()]


def relevance_model(store: Store) -> RelevanceModel:
    """The seeds stored in ``store`` as the reference set of relevance."""
    return RelevanceModel.from_seeds(relevance_seeds(store))


def add_documents(store: Store, docs: Sequence[Document], entries: Mapping[str, IndexEntry] | None = None
                  ) -> UpsertResult:
    """Store a batch of documents in one transaction; returns new/updated/unchanged counts.

    ``entries`` are index entries computed elsewhere (worker processes) with
    ``index_entry(doc, relevance_model(store))`` for these very documents; the ones
    missing are computed here.
    """
    latest = {d.doc_id: d for d in docs}  # last one wins within a batch, as in upsert_documents
    with store.transaction():
        latest = _dated_by_parent(store, latest)
        before = store.index_state(list(latest))
        result = store.upsert_documents(list(latest.values()))
        todo = [
            d for d in latest.values()
            if d.doc_id not in before or not before[d.doc_id][1] or before[d.doc_id][0] != content_hash(d)
        ]
        if todo:
            given = entries or {}
            model = relevance_model(store) if any(d.doc_id not in given for d in todo) or any(
                d.origin == "seed" for d in todo) else None
            entries = [given.get(d.doc_id) or index_entry(d, model) for d in todo]
            reindexed = [d.doc_id for d in todo if d.doc_id in before and before[d.doc_id][1]]
            store.replace_index(entries, reindexed)
            _link_reprints(store, {e.doc_id: e.fingerprint for e in entries}, reindexed)
            if model is not None and any(d.origin == "seed" for d in todo):
                _rescore_all(store, model)
    return result


#: How many members of one existing cluster a new document is compared with, those sharing
#: the most LSH bands with it first. Single-link clustering needs one match; a cluster of
#: thousands (a template every page of a site shares) must not cost thousands of checks.
CLUSTER_CHECKS = 8


def _link_new(store: Store, sigs: dict[str, list[int]]) -> None:
    """Link new documents (stored with ``duplicate_of`` NULL) to the clusters they reprint.

    Every stored cluster is named by its earliest member (its root), so a cluster a new
    document joins is represented by that root alone: its other members are neither
    read nor compared beyond ``CLUSTER_CHECKS``, and a cluster taken over by an earlier
    new document is re-pointed with one UPDATE. The links are those of
    :class:`~pipelines.fingerprint.Clusterer` over the whole clusters.
    """
    new = set(sigs)
    owned = [(doc_id, bucket) for doc_id, sig in sigs.items() for _band, bucket in lsh_buckets(sig)]
    # per new document and neighbouring cluster: the members to compare, most bands first
    plan: dict[tuple[str, str], list[str]] = {}
    for a, n, root in store.reprint_candidates(owned, CLUSTER_CHECKS):
        plan.setdefault((a, root), []).append(n)
    if not plan:
        return  # new documents that resemble nothing: they stay originals
    sigs = {**sigs, **store.fingerprints({n for group in plan.values() for n in group} - new)}
    clusters = Clusterer()
    for (a, root), group in plan.items():
        if any(n in sigs and similarity(sigs[a], sigs[n]) >= DUPLICATE_THRESHOLD for n in group):
            clusters.union(a, root)
    members = clusters.members()
    if not members:
        return  # neighbours, but no reprints
    links = clusters.assign(store.earliest_keys(members).__getitem__)
    # new documents point at their cluster's earliest member ...
    store.set_duplicate_of({d: root for d, root in links.items() if d in new and root is not None})
    # ... and a stored cluster whose root is no longer the earliest moves, members and all
    store.move_clusters({d: root for d, root in links.items() if d not in new and root is not None})


def _dated_by_parent(store: Store, docs: dict[str, Document]) -> dict[str, Document]:
    """Undated attachments dated by their article: in this batch, else as stored."""
    undated = [d for d in docs.values() if d.origin == "attachment" and d.published is None and d.parent_url]
    if not undated:
        return docs
    parents = {doc_id_for_url(d.parent_url) for d in undated}
    dates = {p: docs[p].published for p in parents if p in docs and docs[p].published is not None}
    dates.update(store.published_dates(parents - dates.keys()))
    out = dict(docs)
    for d in undated:
        date = dates.get(doc_id_for_url(d.parent_url))
        if date is not None:
            out[d.doc_id] = dataclasses.replace(d, published=date, provenance={**d.provenance, "published": "parent-page"})
    return out


def _link_reprints(store: Store, changed: dict[str, list[int] | None], reindexed: list[str]) -> None:
    if not reindexed:
        _link_new(store, {doc_id: sig for doc_id, sig in changed.items() if sig})
        return
    # A changed document may have held its old cluster together, so the old clusters'
    # members are linked again from their fingerprints, not from their old links.
    affected = set(changed)
    sigs = {doc_id: sig for doc_id, sig in changed.items() if sig}
    if reindexed:
        affected |= {member for member, _ in store.cluster_members(reindexed)}
        sigs.update(store.fingerprints(affected - sigs.keys() - set(changed)))
    owners: dict[int, list[str]] = {}
    for doc_id, sig in sigs.items():
        for _band, bucket in lsh_buckets(sig):
            owners.setdefault(bucket, []).append(doc_id)
    candidates = {
        (a, n) for bucket, n in store.band_neighbours(list(owners)) for a in owners[bucket] if a != n
    }
    if not candidates and not reindexed:
        return  # new documents that resemble nothing: they stay originals (duplicate_of NULL)
    sigs.update(store.fingerprints({n for _, n in candidates} - sigs.keys()))
    clusters = Clusterer()
    for doc_id in affected:
        clusters.add(doc_id)
    outside: set[str] = set()
    for a, n in candidates:
        if similarity(sigs[a], sigs[n]) >= DUPLICATE_THRESHOLD:
            clusters.union(a, n)
            if n not in affected:
                outside.add(n)
    # A matched document outside the touched clusters brings its whole cluster along;
    # nothing in it changed, so its existing links still stand for its connections.
    if outside:
        for member, earliest in store.cluster_members(outside):
            clusters.union(member, earliest)
    members = clusters.members()
    keys = store.earliest_keys(members) if len(members) > len(changed) or reindexed else {}
    if not keys:  # only new documents, none linked: nothing to write
        return
    links = clusters.assign(keys.__getitem__)
    # New documents are stored with duplicate_of NULL already.
    store.set_duplicate_of({d: root for d, root in links.items()
                            if root is not None or d not in changed or d in reindexed})


def _rescore_all(store: Store, model: RelevanceModel) -> None:
    values = {doc_id: model.score(tokens or [], text, doc_id) for doc_id, tokens, text in store.iter_document_texts()}
    store.set_relevance(values)


def relevance_threshold(value) -> float:
    """``DJ_MIN_RELEVANCE`` as a number in 0..1 (empty or None: 0, keep everything)."""
    if value is None or str(value).strip() == "":
        return 0.0
    try:
        threshold = float(value)
    except ValueError:
        raise DjcrawlError(f"DJ_MIN_RELEVANCE={value!r} is not a number between 0 and 1") from None
    if not 0.0 <= threshold <= 1.0:
        raise DjcrawlError(f"DJ_MIN_RELEVANCE={value!r} is not a number between 0 and 1")
    return threshold


def is_relevant(score: float | None, threshold: float) -> bool:
    """Keep a crawled article as a document? Threshold 0 keeps everything, an unscored one too."""
    return threshold <= 0.0 or score is None or score >= threshold
