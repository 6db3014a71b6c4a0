"""The clean text in the page's own characters.

The cleaner works on NFKC text (its rules match one form of every character: ``:``
for ``：``, ``1`` for ``１``), so its output is NFKC. ``text_original`` is to keep the
characters the page printed (full-width ``，：；``, ``…``, ideographic spaces inside a
line): :func:`original_characters` aligns the clean text with the source it was made
from and gives each character back as the source wrote it.

The clean text is the source with lines dropped, edges stripped and lines joined, so its
paragraphs are runs of the NFKC source in order. Each paragraph is matched in chunks
(the longest run found at or after the previous match); a character found nowhere is
kept as it is. So ``NFKC(result) == clean`` always holds: a misplaced match can only pick
another source form of the same character.
"""

from __future__ import annotations

import unicodedata

__all__ = ["original_characters"]


def _normalized_map(source: str) -> tuple[str, list[int], list[int]]:
    """(NFKC of ``source`` character by character, source index of each normalized
    character, length of the normalized group it belongs to or 0 for a non-first member)."""
    chars: list[str] = []
    origin: list[int] = []
    group: list[int] = []
    forms: dict[str, str] = {}  # a page repeats its characters: each is normalized once
    for i, ch in enumerate(source):
        n = forms.get(ch)
        if n is None:
            n = forms[ch] = unicodedata.normalize("NFKC", ch)
        if len(n) == 1:
            chars.append(n)
            origin.append(i)
            group.append(1)
            continue
        for j, c in enumerate(n):
            chars.append(c)
            origin.append(i)
            group.append(len(n) if j == 0 else 0)
    return "".join(chars), origin, group


#: How far past the last match a run is looked for first: what the cleaner drops between two
#: runs (a byline, a related-links block) is short; the rest of the source is searched only
#: when the run is not there (each search is a scan, and a page can have thousands of runs).
WINDOW = 4000


def _longest_run(norm: str, text: str, pos: int) -> tuple[int, int]:
    """(where, length) of the longest prefix of ``text`` found in ``norm`` at or after ``pos``."""
    for end in (min(len(norm), pos + len(text) + WINDOW), len(norm)):
        at = norm.find(text, pos, end)
        if at >= 0:  # the usual case: the whole rest is one run
            return at, len(text)
        lo, hi, best = 0, len(text), (-1, 0)
        while lo < hi:  # the longest found prefix, by halving (a found prefix's prefixes are found)
            mid = (lo + hi + 1) // 2
            at = norm.find(text[:mid], pos, end)
            if at >= 0:
                lo, best = mid, (at, mid)
            else:
                hi = mid - 1
        if best[1]:
            return best
    return best


def original_characters(clean: str, source: str) -> str:
    """``clean`` (the cleaner's NFKC output of ``source``) in ``source``'s own characters."""
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    if unicodedata.is_normalized("NFKC", source):
        return clean
    norm, origin, group = _normalized_map(source)
    out: list[str] = []
    pos = 0
    for n_par, paragraph in enumerate(clean.split("\n")):
        if n_par:
            out.append("\n")
        rest = paragraph
        while rest:
            at, length = _longest_run(norm, rest, pos)
            if length == 0:
                out.append(rest[0])
                rest = rest[1:]
                continue
            end = at + length
            k = at
            while k < end:
                size = group[k]
                if size and k + size <= end:  # a whole normalized group: its source character
                    out.append(source[origin[k]])
                    k += size
                else:  # part of a group (NFKC "…" is "...", the run ends inside it)
                    out.append(norm[k])
                    k += 1
            rest, pos = rest[length:], end
    return "".join(out)
