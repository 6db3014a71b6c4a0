"""Script detection, Traditional -> Simplified, NFKC, tokens and keywords.

The libraries were chosen by measurement (README, "Libraries"):

- conversion: ``opencc-pyo3`` (t2s), about 77x faster than the reference
  ``opencc-python-reimplemented`` on our texts. It differs from the reference only
  where the reference keeps 著 for the particle 着 (看著 -> 看着; 著名 stays);
  ``tests/test_normalize.py`` holds it to that.
- segmentation: ``rjieba`` with HMM off, about 22x faster than ``jieba`` and
  token-for-token identical to ``jieba.lcut(text, HMM=False)`` with the same
  user dictionary (tested).
- keywords: TF-IDF with jieba's own IDF table over our tokens, so the text is
  segmented once, not twice.

Everything heavy (dictionaries, IDF table) loads once per process in
:func:`get_normalizer`. The IDF table is parsed from jieba's text file once per machine
and kept as sorted arrays in a cache folder (:class:`IdfTable`): later processes map it
in ~10 ms instead of parsing ~270,000 lines (0.3-0.9 s) each.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import heapq
import importlib.util
import os
import re
import tempfile
import unicodedata
from collections import Counter
from importlib.resources.abc import Traversable
from pathlib import Path

from .datafiles import DATA_DIR

__all__ = ["Normalizer", "get_normalizer", "DATA_DIR", "load_user_words", "is_word_token", "IdfTable",
           "load_idf_table", "idf_source"]


#: A text is Traditional when at least this share of its Han characters change under t2s.
#: Simplified reports change at most a stray character (seed 003: 1 in 2,214).
HANT_SHARE = 0.02
KEYWORDS = 10


def load_user_words(path: Traversable = DATA_DIR / "userdict.txt") -> list[tuple[str, int]]:
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, freq = line.partition(" ")
        words.append((word, int(freq or 20000)))
    return words


def _load_words(path: Traversable) -> frozenset[str]:
    return frozenset(
        w.strip() for w in path.read_text(encoding="utf-8").splitlines() if w.strip() and not w.startswith("#")
    )


#: Han characters (CJK Unified Ideographs and Extension A), as script detection counts them.
_HAN = re.compile("[\u4e00-\u9fff\u3400-\u4dbf]+")
#: Characters that are certainly letters or digits (every code point of both Han blocks is
#: assigned, category Lo): a token holding one is a word without a per-character lookup.
_SURELY_WORD = re.compile("[\u4e00-\u9fff\u3400-\u4dbfA-Za-z0-9]")


def is_word_token(tok: str) -> bool:
    """A token that carries text: not whitespace, punctuation or symbols."""
    # The regex answers for nearly every token at C speed; the category walk decides the rest.
    return _SURELY_WORD.search(tok) is not None or any(unicodedata.category(ch)[0] in "LN" for ch in tok)


def idf_source() -> Path:
    """jieba's IDF table (``jieba/analyse/idf.txt``), found without importing jieba (its
    import loads the HMM tables; ``jieba.analyse`` builds its own copy of the table, about
    80 MB more per process). jieba is an installed dependency, a folder on disk: never
    inside our egg."""
    spec = importlib.util.find_spec("jieba")
    return Path(os.path.dirname(spec.origin)) / "analyse" / "idf.txt"


def parse_idf(path: Path) -> dict[str, float]:
    """The table as jieba's text file says it: ``word value`` a line, a later line winning."""
    idf: dict[str, float] = {}
    floats: dict[str, float] = {}  # many words share a value: one float object each
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            word, _, value = line.rstrip("\n").partition(" ")
            if value:
                number = floats.get(value)
                if number is None:
                    number = floats[value] = float(value)
                idf[word] = number
    return idf


