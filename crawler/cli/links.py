"""``djcrawl links``: the article links of a list page, found without a site config.

The page is a saved file (decoded by its bytes, like every page djcrawl reads) or an
http(s) URL fetched once. What counts as the page's list is
:mod:`pipelines.listlinks`'s business; this module only reads the input, refuses bad
input in one line, and prints.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from pipelines.errors import DjcrawlError

__all__ = ["cmd_links", "read_page"]

#: Enough for any list page; a larger answer is not a list page (and is not read to the end).
MAX_BYTES = 20 * 1024 * 1024
TIMEOUT = 30


def _fetch(url: str) -> tuple[bytes, str | None, str]:
    from crawler.settings import USER_AGENT  # the crawl's, naming DJ_CONTACT

    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            body = resp.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                raise DjcrawlError(f"{url}: larger than {MAX_BYTES // (1024 * 1024)} MB, not a list page")
            return body, resp.headers.get("Content-Type"), resp.geturl()
    except urllib.error.HTTPError as exc:
        raise DjcrawlError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DjcrawlError(f"{url}: cannot fetch: {reason}") from None


def _read_file(name: str) -> bytes:
    path = Path(name)
    if not path.exists():
        raise DjcrawlError(f"{name}: no such file")
    if path.is_dir():
        raise DjcrawlError(f"{name}: is a directory, not a saved page")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DjcrawlError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if not data.strip():
        raise DjcrawlError(f"{name}: is empty")
    return data


def read_page(target: str) -> tuple[bytes, str | None, str | None]:
    """(body, content type, final URL) of a file or an http(s) URL; anything else is refused."""
    scheme = urlsplit(target).scheme.lower()
    if scheme in ("http", "https"):
        return _fetch(target)
    if "://" in target or scheme in ("file", "ftp", "data", "javascript"):
        # only the web is fetched: file:// and other schemes would read what the user did not mean
        raise DjcrawlError(f"{target}: only http(s) URLs are fetched; give a saved page as a file path")
    return _read_file(target), None, None


def cmd_links(args) -> int:
    from pipelines.decode import decode_bytes
    from pipelines.htmltree import parse_html
    from pipelines.listlinks import list_articles, page_url_of

    body, content_type, final_url = read_page(args.target)
    if b"\x00" in body[:4096]:
        raise DjcrawlError(f"{args.target}: binary data, not an HTML page")
    text, _ = decode_bytes(body, content_type)
    tree = parse_html(text)
    if tree is None or not tree.xpath("//a"):
        raise DjcrawlError(f"{args.target}: no HTML links found")
    page_url = args.url or final_url or page_url_of(tree)
    articles = list_articles(tree, page_url)
    if args.format == "json":
        print(json.dumps({"page": page_url, "links": [{"url": u, "title": t} for u, t in articles]},
                         ensure_ascii=False, indent=2))
    else:
        for url, _ in articles:
            print(url)
    return 0
