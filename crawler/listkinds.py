"""Lists that are not HTML pages of links, read from what a site config says (``list.kind``).

``api``: the channel's list is answered by an API for a page parameter, as JSON or as
JavaScript ``var NAME = <JSON>;`` statements (dangjian.cn's ``mi4-rest-api/pageArticles.js``
answers ``var _totalCnt=5605; … var MI4_PAGE_ARTICLE = [{title, url, …}]``). The config names
the method, the parameters, the page parameter, the path to the items, the item fields that
hold the article URL and, if the API gives one, the path to the total count.

``script``: the list is an array assigned in an inline ``<script>`` of an HTML page (12371.cn's
``item=[{'title':…,'brief':…,'link_add':…}];``, JavaScript with single-quoted strings); the
config names the variable and the item fields that hold the article URL.

``epaper``: one issue a day at a date-addressed URL (zmdrb.zmdnews.cn's
``/zmdrb/{yyyymmdd}/html/index.htm`` -> ``page_NN.htm`` -> ``content_….htm``); the issues of
today (China time) and ``days_back`` days before it are walked.

Only data of the config builds a request or reads an answer; nothing here knows a site.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from crawler.siteconfig import ApiConfig, EpaperConfig, ScriptConfig

__all__ = ["api_request_args", "js_assignments", "js_value", "read_api", "read_script", "ApiPage", "NotReadable", "issue_urls", "china_today"]

_ASSIGN = re.compile(r"(?:\bvar\s+|\blet\s+|\bconst\s+|[;{}\s]|^)([A-Za-z_$][\w$]*)\s*=\s*(?=[\[{\"'\d-])")


class NotReadable(ValueError):
    """An API answer that is not the JSON (or JavaScript) the config says."""


_DECODER = json.JSONDecoder()
_BARE_KEY = re.compile(r"([{,]\s*)([A-Za-z_$][\w$]*)(\s*:)")


def _literal_end(text: str, start: int) -> int:
    """End of the bracketed literal (``[…]`` or ``{…}``) at ``start``, quotes respected."""
    depth, quote, i = 0, None, start
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unclosed literal")


def _as_json(literal: str) -> str:
    """A JavaScript object literal as JSON: single-quoted strings double-quoted, bare keys quoted."""
    out, i, plain = [], 0, []

    def flush():
        out.append(_BARE_KEY.sub(r'\1"\2"\3', "".join(plain)))
        plain.clear()

    while i < len(literal):
        c = literal[i]
        if c in "'\"":
            flush()
            j, chars = i + 1, []
            while j < len(literal) and literal[j] != c:
                if literal[j] == "\\" and j + 1 < len(literal):
                    j += 1
                    chars.append({"n": "\n", "t": "\t"}.get(literal[j], literal[j]))
                else:
                    chars.append(literal[j])
                j += 1
            out.append(json.dumps("".join(chars), ensure_ascii=False))
            i = j + 1
        else:
            plain.append(c)
            i += 1
    flush()
    return "".join(out)


def js_value(text: str, start: int):
    """``(value, end)`` of the JSON or JavaScript literal at ``start``; ValueError if it is neither."""
    try:
        return _DECODER.raw_decode(text, start)
    except ValueError:
        if text[start:start + 1] not in ("[", "{"):
            raise
    end = _literal_end(text, start)
    return json.loads(_as_json(text[start:end])), end


def js_assignments(text: str) -> dict:
    """``{NAME: value}`` of the ``NAME = <literal>`` assignments in a script (``var`` or not), the
    literal JSON or JavaScript with single-quoted strings and bare keys. A value that is neither
    (an expression) is left out; the first assignment of a name wins."""
    out: dict = {}
    pos = 0
    while m := _ASSIGN.search(text, pos):
        pos = m.end()
        try:
            value, pos = js_value(text, m.end())  # the value's own text is not searched
        except ValueError:
            continue
        out.setdefault(m.group(1), value)
    return out


def _path(data, path: str):
    for part in (p for p in path.split(".") if p):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def api_request_args(api: ApiConfig, endpoint: str, page: int) -> tuple[str, dict, str]:
    """``(key, request kwargs, method)`` of page ``page`` of an API list. ``key`` is the URL the
    page is kept under in ``pages``: the GET URL with its query, or for a POST the endpoint with
    its form body as the fragment (each page of a POST list is a page of its own)."""
    params = [*api.params, (api.page_param, str(page))]
    if api.method == "GET":
        parts = urlsplit(endpoint)
        query = "&".join(q for q in (parts.query, urlencode(params)) if q)
        url = urlunsplit(parts._replace(query=query))
        return url, {"url": url, "method": "GET"}, "GET"
    body = urlencode(params)
    return f"{endpoint}#{body}", {"url": endpoint, "method": "POST", "body": body,
                                  "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, "POST"


class ApiPage:
    """One answer of an API list: its items' article URLs (absolute, in order) and the total."""

    def __init__(self, urls: list[str], n_items: int, total: int | None):
        self.urls, self.n_items, self.total = urls, n_items, total


def read_api(api: ApiConfig, text: str, base: str) -> ApiPage:
    if api.format == "js":
        data = js_assignments(text)
    else:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise NotReadable(f"not JSON: {exc}") from None
    items = _path(data, api.items_path)
    if not isinstance(items, list):
        raise NotReadable(f"no array at {api.items_path or 'the root'!r}")
    urls = _item_urls(items, api.url_fields, base)
    total = _path(data, api.total_path) if api.total_path else None
    if isinstance(total, str) and total.strip().isdigit():
        total = int(total)
    return ApiPage(urls, len(items), total if isinstance(total, int) and not isinstance(total, bool) else None)



def _item_urls(items: list, url_fields: tuple[str, ...], base: str) -> list[str]:
    """The items' article URLs (absolute, no fragment, each once, in order): the first non-empty
    of ``url_fields`` of each item."""
    urls = []
    for item in items:
        if not isinstance(item, dict):
            continue
        value = next((item[f] for f in url_fields if isinstance(item.get(f), str) and item[f].strip()), None)
        if value:
            url = urljoin(base, value.strip()).split("#", 1)[0]
            if url not in urls:
                urls.append(url)
    return urls


def read_script(script: ScriptConfig, scripts: list[str], base: str) -> ApiPage:
    """The list in the page's inline scripts: the array assigned to ``script.var`` in the first
    script that assigns it one."""
    for text in scripts:
        items = js_assignments(text).get(script.var)
        if isinstance(items, list):
            return ApiPage(_item_urls(items, script.url_fields, base), len(items), None)
    raise NotReadable(f"no script assigns an array to {script.var!r}")


def china_today() -> date:
    """Today where the papers are published (UTC+8)."""
    return datetime.now(timezone(timedelta(hours=8))).date()


def issue_urls(epaper: EpaperConfig, today: date | None = None) -> list[str]:
    """The first pages of the issues walked, newest first."""
    today = today or china_today()
    urls = []
    for back in range(epaper.days_back + 1):
        d = today - timedelta(days=back)
        url = (epaper.issue_url.replace("{yyyymmdd}", d.strftime("%Y%m%d")).replace("{yyyy}", f"{d.year:04d}")
               .replace("{mm}", f"{d.month:02d}").replace("{dd}", f"{d.day:02d}"))
        urls.append(url)
    return urls