class IdfTable:
    """jieba's IDF table as two sorted arrays (words as fixed-width UTF-8, values as
    float64), memory-mapped from a cache file: it opens in milliseconds where parsing the
    text file takes most of a second, and every process on the machine shares the same
    pages instead of holding a ~38 MB dict each. Lookups give exactly the values of
    :func:`parse_idf` (the same float64), or ``default`` for a word not in it."""

    #: Words already looked up, with their values: reports share most of their words, so
    #: after the first few hundred documents nearly every lookup is a dict hit.
    MEMO_LIMIT = 1_000_000

    def __init__(self, words, values, default: float) -> None:
        self._words, self._values, self.default = words, values, default
        self._width = words.dtype.itemsize
        self._memo: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._words)

    def lookup(self, words) -> list[float]:
        """The IDF of each of ``words`` (any iterable of str), in order."""
        memo = self._memo
        words = list(words)
        missing = [w for w in dict.fromkeys(words) if w not in memo]
        if missing:
            if len(memo) + len(missing) > self.MEMO_LIMIT:  # bounded: arbitrary input must not grow it forever
                memo.clear()
                missing = list(dict.fromkeys(words))
            memo.update(zip(missing, self._search(missing)))
        return [memo[w] for w in words]

    def _search(self, words: list[str]) -> list[float]:
        import numpy as np

        if not words:
            return []
        width, default = self._width, self.default
        keys = [w.encode("utf-8") for w in words]
        # A key longer than every word of the table, or holding NUL (fixed-width bytes drop
        # trailing NULs; no word of the table has one, see build), cannot be in it.
        absent = [len(k) > width or b"\0" in k for k in keys]
        query = np.array([b"" if a else k for k, a in zip(keys, absent)], dtype=self._words.dtype)
        at = np.searchsorted(self._words, query)
        at[at >= len(self._words)] = 0
        found = (self._words[at] == query).tolist()
        values = self._values[at].tolist()
        return [v if f and not a else default for v, f, a in zip(values, found, absent)]

    def get(self, word: str, default: float | None = None) -> float | None:
        return self.lookup([word])[0] if word in self else default

    def __contains__(self, word: str) -> bool:
        import numpy as np

        key = word.encode("utf-8")
        if len(key) > self._width or b"\0" in key:
            return False
        at = int(np.searchsorted(self._words, np.array(key, dtype=self._words.dtype)))
        return at < len(self._words) and bytes(self._words[at]) == key

    @classmethod
    def build(cls, table: dict[str, float]) -> "IdfTable":
        import numpy as np

        if not table or any("\0" in w for w in table):
            raise ValueError("an IDF table with no words, or a word holding NUL, cannot be stored as arrays")
        items = sorted((w.encode("utf-8"), v) for w, v in table.items())  # UTF-8 order = NumPy's byte order
        width = max(len(k) for k, _ in items) or 1
        words = np.array([k for k, _ in items], dtype=f"S{width}")
        values = np.array([v for _, v in items], dtype=np.float64)
        ordered = sorted(table.values())
        return cls(words, values, ordered[len(ordered) // 2])  # jieba's own default: the median IDF

    def save(self, path: Path) -> None:
        """Write the table as the folder ``path`` (``words.npy``, ``values.npy`` with the
        default last), atomically: processes starting together may build it at once."""
        import shutil

        import numpy as np

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=path.name + ".tmp"))
        try:
            np.save(tmp / "words.npy", self._words)
            np.save(tmp / "values.npy", np.append(np.asarray(self._values), self.default))
            os.rename(tmp, path)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not path.is_dir():  # not another process's table saved first
                raise

    @classmethod
    def open(cls, path: Path) -> "IdfTable":
        """The table saved at ``path``, its arrays memory-mapped (read only)."""
        import numpy as np

        words = np.load(path / "words.npy", mmap_mode="r", allow_pickle=False)
        values = np.load(path / "values.npy", mmap_mode="r", allow_pickle=False)
        if words.ndim != 1 or words.dtype.kind != "S" or values.shape != (len(words) + 1,):
            raise ValueError(f"{path}: not an IDF table")
        return cls(words, values[:-1], float(values[-1]))


