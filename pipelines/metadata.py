"""The metadata of one report: typed values, and where each one was found.

One record for every stage: the HTML metadata (:mod:`pipelines.extract.meta`) fills
one, the cleaner (:mod:`pipelines.clean`) fills another from the text and lets the
HTML's values win, and the composer copies the result into the Document.

Values are offered most-trusted source first, so the first value offered for a field is
kept (a header precedes a footer, a head ``<meta>`` the byline's guess). Authors are the
exception: every name found is added, in order; the provenance names the first source.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .datafiles import data_lines

__all__ = ["Metadata", "FIELDS", "role_words", "is_role_word", "credit_names"]



@functools.lru_cache(maxsize=1)
def role_words() -> frozenset[str]:
    """The byline labels of ``pipelines/data/byline_roles.txt`` (记者, 通讯员, 责任编辑, ...)."""
    return frozenset(w for w in data_lines("byline_roles.txt") if not w.startswith("#"))


def is_role_word(value: str | None) -> bool:
    """A label of a byline (``通讯员``, ``本报记者``, ``摄``), not a person."""
    value = (value or "").strip()
    return value in role_words() or value in ("文", "图", "圖", "摄", "攝", "文/图", "文/圖", "图/文", "圖/文")


@functools.lru_cache(maxsize=1)
def _role_split() -> re.Pattern:
    # multi-character labels anywhere (no name holds 通讯员 or 记者); the one-character ones
    # (文, 图, 摄) only before a separator, since names hold them too (李文军)
    words = "|".join(re.escape(w) for w in sorted(role_words(), key=len, reverse=True))
    return re.compile(r"(?:" + words + r")\s*[:：/|]?|(?<![\u4e00-\u9fff])(?:文/图|图/文|文|图|圖)\s*[:：/|]")


_SEPARATORS = re.compile(r"[\s\u3000、，,;；/|:：()（）\[\]【】]+")


def credit_names(value: str | None) -> list[str]:
    """The parts of a credit that may be names, labels taken out and several names after one
    label split: ``本报记者 卢拥军 通讯员 邱军伟`` -> ``['卢拥军', '邱军伟']``. Callers still
    judge each part (a person's name, not a phrase)."""
    value = _role_split().sub(" ", value or "")
    return [part for part in _SEPARATORS.split(value) if part and not is_role_word(part)]

#: The fields, as named in ``documents`` and in provenance.
FIELDS = ("title", "subtitle", "original_title", "published", "source_name", "authors", "editor", "summary")


@dataclass
class Metadata:
    title: str | None = None
    #: 引题 and 副题 printed with the headline (``——热烈祝贺…``), without their dashes
    subtitle: str | None = None
    #: 原标题 of a reprint
    original_title: str | None = None
    published: dt.date | None = None
    #: 来源: the publishing outlet
    source_name: str | None = None
    #: 记者, 通讯员, 作者, in order of appearance
    authors: list[str] = field(default_factory=list)
    #: 责任编辑
    editor: str | None = None
    #: 摘要
    summary: str | None = None
    #: field -> where its value was found (``meta[name=PubDate]``, ``body:byline:来源``, ...),
    #: in the order the fields were found; a field has a value exactly when it is here
    provenance: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # a value given to the constructor without its source still counts as found
        for key in FIELDS:
            if getattr(self, key) and key not in self.provenance:
                self.provenance[key] = "given"

    def has(self, key: str) -> bool:
        return key in self.provenance

    def offer(self, key: str, value, how: str) -> bool:
        """Set ``key`` to ``value`` (found by ``how``) unless it has a value already; True if taken.
        An empty value is never taken."""
        if key not in FIELDS:
            raise KeyError(key)
        if key == "authors" and value:
            value = [name for name in value if not is_role_word(name)]  # a label is never a name
        elif key == "editor" and is_role_word(value):
            return False
        if not value or key in self.provenance:
            return False
        setattr(self, key, list(value) if key == "authors" else value)
        self.provenance[key] = how
        return True

    def add_authors(self, names: Iterable[str], how: str) -> None:
        """Append the names not listed yet; the first source to add any keeps the provenance."""
        names = [n for n in names if n and not is_role_word(n)]
        if not names:
            return
        for name in names:
            if name not in self.authors:
                self.authors.append(name)
        self.provenance.setdefault("authors", how)

    def update(self, other: Metadata) -> None:
        """Every field ``other`` has replaces ours, with its provenance (a field we had keeps
        its place in the provenance order)."""
        for key, how in other.provenance.items():
            value = getattr(other, key)
            setattr(self, key, list(value) if key == "authors" else value)
            self.provenance[key] = how

    def as_dict(self) -> dict:
        """``{field: value}`` of the fields that have a value, in provenance order."""
        return {key: getattr(self, key) for key in self.provenance}

    def map(self, convert: Callable[[str], str]) -> Metadata:
        """A copy with ``convert`` applied to every text value (each name of ``authors``);
        ``published`` and the provenance stay as they are."""
        def text(value):
            return convert(value) if isinstance(value, str) else value

        return Metadata(
            title=text(self.title), subtitle=text(self.subtitle), original_title=text(self.original_title), published=self.published,
            source_name=text(self.source_name), authors=[convert(a) for a in self.authors],
            editor=text(self.editor), summary=text(self.summary), provenance=dict(self.provenance),
        )
