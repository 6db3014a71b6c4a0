"""Reprint detection: precision/recall of fingerprint methods, and the cost of adding one document.

    .venv/bin/python -m benchmarks.dedup                 # quality (1,200 docs) + add-one at 100,000
    .venv/bin/python -m benchmarks.dedup --corpus 10000  # a smaller corpus for the timing part
    .venv/bin/python -m benchmarks.dedup --skip-timing

Generated set: distinct reports are sentences drawn from the seed reports and the
real-site gold texts (so every report reads like the corpus and shares its
vocabulary); a third of them share a two-paragraph boilerplate block with another
report (a hard negative: same template, other report). Each original gets 0-3
reprints: another header and footer (site navigation, date, source, editor,
copyright), one paragraph dropped, and 2-8 words changed; a quarter of the reprints
are harder (two paragraphs dropped, up to 15 words changed, paragraphs merged).

Part 1 compares methods offline (same LSH-then-verify scheme, single-link clusters)
by pairwise precision/recall against the true families, and the signature time.
Part 2 runs the real store stage (:func:`pipelines.ingest.add_documents`, DuckDB
file) on the same set in shuffled order (reprints often arrive before their
original) and checks ``duplicate_of`` against the family's earliest member.
Part 3 builds a corpus of ``--corpus`` documents through the same store stage and
times adding one more document (and a search and a similar query on it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

from pipelines.ingest import add_documents
from pipelines.document import Document
from pipelines.index.fingerprint import (
    BANDS, DUPLICATE_THRESHOLD, Clusterer, char_shingles, hamming, lsh_buckets, minhash, similarity, simhash,
    simhash_buckets, text_signature, token_shingles,
)
from pipelines.normalize import get_normalizer
from pipelines.documents import document_from_text
from pipelines.store import Store

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "seeds" / "documents", ROOT / "tests" / "fixtures" / "real_sites"]

HEADERS = [
    "当前位置: 首页 > 检察动态 > 工作交流",
    "网站首页 | 检察新闻 | 党建园地 | 队伍建设",
    "您现在的位置:首页 >> 理论调研",
    "检察日报·正义网 首页 新闻 评论 理论",
    "当前位置:首页>党建工作>支部风采",
]
FOOTERS = [
    "责任编辑:{name}\n【打印本页】【关闭窗口】",
    "(责任编辑:{name})\n版权所有 未经授权禁止转载",
    "分享到:微信 微博 QQ空间\n编辑:{name}",
    "来源:{site}  编辑:{name}\n扫一扫在手机打开当前页",
]
NAMES = ["王明", "李华", "张伟", "刘洋", "陈静", "杨帆"]
SITES = ["正义网", "检察日报", "人民网", "新华网", "最高人民检察院网站", "市检察院网站"]
SWAPS = ["工作", "建设", "推动", "加强", "提升", "落实", "全面", "深入", "扎实", "持续", "有效", "进一步"]


# --------------------------------------------------------------------------- generated set

def sentence_pool() -> list[str]:
    sentences: list[str] = []
    for base in SOURCES:
        files = sorted(base.glob("*.txt")) if base.name == "documents" else sorted(base.rglob("*.gold.txt"))
        for path in files:
            text = get_normalizer().simplify_text(path.read_text(encoding="utf-8"))[0]
            for s in re.split(r"(?<=[。!?;])", text.replace("\n", "")):
                s = s.strip()
                if 12 <= len(s) <= 160:
                    sentences.append(s)
    return list(dict.fromkeys(sentences))


def make_report(rng: random.Random, pool: list[str], paragraphs: int | None = None) -> list[str]:
    paras = []
    for _ in range(paragraphs or rng.randint(6, 11)):
        paras.append("".join(rng.sample(pool, rng.randint(2, 5))))
    return paras


def render(title: str, date: dt.date, paras: list[str], header: str | None = None, footer: str | None = None) -> str:
    head = [header] if header else []
    head += [title, f"发布时间: {date.isoformat()}"]
    tail = [footer] if footer else []
    return "\n\n".join(head + paras + tail) + "\n"


def make_reprint(rng: random.Random, paras: list[str], hard: bool) -> list[str]:
    out = list(paras)
    for _ in range(2 if hard else 1):
        if len(out) > 3:
            del out[rng.randrange(len(out))]
    changes = rng.randint(8, 15) if hard else rng.randint(2, 8)
    for _ in range(changes):
        i = rng.randrange(len(out))
        words = [w for w in SWAPS if w in out[i]]
        if words:
            w = rng.choice(words)
            out[i] = out[i].replace(w, rng.choice(SWAPS), 1)
    if hard and len(out) > 2:  # two paragraphs run together on the reprinting site
        i = rng.randrange(len(out) - 1)
        out[i:i + 2] = [out[i] + out[i + 1]]
    return out


def generated_set(n_originals: int = 480, seed: int = 11) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    """``[(doc_id, family, text)]`` and doc_id -> family; originals and reprints."""
    rng = random.Random(seed)
    pool = sentence_pool()
    boilerplate = [make_report(rng, pool, 2) for _ in range(20)]
    out: list[tuple[str, str, str]] = []
    reports: list[list[str]] = []
    start = dt.date(2018, 1, 1)
    for i in range(n_originals):
        family = f"f{i:04d}"
        paras = make_report(rng, pool)
        roll = rng.random()
        if roll < 0.33:  # same template as other reports: a shared two-paragraph block
            paras = rng.choice(boilerplate) + paras
        elif roll < 0.45 and i > 0:
            # A follow-up report: reuses about 40% of an earlier report's paragraphs, but it
            # is another report (the hardest negative here; J about 0.25).
            earlier = reports[rng.randrange(len(reports))]
            keep = rng.sample(earlier, max(2, int(0.4 * len(earlier))))
            paras = keep + paras[:max(3, len(paras) - len(keep))]
        reports.append(paras)
        title = pool[rng.randrange(len(pool))][:24]
        date = start + dt.timedelta(days=rng.randrange(1500))
        out.append((f"o{i:04d}", family, render(title, date, paras)))
        for r in range(rng.choice([0, 1, 1, 2, 2, 3])):
            hard = rng.random() < 0.25
            text = render(title, date + dt.timedelta(days=rng.randint(0, 20)), make_reprint(rng, paras, hard),
                          rng.choice(HEADERS), rng.choice(FOOTERS).format(name=rng.choice(NAMES), site=rng.choice(SITES)))
            out.append((f"r{i:04d}_{r}", family, text))
    return out, {doc_id: fam for doc_id, fam, _ in out}


def pair_scores(pred: dict[str, str], truth: dict[str, str]) -> tuple[float, float, int, int]:
    """Pairwise precision and recall of predicted clusters against true families."""
    def pairs(groups: dict[str, str]) -> set[tuple[str, str]]:
        by: dict[str, list[str]] = defaultdict(list)
        for doc_id, g in groups.items():
            by[g].append(doc_id)
        return {tuple(sorted(p)) for members in by.values() for p in combinations(members, 2)}

    p, t = pairs(pred), pairs(truth)
    tp = len(p & t)
    return (tp / len(p) if p else 1.0), (tp / len(t) if t else 1.0), len(p), len(t)


# --------------------------------------------------------------------------- part 1: methods

def cluster_offline(ids: list[str], buckets: Callable[[str], list], verify: Callable[[str, str], bool]) -> dict[str, str]:
    index: dict[object, list[str]] = defaultdict(list)
    for doc_id in ids:
        for b in buckets(doc_id):
            index[b].append(doc_id)
    c = Clusterer()
    for doc_id in ids:
        c.add(doc_id)
    checked = set()
    for members in index.values():
        for a, b in combinations(members, 2):
            if (a, b) not in checked:
                checked.add((a, b))
                if verify(a, b):
                    c.union(a, b)
    assigned = c.assign(lambda d: (d,))
    return {d: (root or d) for d, root in assigned.items()}


def compare_methods(docs: dict[str, Document], truth: dict[str, str]) -> None:
    ids = sorted(docs)
    print(f"\n## Part 1: methods on {len(ids)} documents ({len(set(truth.values()))} reports)")
    print(f"{'method':52s} {'precision':>9s} {'recall':>7s} {'ms/doc':>7s}")

    def timed(fn):
        t0 = time.perf_counter()
        out = {d: fn(docs[d]) for d in ids}
        return out, (time.perf_counter() - t0) * 1000 / len(ids)

    variants = [
        ("MinHash char-5, 32x4 LSH", lambda d: text_signature(d.text)),  # the store's path
        ("MinHash char-3, 32x4 LSH", lambda d: minhash(char_shingles(d.text, 3))),
        ("MinHash jieba-token-3, 32x4 LSH", lambda d: minhash(token_shingles(d.tokens, 3))),
    ]
    for name, fn in variants:
        sigs, ms = timed(fn)
        for threshold in (0.3, 0.4, DUPLICATE_THRESHOLD, 0.6, 0.7):
            pred = cluster_offline(ids, lambda d: lsh_buckets(sigs[d]),
                                   lambda a, b: similarity(sigs[a], sigs[b]) >= threshold)
            p, r, _, _ = pair_scores(pred, truth)
            mark = " <- default" if name.startswith("MinHash char-5") and threshold == DUPLICATE_THRESHOLD else ""
            print(f"{name + f', J >= {threshold}':52s} {p:9.3f} {r:7.3f} {ms:7.2f}{mark}")

    from pipelines.index.relevance import term_vector

    for name, fn in [("SimHash-64 jieba tokens (tf)", lambda d: simhash(d.tokens)),
                     ("SimHash-64 jieba tokens (tf-idf)", lambda d: simhash(d.tokens, term_vector(d.tokens))),
                     ("SimHash-64 char-5 shingles", lambda d: simhash(char_shingles(d.text, 5)))]:
        sims, ms = timed(fn)
        for k in (3, 6, 10):
            if k == 3:  # pigeonhole LSH: 4 blocks of 16 bits find every pair within 3 bits
                buckets = lambda d: simhash_buckets(sims[d], 4)  # noqa: E731
            else:  # no LSH finds k > 3 cheaply; all pairs, to show the best SimHash can do
                buckets = lambda d: [0]  # noqa: E731
            pred = cluster_offline(ids, buckets, lambda a, b: hamming(sims[a], sims[b]) <= k)
            p, r, _, _ = pair_scores(pred, truth)
            label = f"{name}, hamming <= {k}" + ("" if k == 3 else " (all pairs)")
            print(f"{label:52s} {p:9.3f} {r:7.3f} {ms:7.2f}")


# --------------------------------------------------------------------------- part 2: the store stage

def store_quality(items: list[tuple[str, str, str]], truth: dict[str, str], docs: dict[str, Document]) -> None:
    rng = random.Random(5)
    order = list(items)
    rng.shuffle(order)
    with tempfile.TemporaryDirectory() as tmp:
        with Store(Path(tmp) / "q.duckdb") as store:
            t0 = time.perf_counter()
            for i in range(0, len(order), 50):
                add_documents(store, [docs[d] for d, _, _ in order[i:i + 50]])
            secs = time.perf_counter() - t0
            rows = store.query("SELECT doc_id, coalesce(duplicate_of, doc_id), published, loaded_at FROM documents")[1]
    pred = {r[0]: r[1] for r in rows}
    p, r, n_pred, n_true = pair_scores(pred, truth)
    # Earliest member of each family: published, then first loaded, then doc_id.
    earliest: dict[str, tuple] = {}
    for doc_id, _root, published, loaded_at in rows:
        key = (published or dt.date.max, loaded_at, doc_id)
        fam = truth[doc_id]
        earliest[fam] = min(earliest.get(fam, key), key)
    right = sum(1 for doc_id, root, *_ in rows if root == earliest[truth[doc_id]][2])
    print(f"\n## Part 2: add_documents on the same {len(rows)} documents, shuffled, batches of 50")
    print(f"pairwise precision {p:.3f}, recall {r:.3f} ({n_pred} predicted pairs, {n_true} true pairs)")
    print(f"documents whose cluster head is their family's earliest member: {right}/{len(rows)}")
    print(f"store stage: {secs:.1f} s ({secs * 1000 / len(rows):.1f} ms/doc incl. BM25 index and relevance)")


# --------------------------------------------------------------------------- part 3: add one at scale

def bulk_doc(rng: random.Random, pool: list[str], i: int) -> Document:
    # Built directly (not through the cleaner) so that 100,000 of them take minutes; the
    # store stage sees exactly what it sees from a crawl: text, tokens, metadata.
    norm = get_normalizer()
    text = "\n".join(make_report(rng, pool, rng.randint(4, 8)))
    return Document(doc_id=f"b{i:06d}", origin="crawl", text=text, text_original=text, script="hans",
                    title=text[:20], published=dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(3000)),
                    site=rng.choice(["a", "b", "c", "d"]), tokens=norm.tokens(text))


def add_one_timing(corpus: int, items: list[tuple[str, str, str]], docs: dict[str, Document],
                   keep: Path | None = None) -> None:
    rng = random.Random(3)
    pool = sentence_pool()
    with tempfile.TemporaryDirectory() as tmp:
        path = keep or Path(tmp) / "big.duckdb"
        with Store(path) as store:
            t0 = time.perf_counter()
            batch = 1000
            have = store.query("SELECT count(*) FROM documents WHERE doc_id LIKE 'b%'")[1][0][0]
            if have:  # --db of an earlier run: reuse its corpus, add new single documents
                print(f"  reusing {have:,} corpus documents in {path}")
                corpus = have
                run = f"_{int(time.time())}"
                for d in docs.values():
                    d.doc_id += run
            for start in range(have, corpus, batch):
                add_documents(store, [bulk_doc(rng, pool, i) for i in range(start, min(corpus, start + batch))])
                if (start // batch) % 10 == 9:
                    print(f"  built {start + batch} docs in {time.perf_counter() - t0:.0f} s", flush=True)
            build = time.perf_counter() - t0
            store.con.execute("CHECKPOINT")
            size = path.stat().st_size / 1e6
            # Add one document at a time: originals and reprints of stored ones.
            singles = [docs[d] for d, _, _ in items[:40]]
            times = []
            for d in singles:
                t = time.perf_counter()
                add_documents(store, [d])
                times.append((time.perf_counter() - t) * 1000)
            linked = store.query(
                "SELECT count(*) FROM documents WHERE duplicate_of IS NOT NULL AND doc_id IN (SELECT unnest(?))",
                [[d.doc_id for d in singles]])[1][0][0]
            search_ms, similar_ms = [], []
            for q in [["检察院", "党建"], ["公益诉讼"], ["政治", "建设"], ["理论", "学习", "教育"]]:
                t = time.perf_counter()
                store.bm25_search(q, limit=10)
                search_ms.append((time.perf_counter() - t) * 1000)
            for d in singles[:5]:
                t = time.perf_counter()
                store.similar_documents(d.doc_id, limit=10)
                similar_ms.append((time.perf_counter() - t) * 1000)
    print(f"\n## Part 3: adding one document to a corpus of {corpus:,}")
    print(f"corpus built through add_documents in batches of {batch}: {build:.0f} s "
          f"({build * 1000 / corpus:.1f} ms/doc); file {size:.0f} MB after CHECKPOINT")
    times.sort()
    print(f"add_documents([one doc]): median {statistics.median(times):.1f} ms, "
          f"p90 {times[int(0.9 * len(times)) - 1]:.1f} ms, max {times[-1]:.1f} ms over {len(times)} docs "
          f"({linked} of them linked as reprints)")
    print(f"search (BM25 SQL): median {statistics.median(search_ms):.0f} ms; "
          f"similar: median {statistics.median(similar_ms):.0f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--originals", type=int, default=480, help="distinct reports in the generated set")
    parser.add_argument("--corpus", type=int, default=100_000, help="corpus size for the add-one timing")
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--timing-only", action="store_true")
    parser.add_argument("--db", type=Path, help="keep (or reuse) the timing corpus in this DuckDB file")
    args = parser.parse_args(argv)

    items, truth = generated_set(args.originals)
    n_orig = sum(1 for d in truth if d.startswith("o"))
    print(f"generated set: {len(items)} documents, {n_orig} distinct reports, {len(items) - n_orig} reprints; "
          f"LSH {BANDS} bands; link threshold J >= {DUPLICATE_THRESHOLD}")
    t0 = time.perf_counter()
    docs = {doc_id: document_from_text(text, doc_id=doc_id, origin="crawl") for doc_id, _, text in items}
    print(f"cleaned and normalized in {time.perf_counter() - t0:.1f} s")
    if not args.timing_only:
        compare_methods(docs, truth)
        store_quality(items, truth, docs)
    if not args.skip_timing:
        add_one_timing(args.corpus, items, docs, args.db)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
