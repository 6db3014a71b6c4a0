"""Relevance: how close a document is to party-building reports of procuratorates (0..1).

The reference set is the seed documents (``origin = 'seed'``). A document scores by

- its TF-IDF cosine to the nearest seed and to the seeds' centroid (jieba's IDF table,
  sublinear tf, words of two or more characters that are not stopwords), and
- the share of a topic lexicon (``pipelines/data/topic_lexicon.txt``) it uses,

each mapped to 0..1 and weighted (``WEIGHTS``). A seed is scored against the OTHER seeds
(leave-one-out), so its score says how typical it is instead of a trivial 1.0.

Cosines of two different reports on the same topic sit around 0.2-0.4 and of unrelated
news below 0.05, hence the saturation points: a cosine of ``SIM_FULL`` already counts as
fully similar. The numbers were set on the seeds against the news pages in
``/work/shared/fixtures`` and a sports report (tests/test_dedup.py).

The crawl keeps an article as a document only when its score reaches ``DJ_MIN_RELEVANCE``
(default 0: keep everything; :func:`pipelines.ingest.is_relevant`).
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path

from ..datafiles import DATA_DIR
from ..normalize import get_normalizer

__all__ = [
    "LEXICON_PATH", "RelevanceModel", "term_vector", "cosine", "load_lexicon",
]

LEXICON_PATH = DATA_DIR / "topic_lexicon.txt"

#: Cosine (to the nearest seed, to the seed centroid) that counts as fully similar.
SIM_FULL = 0.35
CENTROID_FULL = 0.45
#: Distinct lexicon words that count as fully on topic.
LEXICON_FULL = 12
#: Weights of nearest-seed similarity, centroid similarity and lexicon coverage.
WEIGHTS = (0.4, 0.3, 0.3)


def _read_words(path: Path | Traversable) -> tuple[str, ...]:
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.append(line)
    return tuple(dict.fromkeys(words))


@functools.lru_cache(maxsize=4)
def load_lexicon(path: Path | Traversable = LEXICON_PATH) -> tuple[str, ...]:
    return _read_words(path)


@functools.lru_cache(maxsize=1)
def _idf():
    # jieba's IDF table (the one the normalizer's keywords use): fixed, so a score does not
    # drift as the corpus grows and stored relevance values stay comparable. The normalizer's
    # table (memory-mapped arrays, pipelines.normalize.IdfTable) is shared.
    return get_normalizer().idf_table


@functools.lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    path = DATA_DIR / "stopwords.txt"
    return frozenset(_read_words(path)) if path.is_file() else frozenset()


def term_vector(tokens: Iterable[str], counts: Mapping[str, int] | None = None) -> dict[str, float]:
    """Unit-length TF-IDF vector (sublinear tf) of a document's content words.

    ``counts`` are the document's lower-cased token counts when the caller has them
    already (the store's index entry counts the same tokens): filtering ~1,300 distinct
    words costs less than counting ~3,000 tokens again.
    """
    stop = _stopwords()
    if counts is None:
        counts = Counter(t.lower() for t in tokens if len(t) > 1 and t not in stop and not t.isdigit())
    else:
        counts = {t: n for t, n in counts.items() if len(t) > 1 and t not in stop and not t.isdigit()}
    if not counts:
        return {}
    idf, _default = _idf()  # words not in the table get the default: lookup() gives it
    vec = {t: (1.0 + math.log(n)) * v for (t, n), v in zip(counts.items(), idf.lookup(counts))}
    norm = math.sqrt(sum(w * w for w in vec.values()))
    return {t: w / norm for t, w in vec.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())


def _centroid(vectors: Sequence[dict[str, float]]) -> dict[str, float]:
    acc: dict[str, float] = {}
    for v in vectors:
        for t, w in v.items():
            acc[t] = acc.get(t, 0.0) + w
    norm = math.sqrt(sum(w * w for w in acc.values()))
    return {t: w / norm for t, w in acc.items()} if norm else {}


@dataclass
class RelevanceModel:
    """Seed vectors and the lexicon; ``score`` is pure and cheap (one pass over a document)."""

    seeds: dict[str, dict[str, float]] = field(default_factory=dict)
    lexicon: tuple[str, ...] = field(default_factory=load_lexicon)

    def __post_init__(self) -> None:
        self._centroids: dict[str | None, dict[str, float]] = {}

    @classmethod
    def from_seeds(cls, seeds: Iterable[tuple[str, Sequence[str]]], lexicon: tuple[str, ...] | None = None):
        """From ``(doc_id, tokens)`` of the seed documents."""
        return cls(seeds={doc_id: term_vector(tokens) for doc_id, tokens in seeds},
                   lexicon=lexicon if lexicon is not None else load_lexicon())

    @property
    def signature(self) -> tuple[str, ...]:
        return tuple(sorted(self.seeds))

    def _centroid_without(self, exclude: str | None) -> dict[str, float]:
        # Keyed by the seed left out, never by the document scored: a cache per document
        # kept a copy of the centroid for every page a worker ever saw.
        if exclude not in self.seeds:
            exclude = None
        if exclude not in self._centroids:
            self._centroids[exclude] = _centroid([v for k, v in self.seeds.items() if k != exclude])
        return self._centroids[exclude]

    def lexicon_score(self, text: str) -> float:
        if not self.lexicon:
            return 0.0
        hits = sum(1 for word in self.lexicon if word in text)
        return min(1.0, hits / min(LEXICON_FULL, len(self.lexicon)))

    def parts(self, tokens: Sequence[str], text: str, doc_id: str | None = None,
              counts: Mapping[str, int] | None = None) -> tuple[float, float, float]:
        """``(nearest-seed cosine, centroid cosine, lexicon share)`` before saturation and weights."""
        vec = term_vector(tokens, counts)
        others = [v for k, v in self.seeds.items() if k != doc_id]
        nearest = max((cosine(vec, v) for v in others), default=0.0)
        centroid = cosine(vec, self._centroid_without(doc_id)) if others else 0.0
        return nearest, centroid, self.lexicon_score(text)

    def score(self, tokens: Sequence[str], text: str, doc_id: str | None = None,
              counts: Mapping[str, int] | None = None) -> float:
        """Relevance in 0..1; ``doc_id`` of a seed leaves that seed out of the reference set;
        ``counts``: the lower-cased token counts, if already made (see :func:`term_vector`)."""
        nearest, centroid, lexicon = self.parts(tokens, text, doc_id, counts)
        w_near, w_cent, w_lex = WEIGHTS
        if not any(k != doc_id for k in self.seeds):
            # No seeds loaded yet: the lexicon alone decides.
            return round(lexicon, 4)
        value = (w_near * min(1.0, nearest / SIM_FULL) + w_cent * min(1.0, centroid / CENTROID_FULL)
                 + w_lex * lexicon)
        return round(min(1.0, value), 4)
