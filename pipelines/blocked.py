"""Answers that are an anti-bot wall, not the page asked for: recognition only, rules as data.

A site behind a JavaScript challenge or a captcha answers with a page that holds no
content: HTTP 412 (瑞数-style) or 521 (加速乐-style) with a script, a 200 whose only
content is a script that sets a cookie and reloads, a slider or captcha page
(滑动验证, 请完成安全验证), a cookie wall. Such a page must neither be stored as an article
nor retried in a loop. :func:`blocked_rule` names the :data:`RULES` row an answer matches.

A rule matches on the status, on patterns in the raw HTML, and on how little visible text
the page has (an article that merely mentions 安全验证 has far more), so a real page is
never taken for a wall.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Rule", "RULES", "Blocked", "blocked_rule", "visible_text"]


@dataclass(frozen=True)
class Rule:
    name: str
    #: statuses the rule applies to (empty: any)
    statuses: frozenset[int]
    #: every pattern must be found in the HTML (scripts included), case-insensitive
    patterns: tuple[str, ...]
    #: the page's visible text (scripts and tags removed) is at most this long
    max_text: int
    #: lower-case strings one of which every match of the patterns holds: looked for first,
    #: with ``in`` on the lower-cased page, so that most real pages (50 KB and more) are passed
    #: without a case-insensitive regex scan (it took a tenth of the crawl process)
    hints: tuple[str, ...] = ()


RULES: tuple[Rule, ...] = (
    # 瑞数 / 加速乐 and the like: an error status whose body is a script that computes a cookie
    Rule("js-challenge", frozenset({412, 521}), (r"<script",), 400),
    # a 200 shell: a script sets a cookie and reloads (or goes to) the page
    Rule("cookie-reload", frozenset(), (r"document\.cookie\s*=", r"location(\.href\s*=|\.reload\s*\(|\.replace\s*\()"),
         200, ("document.cookie",)),
    # slider and captcha pages
    Rule("captcha", frozenset(), (r"滑动验证|滑块验证|拖动滑块|请完成安全验证|人机验证|安全验证|captcha|geetest|nc_iconfont",),
         300, ("验证", "滑块", "captcha", "geetest", "nc_iconfont")),
    # a cookie wall: the page asks for cookies (or JavaScript) before it shows anything
    Rule("cookie-wall", frozenset(), (r"(启用|开启|允许|打开)\s*(cookie|javascript)|enable\s+(cookies|javascript)",),
         300, ("启用", "开启", "允许", "打开", "enable")),
)

_COMPILED = [(r, [re.compile(p, re.I) for p in r.patterns]) for r in RULES]
_SCRIPT = re.compile(r"<(script|style|noscript)\b.*?</\1\s*>", re.I | re.S)
_TAG = re.compile(r"<!--.*?-->|<[^>]*>", re.S)
_SPACE = re.compile(r"(&nbsp;|\s)+")
#: walls are small pages; anything longer is content
MAX_BYTES = 200_000


class Blocked(Exception):
    """An answer recognised as an anti-bot wall (``rule``: the :data:`RULES` row)."""

    def __init__(self, url: str, rule: str, status: int):
        super().__init__(f"{url} answered an anti-bot page ({rule}, HTTP {status})")
        self.url, self.rule, self.status = url, rule, status


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("gb18030", errors="replace")


def visible_text(html: str) -> str:
    """What a reader would see: the HTML without scripts, styles and tags, spaces squeezed."""
    return _SPACE.sub(" ", _TAG.sub(" ", _SCRIPT.sub(" ", html))).strip()


def blocked_rule(status: int, body: bytes, content_type: str = "text/html") -> str | None:
    """The name of the rule an answer matches, None for a real page (or not HTML)."""
    ctype = (content_type or "").lower()
    if ctype and "html" not in ctype and "javascript" not in ctype:
        return None
    if not body or len(body) > MAX_BYTES or status in (301, 302, 303, 304, 307, 308):
        return None
    html = _decode(body)
    text = lowered = None
    for rule, patterns in _COMPILED:
        if rule.statuses and status not in rule.statuses:
            continue
        if rule.hints:
            lowered = lowered if lowered is not None else html.lower()
            if not any(hint in lowered for hint in rule.hints):
                continue
        if not all(p.search(html) for p in patterns):
            continue
        if text is None:
            text = visible_text(html)
        if len(text) <= rule.max_text:
            return rule.name
    return None
