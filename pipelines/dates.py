"""The one date parser: publish dates in bylines, head metadata and URLs.

A date counts only between :data:`MIN_DATE` and today: copyright years, scheduling
widgets and typos produce dates on both sides, wherever they are found.

Before the redesign the HTML metadata and the cleaner each had a ``parse_date``. They
differed twice, and the difference that matters is kept as a parameter:

- a day followed by more digits (``2016/05/116444`` in an asset path,
  ``1238_2007.08.2020059`` in an id) was no date for the HTML metadata, but the cleaner
  read its first digits (2016-05-11). Here it is no date, except when the digits are a
  time glued to it (``2024-05-1012:00``), which the HTML metadata missed. No document of
  the fixture pages, seeds or mirror changes: the cleaner only reads byline values, and
  none of theirs carries such digits.
- the cleaner accepted a date one day ahead of today, the HTML metadata none. The
  slack was real on a machine that keeps UTC: the sites date their pages by China's
  clock (UTC+8), which for eight hours a day is already tomorrow's date. Both now
  judge "the future" by China's today (:func:`china_today`), with no slack.

Relative dates (``3小时前``, ``昨天``, ``前天 08:30``) are read against the time the page
was fetched (:func:`relative_date`), in China's clock; without a fetch time they are no date.
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["MIN_DATE", "CHINA", "china_today", "china_time", "parse_date", "relative_date", "url_date",
           "valid_date"]

#: No report of the sites is older; earlier years on a page are copyright lines and typos.
MIN_DATE = dt.date(1990, 1, 1)

#: The sites' clock.
CHINA = dt.timezone(dt.timedelta(hours=8), "UTC+8")


def china_today() -> dt.date:
    """Today in China: what the sites date today's pages with, whatever the machine's zone."""
    return dt.datetime.now(CHINA).date()


def china_time(moment: dt.datetime) -> dt.datetime:
    """``moment`` on China's clock; a naive datetime is the machine's local time (as
    ``Page.fetched_at`` is recorded)."""
    return moment.astimezone(CHINA)


#: ``3小时前``, ``25分钟前``, ``2天前``, ``刚刚``, ``今天 08:30``, ``昨天``, ``前天 16:05``
_RELATIVE_RE = re.compile(r"(?:(?P<n>\d{1,3})\s*(?P<unit>分钟|小时|天)前|(?P<word>刚刚|今天|昨天|前天))")
_UNITS = {"分钟": dt.timedelta(minutes=1), "小时": dt.timedelta(hours=1), "天": dt.timedelta(days=1)}
_DAYS_BACK = {"刚刚": 0, "今天": 0, "昨天": 1, "前天": 2}


def relative_date(text: str | None, fetched: dt.datetime | None) -> tuple[dt.date, str] | None:
    """(date, the words read) of the first relative date in ``text``, counted back from
    ``fetched`` on China's clock; None without a fetch time or a relative date."""
    if fetched is None:
        return None
    m = _RELATIVE_RE.search(text or "")
    if not m:
        return None
    at = china_time(fetched)
    if m.group("word"):
        date = at.date() - dt.timedelta(days=_DAYS_BACK[m.group("word")])
    else:
        date = (at - int(m.group("n")) * _UNITS[m.group("unit")]).date()
    date = valid_date(date.year, date.month, date.day, today=at.date())
    return (date, m.group(0)) if date else None


#: ``2024-05-10``, ``2024/5/10``, ``2022.01.20``, ``2024年05月10日06:58``: year, month, day; the
#: day is not followed by a digit unless that digit starts a time (``…1012:00``).
_DATE_RE = re.compile(
    r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?:(?=\d{1,2}[:时]\d{2})|(?!\d))")

_URL_DATES = (
    ("url:t{}", re.compile(r"[/_]t((?:19|20)\d{2})(\d{2})(\d{2})_")),
    ("url:{}", re.compile(r"/((?:19|20)\d{2})-(\d{2})/(\d{2})/")),
    ("url:{}", re.compile(r"/((?:19|20)\d{2})/(\d{2})(\d{2})/")),
    ("url:{}", re.compile(r"/((?:19|20)\d{2})(\d{2})(\d{2})/")),
    ("url:{}", re.compile(r"/((?:19|20)\d{2})-(\d{2})-(\d{2})/")),
)


def valid_date(year, month, day, today: dt.date | None = None, days_ahead: int = 0) -> dt.date | None:
    """The date, if it exists and lies between :data:`MIN_DATE` and ``today`` (+ ``days_ahead``)."""
    try:
        date = dt.date(int(year), int(month), int(day))
    except ValueError:
        return None
    latest = (today or china_today()) + dt.timedelta(days=days_ahead)
    return date if MIN_DATE <= date <= latest else None


def parse_date(text: str | None, today: dt.date | None = None, *, days_ahead: int = 0) -> dt.date | None:
    """The first full date in ``text`` (``2024-05-10``, ``2024年05月10日06:58``, ``2022.01.20``),
    if it is a real day between 1990-01-01 and ``today`` (default: China's today)."""
    m = _DATE_RE.search(text or "")
    return valid_date(*m.groups(), today=today, days_ahead=days_ahead) if m else None


def url_date(url: str | None, today: dt.date | None = None) -> tuple[dt.date, str] | None:
    """(date, provenance) from a URL path such as ``.../t20240513_15249693.htm``."""
    for label, rx in _URL_DATES:
        m = rx.search(url or "")
        if m:
            date = valid_date(*m.groups(), today=today)
            if date:
                return date, label.format("".join(m.groups()))
    return None