def idf_cache_dir() -> Path:
    """Where built tables are kept: ``$XDG_CACHE_HOME/djcrawl`` (``~/.cache/djcrawl``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "djcrawl"


def load_idf_table(source: Path | None = None, cache: Path | None = None) -> IdfTable:
    """jieba's IDF table, from the cache file built from it (named by the SHA-1 of the text
    file, so an upgraded jieba gets a table of its own); built and saved the first time.
    A broken cache file is replaced; where the cache cannot be written, the table is built
    in memory for this process."""
    source = source or idf_source()
    data = source.read_bytes()
    path = (cache or idf_cache_dir()) / f"idf-{hashlib.sha1(data).hexdigest()}"
    try:
        return IdfTable.open(path)
    except (OSError, ValueError, EOFError):
        if path.exists():  # a broken table (a full disk once, a file deleted): built again
            import shutil

            shutil.rmtree(path, ignore_errors=True)
    table = IdfTable.build(parse_idf(source))
    with contextlib.suppress(OSError):
        table.save(path)
    return table


class Normalizer:
    """One per process: holds the converter, the segmenter with the domain words, and IDF."""

    def __init__(self) -> None:
        from opencc_pyo3 import OpenCC
        import rjieba

        self._t2s = OpenCC("t2s").convert
        self._jieba = rjieba
        for word, freq in load_user_words():
            rjieba.add_word(word, freq, None)
        self._stop = _load_words(DATA_DIR / "stopwords.txt")
        self._word_memo: dict[str, bool] = {}
        self._idf = load_idf_table()
        self._idf_default = self._idf.default

    # -- text forms

    @staticmethod
    def nfkc(text: str) -> str:
        return unicodedata.normalize("NFKC", text)

    def detect_script(self, text: str) -> str:
        sample = "".join(_HAN.findall(text))
        if not sample:
            return "hans"
        converted = self._t2s(sample)
        # Position by position (as zip would); a Simplified text converts to itself, which
        # one string comparison settles without walking it.
        changed = 0 if converted == sample else sum(map(str.__ne__, sample, converted))
        return "hant" if changed >= max(3, HANT_SHARE * len(sample)) else "hans"

    def simplify_text(self, text: str) -> tuple[str, str]:
        """``(Simplified NFKC text, script of the input)``."""
        text = self.nfkc(text)
        script = self.detect_script(text)
        return (self._t2s(text) if script == "hant" else text), script

    def simplify_meta(self, value):
        """Metadata values (str, list of str, dates) in Simplified NFKC form."""
        if isinstance(value, str):
            return self._t2s(self.nfkc(value))
        if isinstance(value, list):
            return [self._t2s(self.nfkc(v)) for v in value]
        return value

    @property
    def idf_table(self) -> tuple["IdfTable", float]:
        """jieba's IDF table and its default (the median): share it rather than load another copy."""
        return self._idf, self._idf_default

    # -- tokens and keywords

    def tokens(self, text: str) -> list[str]:
        word = self._word_memo
        if len(word) > 500_000:  # bounded: arbitrary input must not grow it forever
            word.clear()
        out = []
        for t in self._jieba.cut(text, False):
            # A report repeats its words: each distinct token is classified once.
            keep = word.get(t)
            if keep is None:
                keep = word[t] = is_word_token(t)
            if keep:
                out.append(t)
        return out

    def keywords(self, tokens: list[str], k: int = KEYWORDS) -> list[str]:
        # Count every token at C speed, then filter the distinct ones (same counts, same
        # first-seen order as filtering token by token).
        stop = self._stop
        counts = {t: n for t, n in Counter(tokens).items()
                  if len(t) > 1 and t not in stop and not t.isdigit()}
        if not counts:
            return []
        total = sum(counts.values())
        scored = ((n / total * idf, w) for (w, n), idf in zip(counts.items(), self._idf.lookup(counts)))
        return [w for _, w in heapq.nlargest(k, scored)]


@functools.lru_cache(maxsize=1)
def get_normalizer() -> Normalizer:
    """The process-wide normalizer (built on first use: about a second of dictionary loading)."""
    return Normalizer()
