"""The pages the offline mirror serves, built once from ``manifest.toml``.

Pure: reads the manifest, the templates and the real saved pages (package data of
``crawler.mirror``: ``manifest.toml``, ``templates/``, ``real_pages/``) and the seed
texts (:func:`seed_text`, package data of ``seeds``), all read with :mod:`importlib.resources`, and returns
``{url: MirrorPage}`` keyed by the real site URL. No server here.
"""

from __future__ import annotations

import hashlib
import html
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template
from urllib.parse import urljoin, urlsplit

__all__ = ["MirrorAttachment", "MirrorPage", "MirrorSite", "build_mirror", "project_root", "seed_text",
           "served_sites", "MANIFEST", "REAL_PAGES", "SEED_DOCUMENTS"]

_PACKAGE = resources.files(__package__)
MANIFEST = _PACKAGE / "manifest.toml"
TEMPLATES = _PACKAGE / "templates"
#: the real saved pages the manifest places (``fixture = "dir/name.html"``): copies of
#: tests/fixtures/real_sites files, which tests/test_mirror.py holds equal byte for byte
REAL_PAGES = _PACKAGE / "real_pages"


#: the seed reports (package data of ``seeds``), which built pages are made of
SEED_DOCUMENTS = resources.files("seeds") / "documents"


def served_sites(manifest: Traversable = MANIFEST) -> set[str]:
    """The names of the sites the mirror serves, without building its pages."""
    return set(tomllib.loads(manifest.read_text(encoding="utf-8")).get("sites", {}))


def project_root() -> Path:
    """The source tree's root (where ``seeds/`` is), when running from a checkout."""
    return Path(__file__).resolve().parent.parent.parent


def seed_text(stem: str) -> str:
    """The text of the seed report ``seeds/documents/<stem>.txt``, read as package data so
    that the mirror builds from an installed djcrawl (wheel or zipped egg) as from a checkout."""
    return (SEED_DOCUMENTS / f"{stem}.txt").read_text(encoding="utf-8")


@dataclass
class MirrorPage:
    status: int
    body: bytes = b""
    content_type: str = "text/html"
    #: list pages get validators so a re-run can be answered with 304
    etag: str | None = None
    last_modified: str | None = None
    location: str | None = None


@dataclass
class MirrorAttachment:
    """A PDF/DOCX file linked from a built article page (``[[sites.<name>.attachments]]``)."""

    url: str
    #: the article page that links it
    page: str
    title: str
    #: the paragraphs the file holds
    text: list[str]
    #: served cut off after its first 2 KB, as an interrupted upload leaves a file
    broken: bool = False


@dataclass
class MirrorSite:
    name: str
    hosts: set[str]
    robots: bytes
    channels: list[str]
    #: the article URLs its lists link to (real or built pages, not errors or forbidden ones)
    article_urls: list[str] = field(default_factory=list)
    forbidden_urls: list[str] = field(default_factory=list)
    error_urls: list[str] = field(default_factory=list)
    #: linked URL -> where it redirects (the page's ``final_url``)
    redirects: dict[str, str] = field(default_factory=dict)
    attachments: list[MirrorAttachment] = field(default_factory=list)


# A fixed date: the mirror's pages never change, so their validators never do.
_LAST_MODIFIED = "Mon, 02 Jan 2023 08:00:00 GMT"

_CREATE_PAGE_JS = """<script type="text/javascript">
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){
  if(_nPageCount == null || _nPageCount<=1){ return; }
  var nCurrIndex = _nCurrIndex || 0;
  if(nCurrIndex < _nPageCount-1){
    document.write("<a href=\\""+_sPageName+"_" + (nCurrIndex+1) + "."+_sPageExt+"\\">下一页</a>");
  }
}
createPageHTML($total, $cur, "$name", "$ext");
</script>"""


def _seed_paragraphs(stem: str, skip_lines: int) -> list[str]:
    text = seed_text(stem)
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines[skip_lines:] if ln]
    return lines


def _paragraph_html(paragraphs: list[str]) -> str:
    return "\n".join(f"<p>　　{html.escape(p)}</p>" for p in paragraphs)


def _date_cn(date: str) -> str:
    y, m, d = date.split("-")
    return f"{y}年{m}月{d}日"


def _stem_ext(url: str) -> tuple[str, str]:
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    stem, _, ext = name.rpartition(".")
    return stem, ext


