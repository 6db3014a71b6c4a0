"""Near-duplicate fingerprints: MinHash signatures, LSH bands and reprint clusters.

A reprint of a report on another site keeps most of its sentences but gets another
header and footer, loses a paragraph or has a few words changed. Character
5-gram shingles of the normalized Simplified text survive such edits (a changed
word only spoils the five shingles around it), and the Jaccard similarity of two
shingle sets is what a MinHash signature estimates.

The signature is a one-permutation MinHash (Li, Owen & Zhang 2012) with optimal
densification (Shrivastava 2017): each shingle is hashed ONCE, its top bits choose
one of ``NUM_HASHES`` bins and the bin keeps the smallest remaining value. That is
~30x cheaper than ``NUM_HASHES`` independent hash functions and estimates Jaccard
just as well once a text has more shingles than bins.

A shingle's hash is a polynomial over its code points (mod 2**64) passed through
splitmix64's finalizer (:func:`shingle_hash`). For a text, :func:`text_signature`
computes the same hashes for all its 5-character shingles at once with NumPy (a
rolling polynomial over the code point array): 0.3-1.5 ms a report instead of ~5-9 ms
for one blake2b call per shingle, the hash of schema versions before 5 (migration 5,
``pipelines.store.schema._refingerprint``, computed the stored signatures again).
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

import numpy as np

__all__ = [
    "NUM_HASHES", "BANDS", "ROWS", "SHINGLE_CHARS", "DUPLICATE_THRESHOLD",
    "shingle_text", "char_shingles", "token_shingles", "shingle_hash", "minhash", "text_signature", "lsh_buckets",
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


_M64 = (1 << 64) - 1
#: Multiplier of the shingle polynomial (odd, 64-bit: FNV-1's prime).
_POLY = 0x100000001B3
_MIX1, _MIX2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
#: The 32 bits a bin keeps: just below the 7 bin bits, so in a sorted array of hashes
#: the first hash of each bin holds that bin's minimum.
_VALUE_SHIFT = _BIN_SHIFT - 32


def shingle_hash(shingle: str) -> int:
    """64-bit hash of one shingle (the reference for :func:`text_signature`'s arrays)."""
    h = 0
    for ch in shingle:
        h = (h * _POLY + ord(ch)) & _M64
    h ^= h >> 30
    h = (h * _MIX1) & _M64
    h ^= h >> 27
    h = (h * _MIX2) & _M64
    return h ^ (h >> 31)


def _densified(mins: list[int | None]) -> list[int] | None:
    filled = [m for m in mins if m is not None]
    if not filled:
        return None
    if len(filled) == NUM_HASHES:
        return mins  # type: ignore[return-value]
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


def minhash(shingles: Iterable[str]) -> list[int] | None:
    """One-permutation MinHash signature (``NUM_HASHES`` unsigned 32-bit values), or None if empty.

    Any shingles (characters, word n-grams); for a text's character shingles
    :func:`text_signature` gives the same signature ~10x faster."""
    mins: list[int | None] = [None] * NUM_HASHES
    for h in {shingle_hash(sh) for sh in shingles}:
        b = h >> _BIN_SHIFT
        v = (h >> _VALUE_SHIFT) & _MASK32
        cur = mins[b]
        if cur is None or v < cur:
            mins[b] = v
    return _densified(mins)


def text_signature(text: str, k: int = SHINGLE_CHARS) -> list[int] | None:
    """``minhash(char_shingles(text, k))``, computed over arrays."""
    s = shingle_text(text)
    if len(s) <= k:
        return minhash([s]) if s else None
    with np.errstate(over="ignore"):
        cps = np.frombuffer(s.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        n = len(cps) - k + 1
        h = np.zeros(n, dtype=np.uint64)
        poly = np.uint64(_POLY)
        for j in range(k):  # h = ((c0 * P + c1) * P + c2) ... mod 2**64, for every start at once
            h = h * poly + cps[j:j + n]
        h ^= h >> np.uint64(30)
        h *= np.uint64(_MIX1)
        h ^= h >> np.uint64(27)
        h *= np.uint64(_MIX2)
        h ^= h >> np.uint64(31)
    h = np.unique(h)  # sorted: by bin (top bits), then by the value bits below them
    starts = np.searchsorted(h, np.arange(NUM_HASHES, dtype=np.uint64) << np.uint64(_BIN_SHIFT))
    present = np.append(starts[1:], len(h)) > starts
    values = (h[np.minimum(starts, len(h) - 1)] >> np.uint64(_VALUE_SHIFT)) & np.uint64(_MASK32)
    return _densified([int(v) if p else None for v, p in zip(values.tolist(), present.tolist())])


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
