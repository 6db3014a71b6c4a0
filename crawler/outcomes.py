"""Every outcome a crawl counts, in one table: its reason, its category and what it means.

A crawl counts each page, request or list step under a reason per site (Scrapy stats
``djcrawl/count/<site>/<reason>``, copied to ``crawl_run_counts`` when the run ends).
The category says how the summary and the exit code read it:

- ``document``: the page or file became a document;
- ``not-article``: fetched and kept in ``pages``, but it made no document;
- ``skipped``: not fetched, on purpose (known already, robots.txt, a duplicate request);
- ``list``: how a walk down a channel list went (not pages);
- ``error``: a request or a document that failed; the run's ``errors`` total.

Reasons made of a prefix and a name (``http-404``, ``error-TimeoutError``,
``extract-error-ValueError``) are matched by their prefix. ``tests/test_layers.py``
checks that every reason the code writes is in this table.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Outcome", "OUTCOMES", "CATEGORIES", "outcome", "category", "count", "count_key", "parse_count_key",
           "total_key", "site_key", "TOTALS", "COUNT_PREFIX"]

CATEGORIES = ("document", "not-article", "skipped", "list", "error")


@dataclass(frozen=True)
class Outcome:
    reason: str
    category: str
    meaning: str


OUTCOMES: dict[str, Outcome] = {o.reason: o for o in (
    Outcome("document", "document", "the page or file became a document (new, updated or unchanged)"),
    Outcome("list-page", "not-article", "a channel list page, kept for its links and validators"),
    Outcome("empty", "not-article", "the page has no bytes or only whitespace"),
    Outcome("no-body", "not-article", "no main text found in the page"),
    Outcome("too-short", "not-article", "the main text is shorter than an article (navigation, an index page)"),
    Outcome("irrelevant", "not-article", "an article whose relevance is under DJ_MIN_RELEVANCE"),
    Outcome("attachment-no-text", "not-article", "a PDF/DOC/DOCX without a text layer (a scan)"),
    Outcome("attachment-unreadable", "not-article", "a file that is not a readable PDF/DOC/DOCX"),
    Outcome("unprocessed", "not-article", "stored without a document pipeline (ITEM_PIPELINES changed)"),
    Outcome("not-modified", "skipped", "a list page answered 304; its links were read from the stored copy"),
    Outcome("skipped-known", "skipped", "an article or file stored by an earlier run, not fetched again"),
    Outcome("robots-disallowed", "skipped", "robots.txt forbids the page; never requested"),
    Outcome("ignored", "skipped", "a request dropped by a downloader middleware (another host in mirror mode)"),
    Outcome("duplicate", "skipped", "a request the scheduler had seen already"),
    Outcome("list-without-articles", "list", "a list page on which neither the article selector nor the links found "
                                             "without it (selector-stale) gave an article link"),
    Outcome("selector-stale", "list", "a list page on which the article selector found no article link, but the "
                                      "links found without it (pipelines.listlinks) did: those were followed"),
    Outcome("list-unreadable", "list", "an API list's answer, or a script list's page, did not hold the JSON or "
                                       "JavaScript array its config describes"),
    Outcome("epaper-issue-known", "skipped", "an e-paper issue an earlier run walked: not fetched again"),
    Outcome("epaper-no-issue", "list", "an e-paper's issue URL for a day answered 404: no paper that day (or not yet)"),
    Outcome("list-stop-all-known", "list", "a list page holding only known articles: the walk down it stopped"),
    Outcome("list-max-pages", "list", "a list longer than the config's list.max_pages: cut there"),
    Outcome("max-pages-reached", "list", "the site reached --max-pages: the rest waits for the next run"),
    Outcome("list-failed", "list", "a list page failed: the next run walks the whole list again"),
    Outcome("article-incomplete", "list", "a later page of a multi-page article failed; the pages fetched were kept"),
    Outcome("redirect-loop", "error", "redirects that come back to where they started"),
    Outcome("blocked", "error", "an anti-bot answer (JavaScript challenge, captcha or slider page, cookie wall; "
                                "pipelines.blocked): not retried, not stored"),
    Outcome("http-", "error", "the server answered with this HTTP status (after retries)"),
    Outcome("error-", "error", "the download failed with this exception (after retries)"),
    Outcome("extract-error-", "error", "making the document raised this exception; the page is kept"),
)}

#: Run totals kept in ``crawl_runs`` (Scrapy stats ``djcrawl/<name>``).
TOTALS = ("pages_fetched", "article_pages_fetched", "documents_new", "documents_updated", "documents_unchanged",
          "errors")
COUNT_PREFIX = "djcrawl/count/"


_PREFIXES = sorted((r for r in OUTCOMES if r.endswith("-")), key=len, reverse=True)


def outcome(reason: str) -> Outcome:
    """The table's row of ``reason`` (exact, else by prefix); an unknown reason is a bug."""
    if reason in OUTCOMES:
        return OUTCOMES[reason]
    for prefix in _PREFIXES:
        if reason.startswith(prefix) and len(reason) > len(prefix):
            return OUTCOMES[prefix]
    raise KeyError(f"outcome {reason!r} is not in crawler/outcomes.py")


def category(reason: str) -> str:
    return outcome(reason).category


def count_key(site: str, reason: str) -> str:
    """Stats key of one (site, reason) outcome."""
    return f"{COUNT_PREFIX}{site}/{reason}"


def parse_count_key(key: str) -> tuple[str, str] | None:
    """``(site, reason)`` of a :func:`count_key`, None for other stats keys."""
    if not key.startswith(COUNT_PREFIX):
        return None
    site, _, reason = key[len(COUNT_PREFIX):].partition("/")
    return site, reason


def total_key(name: str) -> str:
    return f"djcrawl/{name}"


def site_key(site: str, name: str) -> str:
    """Per-site totals (``pages_fetched``, ``article_pages_fetched``, ``errors``)."""
    return f"djcrawl/site/{site}/{name}"


def count(stats, site: str, reason: str, n: int = 1) -> None:
    """Count ``n`` outcomes; an error also goes into the run's and the site's error totals."""
    if outcome(reason).category == "error":
        stats.inc_value(total_key("errors"), n)
        stats.inc_value(site_key(site, "errors"), n)
    stats.inc_value(count_key(site, reason), n)