def _pager(kind: str, total: int, cur: int, name: str, ext: str, page_url: str | None = None,
           first_next: int = 1) -> str:
    """Pagination markup: the TRS script call, or plain links (``cur`` counts from 0)."""
    if kind == "createPageHTML":
        return Template(_CREATE_PAGE_JS).substitute(total=total, cur=cur, name=name, ext=ext)
    if total <= 1:
        return ""

    def href(i: int) -> str:
        return f"{name}.{ext}" if i == 0 else page_url.replace("{n}", str(first_next + i - 1))

    links = " ".join(
        f'<span class="cur">{i + 1}</span>' if i == cur else f'<a href="{href(i)}">{i + 1}</a>'
        for i in range(total)
    )
    nxt = f' <a href="{href(cur + 1)}">下一页</a>' if cur + 1 < total else ""
    return f'<div class="page_n clearfix">{links}{nxt}</div>'


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:16] + '"'


def _attachment_links(page_url: str, files: list[MirrorAttachment]) -> str:
    """The 附件 lines TRS puts at the end of an article body, linking relatively as it does."""
    directory = page_url.rsplit("/", 1)[0] + "/"
    return "".join(
        f'\n<p>附件{i}：<a href="./{html.escape(f.url[len(directory):])}">{html.escape(f.title)}</a></p>'
        for i, f in enumerate(files, start=1)
    )


def _attachment_page(f: MirrorAttachment) -> MirrorPage:
    from .files import docx_bytes, pdf_bytes

    if f.url.endswith(".pdf"):
        body, content_type = pdf_bytes(f.text), "application/pdf"
    elif f.url.endswith(".docx"):
        body = docx_bytes(f.text)
        content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    else:
        raise ValueError(f"mirror attachment {f.url}: only .pdf and .docx files are generated")
    return MirrorPage(200, body[:2048] if f.broken else body, content_type)


def _built_article(site_title: str, channel_title: str, a: dict,
                   files: list[MirrorAttachment] = ()) -> dict[str, bytes]:
    """A page in the site's layout from a seed text; ``parts`` > 1 splits it like a TRS multi-page article.
    ``files`` are linked at the end of the body (of its last part)."""
    paragraphs = [] if a.get("empty") else _seed_paragraphs(a["seed"], a.get("skip_lines", 1))
    parts = max(1, a.get("parts", 1))
    size = math.ceil(len(paragraphs) / parts)
    template = Template((TEMPLATES / a["template"]).read_text(encoding="utf-8"))
    charset = a.get("charset", "utf-8")
    stem, ext = _stem_ext(a["url"])
    out = {}
    for i in range(parts):
        chunk = paragraphs[i * size:(i + 1) * size]
        page = template.substitute(
            title=html.escape(a["title"]), date=a["date"], date_cn=_date_cn(a["date"]), time="08:30:00",
            source=html.escape(a.get("source", site_title)), author=html.escape(a.get("author", "")),
            editor=html.escape(a.get("editor", "")), site_title=site_title, channel_title=channel_title,
            body=_paragraph_html(chunk) + (_attachment_links(a["url"], files) if i == parts - 1 else ""),
            pager=_pager("createPageHTML", parts, i, stem, ext) if parts > 1 else "",
        )
        url = a["url"] if i == 0 else urljoin(a["url"], f"{stem}_{i}.{ext}")
        out[url] = page.encode(charset)
    return out


def _list_pages(site: dict, layout: dict, channel: dict, rows: list[dict]) -> dict[str, bytes]:
    per_page = site.get("per_page", 5)
    total = max(1, math.ceil(len(rows) / per_page))
    # a channel given as its directory (.../procuratorate/) is its own first page
    directory = channel["url"].endswith("/")
    stem, ext = ("index", layout.get("ext", "html")) if directory else _stem_ext(channel["url"])
    page_url = layout["page_url"].replace("$ext", ext)
    row_t = Template(layout["row"])
    list_t = Template((TEMPLATES / "list.html").read_text(encoding="utf-8"))
    channel_dir = channel["url"].rsplit("/", 1)[0] + "/"
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(channel["url"]))

    def href(row: dict) -> str:
        url = row["url"]
        if layout.get("href") == "root" and url.startswith(origin + "/"):
            # people.cn lists link by path from the host's root (/n1/2024/0510/c...html)
            link = url[len(origin):]
        elif url.startswith(channel_dir):
            # lists link their own channel's articles relatively (./202012/t..._1.shtml), as TRS lists do
            link = "./" + url[len(channel_dir):]
        else:
            link = url
        return link + row.get("fragment", "")

    out = {}
    for i in range(total):
        chunk = rows[i * per_page:(i + 1) * per_page]
        body = "\n".join(
            row_t.substitute(href=html.escape(href(r)), title=html.escape(r["title"]), date=r.get("date", ""),
                             date_cn=_date_cn(r["date"]) if r.get("date") else "")
            for r in chunk
        )
        page = list_t.substitute(
            charset_declared="utf-8", site_title=site["title"], channel_title=channel["title"],
            container_open=layout["container"], container_close=layout.get("container_close", "</ul>"),
            rows=body,
            pager=_pager(layout["pager"], total, i, stem, ext, page_url, layout["first_next_number"]),
        )
        name = f"{stem}.{ext}" if i == 0 else page_url.replace("{n}", str(layout["first_next_number"] + i - 1))
        out[channel["url"] if directory and i == 0 else urljoin(channel["url"], name)] = page.encode("utf-8")
    return out


