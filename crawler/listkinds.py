"""Lists that are not HTML pages of links, read from what a site config says (``list.kind``).

``api``: the channel's list is answered by an API for a page parameter, as JSON or as
JavaScript ``var NAME = <JSON>;`` statements (dangjian.cn's ``mi4-rest-api/pageArticles.js``
answers ``var _totalCnt=5605; … var MI4_PAGE_ARTICLE = [{title, url, …}]``). The config names
the method, the parameters, the page parameter, the path to the items, the item fields that
hold the article URL and, if the API gives one, the path to the total count.

Only data of the config builds a request or reads an answer; nothing here knows a site.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from crawler.siteconfig import ApiConfig

__all__ = ["api_request_args", "js_assignments", "read_api", "ApiPage", "NotReadable"]

_ASSIGN = re.compile(r"(?:\bvar\s+|\blet\s+|\bconst\s+|[;{}\s]|^)([A-Za-z_$][\w$]*)\s*=\s*(?=[\[{\"'\d-])")


class NotReadable(ValueError):
    """An API answer that is not the JSON (or JavaScript) the config says."""


def js_assignments(text: str) -> dict:
    """``{NAME: value}`` of the ``NAME = <JSON value>`` assignments in a script (``var`` or not).
    A value that is not JSON (a JavaScript expression) is left out."""
    out: dict = {}
    decoder = json.JSONDecoder()
    pos = 0
    while m := _ASSIGN.search(text, pos):
        pos = m.end()
        try:
            value, pos = decoder.raw_decode(text, m.end())  # the value's own text is not searched
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
    urls = []
    for item in items:
        if not isinstance(item, dict):
            continue
        value = next((item[f] for f in api.url_fields if isinstance(item.get(f), str) and item[f].strip()), None)
        if value:
            url = urljoin(base, value.strip()).split("#", 1)[0]
            if url not in urls:
                urls.append(url)
    total = _path(data, api.total_path) if api.total_path else None
    if isinstance(total, str) and total.strip().isdigit():
        total = int(total)
    return ApiPage(urls, len(items), total if isinstance(total, int) and not isinstance(total, bool) else None)

