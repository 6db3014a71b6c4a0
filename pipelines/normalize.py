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
:func:`get_normalizer`.
"""

from __future__ import annotations

import functools
import heapq
import importlib.util
import os
import re
import unicodedata
from collections import Counter
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

__all__ = ["Normalizer", "get_normalizer", "DATA_DIR", "load_user_words", "is_word_token"]

#: The word lists (package data of ``pipelines``), read with :mod:`importlib.resources`: by
#: a path they could not be read from the zipped egg scrapyd runs.
DATA_DIR = resources.files("pipelines") / "data"

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
        self._idf, self._idf_default = self._load_idf()

    @staticmethod
    def _load_idf() -> tuple[dict[str, float], float]:
        # The file is found without importing jieba (its import loads the HMM tables) or
        # jieba.analyse (which builds jieba's own copy of the table, about 80 MB more per
        # process). jieba is an installed dependency, a folder on disk: never inside our egg.
        spec = importlib.util.find_spec("jieba")
        path = Path(os.path.dirname(spec.origin)) / "analyse" / "idf.txt"
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
        values = sorted(idf.values())
        return idf, values[len(values) // 2]  # jieba's own default: the median IDF

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
    def idf_table(self) -> tuple[dict[str, float], float]:
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
        scored = ((n / total * self._idf.get(w, self._idf_default), w) for w, n in counts.items())
        return [w for _, w in heapq.nlargest(k, scored)]


@functools.lru_cache(maxsize=1)
def get_normalizer() -> Normalizer:
    """The process-wide normalizer (built on first use: about a second of dictionary loading)."""
    return Normalizer()