def _home_pages(site: dict, channels: list[dict], articles: list[dict]) -> dict[str, bytes]:
    """The front page (``/``) of each host a channel is on: a bar of the site's channels by
    their titles and a box of headlines, as real front pages link them (``djcrawl add-site``
    starts there)."""
    template = Template((TEMPLATES / "home.html").read_text(encoding="utf-8"))
    nav = "\n".join(f'<a href="{html.escape(c["url"])}">{html.escape(c["title"])}</a>' for c in channels)
    headlines = "\n".join(f'<p><a href="{html.escape(a["url"])}">{html.escape(a["title"])}</a></p>'
                          for a in articles[:4])
    body = template.substitute(site_title=html.escape(site["title"]), channels=nav, headlines=headlines)
    parts = {urlsplit(c["url"]) for c in channels}
    return {f"{p.scheme}://{p.netloc}/": body.encode("utf-8") for p in parts}


def build_mirror(manifest: Traversable = MANIFEST) -> tuple[dict[str, MirrorPage], dict[str, MirrorSite]]:
    """``({url: page}, {site name: site})`` for every site of the manifest."""
    data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    pages: dict[str, MirrorPage] = {}
    sites: dict[str, MirrorSite] = {}
    for name, site in data["sites"].items():
        layout = data["layouts"][site["list_layout"]]
        channels = site["channels"]
        ms = MirrorSite(name=name, hosts=set(), robots=site.get("robots", "").encode("ascii"),
                        channels=[c["url"] for c in channels])
        rows: dict[int, list[dict]] = {i: [] for i in range(len(channels))}
        for f in site.get("attachments", []):
            ms.attachments.append(MirrorAttachment(f["url"], f["page"], f["title"], list(f["text"]),
                                                   f.get("broken", False)))
            pages[f["url"]] = _attachment_page(ms.attachments[-1])
        for a in site.get("articles", []):
            if "moved_from" in a:
                # the list still links the old address, which answers 301 to the new one
                pages[a["moved_from"]] = MirrorPage(301, b"", location=a["url"])
                ms.redirects[a["moved_from"]] = a["url"]
                rows[a["channel"]].append({**a, "url": a["moved_from"]})
                ms.article_urls.append(a["moved_from"])
            else:
                rows[a["channel"]].append(a)
                ms.article_urls.append(a["url"])
            if "fixture" in a:
                pages[a["url"]] = MirrorPage(200, REAL_PAGES.joinpath(*a["fixture"].split("/")).read_bytes())
            else:
                ch_title = channels[a["channel"]]["title"]
                files = [f for f in ms.attachments if f.page == a["url"]]
                for url, body in _built_article(site["title"], ch_title, a, files).items():
                    pages[url] = MirrorPage(200, body)
        for a in site.get("forbidden", []):
            rows[a["channel"]].append(a)
            ms.forbidden_urls.append(a["url"])
            pages[a["url"]] = MirrorPage(200, b"<html><body>robots.txt forbids this page</body></html>")
        for a in site.get("errors", []):
            rows[a["channel"]].append(a)
            ms.error_urls.append(a["url"])
            pages[a["url"]] = MirrorPage(a["status"], f"<html><body>error {a['status']}</body></html>".encode())
        for i, channel in enumerate(channels):
            # newest first, as the real lists are
            ordered = sorted(rows[i], key=lambda r: r.get("date", ""), reverse=True)
            channel_layout = data["layouts"][channel.get("layout", site["list_layout"])]
            for url, body in _list_pages(site, channel_layout, channel, ordered).items():
                pages[url] = MirrorPage(200, body, "text/html; charset=utf-8", _etag(body), _LAST_MODIFIED)
        for url, body in _home_pages(site, channels, site.get("articles", [])).items():
            pages.setdefault(url, MirrorPage(200, body, "text/html; charset=utf-8", _etag(body), _LAST_MODIFIED))
        for url in [*ms.channels, *ms.article_urls]:
            ms.hosts.add(urlsplit(url).hostname)
        sites[name] = ms
    return pages, sites
