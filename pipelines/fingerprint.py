"""Near-duplicate fingerprints: MinHash signatures, LSH bands and reprint clusters.

A reprint of a report on another site keeps most of its sentences but gets another
header and footer, loses a paragraph or has a few words changed. Character
5-gram shingles of the normalized Simplified text survive such edits (a changed
word only spoils the five shingles around it), and the Jaccard similarity of two
shingle sets is what a MinHash signature estimates.

The signature is a one-permutation MinHash (Li, Owen & Zhang 2012) with optimal
densification (Shrivastava 2017): each shingle is hashed ONCE, its top bits choose
one of ``NUM_HASHES`` bins and the bin keeps the smallest remaining value. That is
~30x cheaper in pure Python than ``NUM_HASHES`` independent hash functions and
estimates Jaccard just as well once a text has more shingles than bins.
``benchmarks/dedup.py`` measures it against SimHash (also here) on generated
reprints; the numbers that chose it are in the README.

LSH: the signature is cut into ``BANDS`` bands of ``ROWS`` values; two documents
whose signatures agree on a whole band share that band's bucket and become
candidates. Only candidates are compared, so checking a new document costs
``BANDS`` indexed lookups in ``doc_bands``, not a scan of the corpus.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "NUM_HASHES", "BANDS", "ROWS", "SHINGLE_CHARS", "DUPLICATE_THRESHOLD",
    "shingle_text", "char_shingles", "token_shingles", "minhash", "lsh_buckets",
    "similarity", "simhash", "hamming", "simhash_buckets", "Clusterer",
]

NUM_HASHES = 128
#: 32 bands of 4 rows: a pair with Jaccard 0.5 becomes a candidate with p = 0.87,
#: one with Jaccard 0.7 with p = 0.9996; a pair with Jaccard 0.1 with p = 0.003.
BANDS = 32
ROWS = NUM_HASHES // BANDS
SHINGLE_CHARS = 5
#: Estimated Jaccard from which two documents are the same report. Generated reprints
#: (other header/footer, a paragraph dropped, words changed) sit at 0.6-0.95; distinct
#: reports on the same topic stay below 0.2 (benchmarks/dedup.py).
DUPLICATE_THRESHOLD = 0.5

_MASK32 = 0xFFFFFFFF
_BIN_SHIFT = 64 - 7  # top 7 bits of a 64-bit hash choose one of 128 bins
assert NUM_HASHES == 1 << (64 - _BIN_SHIFT)

# Punctuation, spaces and symbols carry no report identity and differ between sites.
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def _h64(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def shingle_text(text: str) -> str:
    """The text a fingerprint is taken over: letters, digits and CJK characters only."""
    return _NON_WORD.sub("", text).lower()


def char_shingles(text: str, k: int = SHINGLE_CHARS) -> set[str]:
    s = shingle_text(text)
    if len(s) <= k:
        return {s} if s else set()
    return {s[i:i + k] for i in range(len(s) - k + 1)}


def token_shingles(tokens: Sequence[str], k: int = 3) -> set[str]:
    toks = [t for t in tokens if t.strip()]
    if len(toks) <= k:
        return {"\x1f".join(toks)} if toks else set()
    return {"\x1f".join(toks[i:i + k]) for i in range(len(toks) - k + 1)}


def _probe_sequences() -> list[list[int]]:
    # For densification each bin has a fixed pseudo-random order of other bins to borrow
    # from; fixed so that every document borrows the same way and signatures stay comparable.
    seqs = []
    for b in range(NUM_HASHES):
        seq, attempt = [], 0
        while len(seq) < 4 * NUM_HASHES:
            seq.append(_h64(struct.pack("<II", b, attempt)) % NUM_HASHES)
            attempt += 1
        seqs.append(seq)
    return seqs


_PROBES = _probe_sequences()


def minhash(shingles: Iterable[str]) -> list[int] | None:
    """One-permutation MinHash signature (``NUM_HASHES`` unsigned 32-bit values), or None if empty."""
    mins = [None] * NUM_HASHES
    # _h64 inlined into one comprehension (the same hashes): a function call per shingle
    # was a third of the fingerprint's time.
    blake2b, from_bytes = hashlib.blake2b, int.from_bytes
    for h in [from_bytes(blake2b(sh.encode("utf-8"), digest_size=8).digest(), "little") for sh in shingles]:
        b = h >> _BIN_SHIFT
        v = h & _MASK32
        cur = mins[b]
        if cur is None or v < cur:
            mins[b] = v
    filled = [m for m in mins if m is not None]
    if not filled:
        return None
    if len(filled) < NUM_HASHES:
        sig = list(mins)
        for b in range(NUM_HASHES):
            if mins[b] is None:
                for other in _PROBES[b]:
                    if mins[other] is not None:
                        sig[b] = mins[other]
                        break
                else:  # pragma: no cover - 512 probes over >= 1 filled bin of 128
                    sig[b] = filled[0]
        return sig
    return mins


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of two MinHash signatures (share of equal slots)."""
    if not a or not b or len(a) != len(b):
        return 0.0
    return sum(1 for x, y in zip(a, b) if x == y) / len(a)


