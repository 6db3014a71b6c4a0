"""``djcrawl sites --check NAME``: one site config run against its first list page and one article.

The list page is read as the spider reads it (the config's decoding, ``list.link_selector``,
``article.url_patterns``, the spider's own next-page rule) and the article is made a
document by the crawl's extraction (:func:`pipelines.documents.document_from_html` with the
config's hints), so what it prints is what a crawl would find today. Fetching is
add-site's (:func:`crawler.cli.addsite.fetcher`): polite, through the mirror with ``--mirror``.
"""

from __future__ import annotations

from urllib.parse import urldefrag, urljoin

from pipelines.errors import DjcrawlError

__all__ = ["cmd_check"]

#: Links printed of those the selector finds.
SHOWN = 5

EXIT_FAILED = 1


def _selector_links(cfg, sel, base: str) -> list[str]:
    """The links ``list.link_selector`` finds, as the spider reads them (fragments dropped)."""
    out: dict[str, None] = {}
    for node in sel.css(cfg.list.link_selector):
        for href in node.xpath("self::a/@href | .//a/@href").getall():
            out.setdefault(urldefrag(urljoin(base, href.strip()))[0])
    return list(out)


def cmd_check(args) -> int:
    from parsel import Selector

    from pipelines.document import Document
    from pipelines.documents import document_from_html
    from pipelines.listlinks import article_links

    from ..siteconfig import load_sites
    from ..spiders.djcrawl import DjSpider
    from .addsite import fetcher

    cfg = load_sites([args.check])[0]
    if cfg.list.kind != "html":
        raise DjcrawlError(f"{cfg.name}: sites --check reads html lists; this config's list.kind is {cfg.list.kind!r}")
    problems = []
    with fetcher(args.mirror) as f:
        start = cfg.start_urls[0]
        page = f.get(start, "list page")
        text, encoding = cfg.decode(page.body, page.content_type)
        sel = Selector(text=text)
        base = page.final_url
        print(f"{cfg.name}: list page {start} (HTTP {page.status}, {encoding})")
        found = _selector_links(cfg, sel, base)
        articles = [u for u in found if cfg.is_article_url(u)]
        print(f"  list.link_selector {cfg.list.link_selector!r}: {len(found)} links, "
              f"{len(articles)} match article.url_patterns")
        for url in found[:SHOWN]:
            print(f"    {'article' if cfg.is_article_url(url) else 'other  '} {url}")
        if not found:
            problems.append(f"list.link_selector {cfg.list.link_selector!r} matches nothing on {start} (stale?)")
        elif not articles:
            problems.append("no link the selector finds matches article.url_patterns")
        if not articles:
            # what the crawl would fall back on (selector-stale): the page's main list found without it
            fallback = article_links(sel.root, base)
            matching = [u for u in fallback if cfg.is_article_url(u)]
            print(f"  without the selector (djcrawl links): {len(fallback)} links, {len(matching)} match "
                  "article.url_patterns")
            articles = matching
        next_url = DjSpider._next_list_page(cfg, start, base, text, sel)
        print(f"  next list page ({cfg.list.pagination}): {next_url or 'none'}")
        doc = None
        if articles:
            url = articles[0]
            try:
                art = f.get(url, "article")
            except DjcrawlError as exc:
                problems.append(f"article {exc}")
            else:
                art_text, art_encoding = cfg.decode(art.body, art.content_type)
                doc = document_from_html(art_text, url=url, hints=cfg.hints())
                if isinstance(doc, Document):
                    print(f"  article {url} (HTTP {art.status}, {art_encoding}): title {doc.title!r}, "
                          f"published {doc.published or 'none'}, body {len(doc.text)} characters")
                else:
                    print(f"  article {url}: not an article ({doc.reason})")
                    problems.append(f"{url} extracts no article ({doc.reason})")
        else:
            problems.append("no article link to try")
    if problems:
        print(f"verdict: FAILED: {'; '.join(problems)}")
        return EXIT_FAILED
    print(f"verdict: ok: {len(articles)} article links on the list page, an article with "
          f"{len(doc.text)} characters")
    return 0
