"""Reprint links and relevance, through the real store stage on a real DuckDB file."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.ingest import add_documents, relevance_model, relevance_threshold, is_relevant
from pipelines.errors import DjcrawlError
from pipelines.index.fingerprint import DUPLICATE_THRESHOLD, Clusterer, char_shingles, lsh_buckets, minhash, similarity
from pipelines.documents import document_from_text
from pipelines.seeds import load_seed_dir
from pipelines.store import Store

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds" / "documents"
FIXTURES = Path(__file__).with_name("fixtures") / "dedup"
SEED_003 = "003_a1f4537977f397c3"
#: Seed 003 as another site reprints it: other header and footer, one paragraph dropped,
#: four words changed, published a week later.
REPRINT = (FIXTURES / "reprint_of_003.txt").read_text(encoding="utf-8")
SPORTS = (FIXTURES / "sports_report.txt").read_text(encoding="utf-8")


def doc(text: str, doc_id: str, **fields):
    return document_from_text(text, doc_id=doc_id, origin="crawl", **fields)


def row(store: Store, doc_id: str) -> dict:
    found = store.get_document(doc_id)
    assert found is not None, doc_id
    return found


@pytest.fixture()
def seeded(tmp_path) -> Path:
    db = tmp_path / "corpus.duckdb"
    with Store(db) as store:
        load_seed_dir(store, SEEDS)
    return db


def test_reprint_links_to_its_seed_across_runs_and_sports_scores_below_every_seed(seeded):
    # A later run (new connection) adds the reprint and an unrelated report.
    with Store(seeded) as store:
        result = add_documents(store, [doc(REPRINT, "u_reprint"), doc(SPORTS, "u_sports")])
        assert (result.new, result.updated) == (2, 0)
        reprint, sports = row(store, "u_reprint"), row(store, "u_sports")
        assert reprint["duplicate_of"] == SEED_003
        assert sports["duplicate_of"] is None
        seeds = [row(store, p.stem) for p in sorted(SEEDS.glob("*.txt"))]
        assert all(s["duplicate_of"] is None for s in seeds)
        assert all(len(s["fingerprint"]) == 128 for s in seeds)
        assert sports["relevance"] < min(s["relevance"] for s in seeds)
        assert all(0.0 <= s["relevance"] <= 1.0 for s in seeds + [reprint, sports])
        assert reprint["relevance"] > sports["relevance"]


def test_earlier_published_reprint_arriving_later_takes_the_cluster_over(seeded):
    with Store(seeded) as store:
        add_documents(store, [doc(REPRINT, "u_later")])  # published 2019-06-20, after the seed
        assert row(store, "u_later")["duplicate_of"] == SEED_003
        earlier = REPRINT.replace("发布时间: 2019-06-20", "发布时间: 2019-05-02")
        assert earlier != REPRINT
        add_documents(store, [doc(earlier, "u_earlier")])
        assert row(store, "u_earlier")["duplicate_of"] is None
        assert row(store, SEED_003)["duplicate_of"] == "u_earlier"
        assert row(store, "u_later")["duplicate_of"] == "u_earlier"


def test_changed_document_leaves_its_cluster_and_the_rest_is_relinked(seeded):
    with Store(seeded) as store:
        earlier = REPRINT.replace("发布时间: 2019-06-20", "发布时间: 2019-05-02")
        add_documents(store, [doc(earlier, "u_a"), doc(REPRINT, "u_b")])
        assert row(store, SEED_003)["duplicate_of"] == "u_a"
        # The earliest member is re-crawled with other content: it is no reprint any more,
        # and the seed (now the earliest left) heads the cluster again.
        result = add_documents(store, [doc(SPORTS, "u_a")])
        assert result.updated == 1
        assert row(store, "u_a")["duplicate_of"] is None
        assert row(store, SEED_003)["duplicate_of"] is None
        assert row(store, "u_b")["duplicate_of"] == SEED_003


def test_reloading_changes_nothing_and_index_counts_stay_consistent(seeded):
    with Store(seeded) as store:
        add_documents(store, [doc(REPRINT, "u_reprint")])
        before = store.query("SELECT doc_id, duplicate_of, relevance, fingerprint FROM documents ORDER BY doc_id")
        postings = store.query("SELECT count(*) FROM doc_terms")[1][0][0]
        result = load_seed_dir(store, SEEDS).result
        assert (result.new, result.updated, result.unchanged) == (0, 0, 5)
        add_documents(store, [doc(REPRINT, "u_reprint")])
        assert store.query("SELECT doc_id, duplicate_of, relevance, fingerprint FROM documents ORDER BY doc_id") == before
        assert store.query("SELECT count(*) FROM doc_terms")[1][0][0] == postings
        # An update replaces its postings: document frequencies equal the postings held.
        add_documents(store, [doc(SPORTS, "u_reprint")])
        mismatched = store.query(
            """SELECT count(*) FROM doc_vocab v
               FULL JOIN (SELECT term, count(*) AS n FROM doc_terms GROUP BY term) t USING (term)
               WHERE coalesce(v.df, 0) <> coalesce(t.n, 0)"""
        )[1][0][0]
        assert mismatched == 0
        assert store.query("SELECT count(*) FROM doc_bands WHERE doc_id = 'u_reprint'")[1][0][0] == 32


def test_relevance_threshold_keeps_the_reprint_and_drops_the_sports_report(seeded):
    # the crawl's decision (tests/test_crawl.py runs it through a real crawl)
    with Store(seeded) as store:
        model = relevance_model(store)
    reprint, sports = (model.score(d.tokens, d.text, d.doc_id) for d in (doc(REPRINT, "u_reprint"), doc(SPORTS, "u_sports")))
    assert is_relevant(reprint, relevance_threshold("")) and is_relevant(sports, relevance_threshold(None))
    assert is_relevant(reprint, relevance_threshold("0.5"))
    assert not is_relevant(sports, relevance_threshold("0.5"))


@pytest.mark.parametrize("value", ["high", "1.5", "-0.1"])
def test_bad_relevance_threshold_is_one_clear_error(value):
    with pytest.raises(DjcrawlError, match="DJ_MIN_RELEVANCE"):
        relevance_threshold(value)


def test_load_order_does_not_change_links_or_relevance(tmp_path):
    # Seeds loaded after crawled documents: relevance is scored again and the seed,
    # published first, heads the reprint's cluster - as if the seeds had come first.
    outcomes = []
    for name, seeds_first in (("seeds_first", True), ("seeds_last", False)):
        with Store(tmp_path / f"{name}.duckdb") as store:
            if seeds_first:
                load_seed_dir(store, SEEDS)
            add_documents(store, [doc(REPRINT, "u_reprint"), doc(SPORTS, "u_sports")])
            if not seeds_first:
                assert row(store, "u_sports")["relevance"] == 0.0  # lexicon only: no topic word
                load_seed_dir(store, SEEDS)
            outcomes.append(store.query("SELECT doc_id, duplicate_of, relevance FROM documents ORDER BY doc_id")[1])
    assert outcomes[0] == outcomes[1]
    assert ("u_reprint", SEED_003) in {(r[0], r[1]) for r in outcomes[0]}
    assert dict((r[0], r[2]) for r in outcomes[0])["u_sports"] > 0.0


# --------------------------------------------------------------------------- pure parts

def test_minhash_estimates_jaccard_of_shingle_sets():
    rng = random.Random(7)
    alphabet = "党建检察院工作政治思想组织队伍业务融合发展服务大局基层支部干警学习教育"
    base = "".join(rng.choice(alphabet) for _ in range(3000))
    edited = base[:1000] + "".join(rng.choice(alphabet) for _ in range(600)) + base[1600:]
    a, b = char_shingles(base), char_shingles(edited)
    true = len(a & b) / len(a | b)
    estimate = similarity(minhash(a), minhash(b))
    assert abs(estimate - true) < 0.12, (estimate, true)
    assert similarity(minhash(a), minhash(char_shingles(SPORTS))) < 0.1


def test_signatures_do_not_depend_on_the_process_hash_seed():
    code = (
        "from pipelines.index.fingerprint import minhash, char_shingles, lsh_buckets;"
        "import sys; s = minhash(char_shingles(sys.stdin.read())); print(s[:8], lsh_buckets(s)[:2])"
    )
    outs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outs.add(subprocess.run([sys.executable, "-c", code], input=SPORTS, capture_output=True, text=True,
                                env=env, check=True, cwd=ROOT).stdout)
    sig = minhash(char_shingles(SPORTS))
    assert outs == {f"{sig[:8]} {lsh_buckets(sig)[:2]}\n"}


def test_clusterer_names_the_earliest_member():
    c = Clusterer()
    c.union("b", "c")
    c.union("c", "a")
    c.add("z")
    order = {"a": (1,), "b": (0,), "c": (2,), "z": (3,)}
    assert c.assign(order.__getitem__) == {"a": "b", "b": None, "c": "b", "z": None}


def test_empty_text_has_no_signature():
    assert minhash(char_shingles("  ,。!  ")) is None


def _variants(rng: random.Random, text: str, n: int) -> list[str]:
    """Reprints of ``text``: a paragraph dropped, a few characters changed."""
    paras = [p for p in text.split("\n") if p.strip()]
    out = []
    for _ in range(n):
        kept = [p for i, p in enumerate(paras) if i != rng.randrange(len(paras))] if len(paras) > 3 else paras
        chars = list("\n".join(kept))
        for _ in range(3):
            i = rng.randrange(len(chars))
            if "\u4e00" <= chars[i] <= "\u9fff":
                chars[i] = "党"
        out.append("".join(chars))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_links_made_batch_by_batch_equal_single_link_clusters_over_all_documents(tmp_path, seed):
    # New documents are linked through the roots of the clusters they join (pipelines/ingest.py,
    # _link_new); the result must be the single-link clusters of every verified LSH pair,
    # each named by its earliest member, whatever the arrival order and batch size.
    import dataclasses
    import datetime as dt

    rng = random.Random(seed)
    bases = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))] + [REPRINT, SPORTS]
    texts = [v for b in bases for v in [b, *_variants(rng, b, 4)]]
    docs = [dataclasses.replace(doc(t, f"u_{i:03d}"),
                                published=dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(400)))
            for i, t in enumerate(texts)]
    rng.shuffle(docs)
    step = rng.choice([1, 3, 7])
    with Store(tmp_path / "x.duckdb") as store:
        for i in range(0, len(docs), step):
            add_documents(store, docs[i:i + step])
        got = dict(store.query("SELECT doc_id, duplicate_of FROM documents")[1])
        keys = store.earliest_keys(got)
    sigs = {d.doc_id: minhash(char_shingles(d.text)) for d in docs}
    clusters = Clusterer()
    for a in sigs:
        clusters.add(a)
        for b in sigs:
            if a < b and set(lsh_buckets(sigs[a])) & set(lsh_buckets(sigs[b])) \
                    and similarity(sigs[a], sigs[b]) >= DUPLICATE_THRESHOLD:
                clusters.union(a, b)
    expected = clusters.assign(keys.__getitem__)
    assert got == expected
    assert sum(v is not None for v in got.values()) >= 20  # the variants were linked


def test_relevance_model_keeps_one_centroid_per_seed_left_out_not_per_document():
    # A worker scores every page of a crawl with one model: a centroid cached per scored
    # document grew the worker by a copy of the seed vocabulary a page.
    from pipelines.index.relevance import RelevanceModel

    seeds = [document_from_text(p.read_text(encoding="utf-8"), doc_id=p.stem, origin="seed")
             for p in sorted(SEEDS.glob("*.txt"))]
    model = RelevanceModel.from_seeds((d.doc_id, d.tokens) for d in seeds)
    reprint, sports = doc(REPRINT, "u_reprint"), doc(SPORTS, "u_sports")
    first = model.score(reprint.tokens, reprint.text, "u_reprint")
    for i in range(50):
        d = reprint if i % 2 else sports
        model.score(d.tokens, d.text, f"page-{i}")
    for s in seeds:
        model.score(s.tokens, s.text, s.doc_id)
    assert len(model._centroids) <= len(seeds) + 1
    # The cache is shared by every non-seed document: the scores do not depend on it.
    fresh = RelevanceModel.from_seeds((d.doc_id, d.tokens) for d in seeds)
    assert model.score(reprint.tokens, reprint.text, "u_reprint") == first == fresh.score(
        reprint.tokens, reprint.text, "another-id")
    assert [model.score(s.tokens, s.text, s.doc_id) for s in seeds] == [
        fresh.score(s.tokens, s.text, s.doc_id) for s in seeds]


def test_relevance_from_the_index_entry_counts_equals_relevance_from_the_tokens():
    # index_entry hands relevance the lower-cased counts it made for BM25 instead of
    # letting it count the tokens again: the scores must not move.
    from collections import Counter

    from pipelines.index.relevance import RelevanceModel

    seeds = [document_from_text(p.read_text(encoding="utf-8"), doc_id=p.stem, origin="seed")
             for p in sorted(SEEDS.glob("*.txt"))]
    model = RelevanceModel.from_seeds((d.doc_id, d.tokens) for d in seeds)
    mixed = doc("党建引领 The Party and THE People 检察院 2021 AND ABC abc 推动检察工作高质量发展。" * 3, "u_mixed")
    for d in [*seeds, doc(REPRINT, "u_reprint"), doc(SPORTS, "u_sports"), mixed]:
        counts = Counter(t.lower() for t in d.tokens)
        assert model.score(d.tokens, d.text, d.doc_id, counts=counts) == model.score(d.tokens, d.text, d.doc_id)


def test_text_signature_is_the_minhash_of_the_char_shingles():
    # The array computation of the store's signatures against the one-shingle-at-a-time
    # reference: the same hashes, bins and densification on every kind of text.
    from pipelines.index.fingerprint import text_signature

    rng = random.Random(5)
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))] + [REPRINT, SPORTS]
    texts += ["", "  ,。!  ", "党建", "党建引领x", "党建引领xy", "ABCdef GHI", "𠀀𠀁𠀂𠀃𠀄𠀅" * 3]
    for _ in range(300):
        alphabet = [(0x4E00, 0x9FFF), (0x20, 0x7E), (0x20000, 0x2A6DF), (0x3000, 0x303F)]
        texts.append("".join(chr(rng.randint(*rng.choice(alphabet))) for _ in range(rng.randint(0, 400))))
    for text in texts:
        assert text_signature(text) == minhash(char_shingles(text)), text[:40]