def lsh_buckets(signature: Sequence[int]) -> list[tuple[int, int]]:
    """``(band, bucket)`` pairs of a signature; the bucket hash includes the band number."""
    out = []
    for band in range(BANDS):
        chunk = signature[band * ROWS:(band + 1) * ROWS]
        out.append((band, _h64(struct.pack(f"<H{ROWS}I", band, *chunk))))
    return out


# --------------------------------------------------------------------------- SimHash
# Kept to be measured against MinHash in benchmarks/dedup.py (it lost: see README).

def simhash(features: Iterable[str], weights: dict[str, float] | None = None) -> int:
    """64-bit SimHash (Charikar) of features weighted by their count (or by ``weights``)."""
    counts: dict[str, float] = {}
    for f in features:
        counts[f] = counts.get(f, 0) + 1
    if weights is not None:
        counts = {f: weights.get(f, 0.0) for f in counts}
    acc = [0.0] * 64
    for f, w in counts.items():
        h = _h64(f.encode("utf-8"))
        for bit in range(64):
            acc[bit] += w if (h >> bit) & 1 else -w
    out = 0
    for bit in range(64):
        if acc[bit] > 0:
            out |= 1 << bit
    return out


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def simhash_buckets(value: int, blocks: int = 4) -> list[tuple[int, int]]:
    """Pigeonhole bands: two hashes within ``blocks - 1`` bits share at least one block."""
    width = 64 // blocks
    mask = (1 << width) - 1
    return [(i, _h64(struct.pack("<HQ", i, (value >> (i * width)) & mask))) for i in range(blocks)]


# --------------------------------------------------------------------------- clusters

class Clusterer:
    """Single-link clusters of near-duplicates, each named by its earliest member.

    Pure bookkeeping: the caller supplies edges (pairs found by LSH and verified by
    :func:`similarity`) and existing clusters; :meth:`assign` returns, for every member
    of every touched cluster, the doc_id of the earliest member (``None`` for that
    earliest one). ``order_key(doc_id)`` defines "earliest": published date (unknown
    dates last), then the time djcrawl first saw it, then doc_id - so the answer does
    not depend on the order documents arrive in, and an earlier-published reprint that
    arrives later takes over its cluster.
    """

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def add(self, doc_id: str) -> None:
        self._parent.setdefault(doc_id, doc_id)

    def _find(self, x: str) -> str:
        self.add(x)
        root = x
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[x] != root:  # path compression
            self._parent[x], x = root, self._parent[x]
        return root

    def members(self) -> list[str]:
        return list(self._parent)

    def union(self, a: str, b: str) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self._parent[ra] = rb

    def assign(self, order_key: Callable[[str], tuple]) -> dict[str, str | None]:
        groups: dict[str, list[str]] = {}
        for x in list(self._parent):
            groups.setdefault(self._find(x), []).append(x)
        out: dict[str, str | None] = {}
        for members in groups.values():
            earliest = min(members, key=order_key)
            for m in members:
                out[m] = None if m == earliest else earliest
        return out
