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
           "total_key", "site_key", "TOTALS", "COUNT_PREFIX", "SiteState", "site_state", "run_status",
           "retriable"]

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
    Outcome("retry-failed", "list", "an article whose fetch failed in an earlier run (5xx, timeout, reset), asked "
                                    "for again whatever the list walk does (up to DJ_RETRY_FAILED runs)"),
    Outcome("gave-up", "list", "an article that failed in DJ_RETRY_FAILED runs: not asked for again"),
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


def retriable(reason: str) -> bool:
    """Whether a failed article is worth asking for again on the next runs: a server error,
    a timeout or a broken connection may pass; a 404, a 403 or an anti-bot wall will not."""
    if reason.startswith("error-"):
        return True
    if reason.startswith("http-") and reason[5:].isdigit():
        status = int(reason[5:])
        return status >= 500 or status in (408, 429)
    return False


@dataclass(frozen=True)
class SiteState:
    """How one site's crawl went, read from the run's stats.

    ``state``: ``ok`` (its lists gave articles, fetched or known, and no list page failed),
    ``partial`` (articles, but a list page failed), ``empty`` (pages fetched, or skipped on
    purpose, but no article link found), ``failed`` (no article link, and errors: nothing
    reached); ``reasons``: the counts worth a look (errors and list trouble), largest first."""

    site: str
    state: str
    pages: int
    errors: int
    reasons: tuple[tuple[str, int], ...]


#: reasons that show a site's lists gave article links (fetched, known, or cut by --max-pages)
_YIELDED = ("document", "skipped-known", "epaper-issue-known", "max-pages-reached", "retry-failed")
#: non-error reasons worth naming in a site's summary line
_WORTH_SEEING = ("list-without-articles", "selector-stale", "list-unreadable", "list-failed", "article-incomplete",
                 "robots-disallowed", "gave-up", "retry-failed", "max-pages-reached")


def site_state(stats: dict, site: str) -> SiteState:
    """The :class:`SiteState` of ``site`` from a crawl's stats (``crawler.stats.get_stats()``)."""
    prefix = f"{COUNT_PREFIX}{site}/"
    counts = {k[len(prefix):]: v for k, v in stats.items() if k.startswith(prefix)}
    pages = stats.get(site_key(site, "pages_fetched"), 0)
    errors = stats.get(site_key(site, "errors"), 0)
    yielded = stats.get(site_key(site, "article_pages_fetched"), 0) or any(counts.get(r) for r in _YIELDED)
    if yielded:
        state = "partial" if counts.get("list-failed") else "ok"
    else:
        state = "failed" if errors else "empty"
    worth = [(r, n) for r, n in counts.items() if n and (r in _WORTH_SEEING or _is_error(r))]
    return SiteState(site, state, pages, errors, tuple(sorted(worth, key=lambda rn: (-rn[1], rn[0]))))


def _is_error(reason: str) -> bool:
    try:
        return category(reason) == "error"
    except KeyError:
        return False


def run_status(states) -> str:
    """``crawl_runs.status`` of a run that ran to its end: ``finished`` when every site is ok,
    ``failed`` when no site gave anything and no page was fetched, else ``partial``."""
    states = list(states)
    if all(s.state == "ok" for s in states):
        return "finished"
    if all(s.state in ("failed", "empty") for s in states) and not sum(s.pages for s in states):
        return "failed"
    return "partial"
