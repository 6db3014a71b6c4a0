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

import bisect
import unicodedata

__all__ = ["original_characters"]


def _normalized_map(source: str) -> tuple[str, list[tuple[int, int, str]]]:
    """(NFKC of ``source`` character by character, the characters NFKC changes: for each, in
    order, where its normalized form starts in the result, that form's length and the source
    character). Every other character of the result is its source character, at an offset
    the changed ones before it determine."""
    forms = {}
    for ch in set(source):  # a page repeats its characters: each is normalized once
        n = unicodedata.normalize("NFKC", ch)
        if n != ch:
            forms[ch] = n
    if not forms:
        return source, []
    norm = source.translate(str.maketrans(forms))
    hits = []  # (source index, character): each changed character found by str.find, in C
    for ch in forms:
        i = source.find(ch)
        while i >= 0:
            hits.append((i, ch))
            i = source.find(ch, i + 1)
    hits.sort()
    changed: list[tuple[int, int, str]] = []
    shift = 0
    for i, ch in hits:
        size = len(forms[ch])
        if size:
            changed.append((i + shift, size, ch))
        shift += size - 1
    return norm, changed


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
    norm, changed = _normalized_map(source)
    starts = [at for at, _size, _ch in changed]
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
            k = at  # norm[k:end] still to give back; between changed characters it is the source's
            for j in range(bisect.bisect_left(starts, at), len(changed)):
                start, size, ch = changed[j]
                if start >= end:
                    break
                out.append(norm[k:start])
                if start + size <= end:  # a whole normalized group: its source character
                    out.append(ch)
                    k = start + size
                else:  # part of a group (NFKC "…" is "...", the run ends inside it)
                    k = start
                    break
            out.append(norm[k:end])
            rest, pos = rest[length:], end
    return "".join(out)
