"""``djcrawl report``: one self-contained HTML file of charts about the database.

The charts are drawn by plotly (plotly.js, inlined once in the page's head), so the file
opens anywhere, offline, with nothing to install and no request made when it is viewed.
What they show is read by :class:`pipelines.store.Store` (``pipelines/store/report.py``);
this module only draws it. Each chart is a ``<div class="chart" id="chart-NAME">``.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import DjcrawlError

from .options import db_path, open_reader

__all__ = ["cmd_report", "render_report", "CHARTS", "PLOTLY_SCRIPT_ID"]

#: id of the ``<script>`` holding plotly.js (the only script that is not a chart's).
PLOTLY_SCRIPT_ID = "plotly-js"

#: The charts, in page order: name -> (title, what it shows).
CHARTS = {
    "site-month": ("Documents per site and month",
                   "Documents by publish date, stacked by site (documents without a date are left out)."),
    "runs": ("New documents per run",
             "Documents each crawl stored new, and those it changed; runs through a mirror are marked."),
    "errors": ("Errors per site, by reason",
               "Every error counted over all runs (crawler/outcomes.py, category error)."),
    "reasons": ("Outcomes per site, by reason",
                "Every page, request and list step counted over all runs, grouped by category."),
    "keywords": ("Top keywords",
                 "The keywords most reports carry (TF-IDF, ten a document; reprints counted once)."),
    "reprints": ("Reprint clusters",
                 "The largest groups of copies of one report (MinHash), titled by the original."),
    "relevance": ("Relevance distribution",
                  "Closeness to the seed reports, 0..1, in bins of 0.05, by origin."),
}

_CATEGORY_COLOURS = {"document": "#2ca02c", "not-article": "#7f7f7f", "skipped": "#1f77b4",
                     "list": "#9467bd", "error": "#d62728", "unknown": "#bcbd22"}
_TITLE_CHARS = 28


@dataclass
class ReportData:
    totals: dict
    site_month: list
    runs: list
    counts: list
    keywords: list
    reprints: list
    relevance: list


def gather(store) -> ReportData:
    return ReportData(totals=store.report_totals(), site_month=store.documents_per_site_month(),
                      runs=store.documents_per_run(), counts=store.counts_per_site_reason(),
                      keywords=store.top_keywords(20), reprints=store.largest_reprint_clusters(20),
                      relevance=store.relevance_histogram())


def _category(reason: str) -> str:
    from ..outcomes import category

    try:
        return category(reason)
    except KeyError:
        return "unknown"


def _short(text: str | None, limit: int = _TITLE_CHARS) -> str:
    text = (text or "").strip() or "(untitled)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _empty(go, message: str):
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 16})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _figures(data: ReportData) -> dict:
    import plotly.graph_objects as go

    figs = {}

    sites = sorted({s for s, _m, _n in data.site_month})
    if sites:
        # xperiod: each bar a month wide, so a month stays visible on a span of years
        fig = go.Figure([go.Bar(name=site, x=[m for s, m, _n in data.site_month if s == site],
                                y=[n for s, _m, n in data.site_month if s == site],
                                xperiod="M1", xperiodalignment="middle") for site in sites])
        fig.update_layout(barmode="stack", xaxis_title="month published", yaxis_title="documents")
        figs["site-month"] = fig
    else:
        figs["site-month"] = _empty(go, "no dated documents yet")

    if data.runs:
        labels = [f"{started:%Y-%m-%d %H:%M:%S}{' (mirror)' if mirror else ''}"
                  for _r, started, _new, _upd, mirror in data.runs]
        fig = go.Figure([
            go.Bar(name="new", x=labels, y=[r[2] for r in data.runs], marker_color="#2ca02c",
                   customdata=[r[0] for r in data.runs], hovertemplate="%{customdata}: %{y} new<extra></extra>"),
            go.Bar(name="updated", x=labels, y=[r[3] for r in data.runs], marker_color="#ff7f0e",
                   customdata=[r[0] for r in data.runs], hovertemplate="%{customdata}: %{y} updated<extra></extra>"),
        ])
        fig.update_layout(barmode="stack", xaxis_title="run started", xaxis_type="category",
                          yaxis_title="documents")
        figs["runs"] = fig
    else:
        figs["runs"] = _empty(go, "no crawl run yet")

    figs["errors"] = _reasons_figure(go, [c for c in data.counts if _category(c[1]) == "error"], "no errors counted")
    figs["reasons"] = _reasons_figure(go, data.counts, "no crawl counted anything yet")

    if data.keywords:
        words = list(reversed(data.keywords))  # the most frequent at the top
        fig = go.Figure(go.Bar(x=[n for _w, n in words], y=[w for w, _n in words], orientation="h",
                               marker_color="#1f77b4"))
        fig.update_layout(xaxis_title="documents", yaxis_type="category",
                          height=max(360, 24 * len(words) + 120))
        _whole_numbers(fig.update_xaxes, max(n for _w, n in words))
        figs["keywords"] = fig
    else:
        figs["keywords"] = _empty(go, "no keywords yet")

    if data.reprints:
        rows = list(reversed(data.reprints))
        fig = go.Figure(go.Bar(
            x=[copies for _o, _t, copies, _s in rows],
            y=[f"{_short(title)} ({original})" for original, title, _c, _s in rows], orientation="h",
            customdata=[", ".join(sites) for *_x, sites in rows], marker_color="#9467bd",
            hovertemplate="%{y}<br>%{x} copies on %{customdata}<extra></extra>"))
        fig.update_layout(xaxis_title="copies", yaxis_type="category", height=max(360, 28 * len(rows) + 120))
        _whole_numbers(fig.update_xaxes, max(r[2] for r in rows))
        figs["reprints"] = fig
    else:
        figs["reprints"] = _empty(go, "no reprints found")

    origins = sorted({o for o, _b, _n in data.relevance})
    if origins:
        fig = go.Figure([go.Bar(name=origin, x=[b for o, b, _n in data.relevance if o == origin],
                                y=[n for o, _b, n in data.relevance if o == origin], offset=0, width=0.05)
                         for origin in origins])
        fig.update_layout(barmode="stack", xaxis_title="relevance", xaxis_range=[0, 1], yaxis_title="documents")
        figs["relevance"] = fig
    else:
        figs["relevance"] = _empty(go, "no scored documents yet")

    for fig in figs.values():
        fig.update_layout(margin={"l": 60, "r": 30, "t": 30, "b": 60}, template="plotly_white",
                          legend={"orientation": "v"})
    return figs


def _reasons_figure(go, counts: list, nothing: str):
    if not counts:
        return _empty(go, nothing)
    sites = sorted({s for s, _r, _n in counts}, reverse=True)  # alphabetical from the top
    reasons = sorted({r for _s, r, _n in counts}, key=lambda r: (_category(r), r))
    by = {(s, r): n for s, r, n in counts}
    traces = []
    for reason in reasons:
        cat = _category(reason)
        traces.append(go.Bar(
            name=reason, legendgroup=cat, legendgrouptitle_text=cat, orientation="h",
            y=[s for s in sites if (s, reason) in by], x=[by[s, reason] for s in sites if (s, reason) in by],
            marker_line_color=_CATEGORY_COLOURS[cat], marker_line_width=1.5,
            hovertemplate=f"%{{y}}: %{{x}} {reason}<extra>{cat}</extra>"))
    fig = go.Figure(traces)
    fig.update_layout(barmode="stack", xaxis_title="count (all runs)", yaxis_type="category",
                      height=max(360, 32 * len(sites) + 140))
    _whole_numbers(fig.update_xaxes, max(sum(n for s2, _r, n in counts if s2 == s) for s in sites))
    return fig


def _whole_numbers(update_axis, largest: int) -> None:
    """Counts have no fractions: a short axis gets a tick at each whole number."""
    if largest <= 10:
        update_axis(tick0=0, dtick=1)


def _totals_html(totals: dict, db: Path) -> str:
    first, last = totals["first_published"], totals["last_published"]
    rows = [("database", str(db)),
            ("documents", f"{totals['documents']:,} ({totals['originals']:,} without the reprints)"),
            ("with a publish date", f"{totals['dated']:,}"
             + (f", {first.isoformat()} to {last.isoformat()}" if first and last else "")),
            ("pages kept", f"{totals['pages']:,}"), ("crawl runs", f"{totals['runs']:,}")]
    return "<table class=\"totals\">" + "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows) + "</table>"


_STYLE = """
body { font-family: system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin: 1.6em 0 .2em; }
p.caption { color: #555; margin: 0 0 .4em; } p.generated { color: #777; }
table.totals { border-collapse: collapse; } table.totals th, table.totals td { text-align: left;
       padding: .2em 1.2em .2em 0; border-bottom: 1px solid #eee; }
"""


def render_report(data: ReportData, *, db: Path, generated: dt.datetime) -> str:
    """The whole page: plotly.js inlined once, then the totals and one section a chart."""
    from plotly.offline import get_plotlyjs

    sections = []
    for name, fig in _figures(data).items():
        title, caption = CHARTS[name]
        div = fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{name}",
                          config={"displaylogo": False, "responsive": True})
        sections.append(f"<section><h2>{html.escape(title)}</h2>"
                        f"<p class=\"caption\">{html.escape(caption)}</p>"
                        f"<div class=\"chart\" data-chart=\"{name}\">{div}</div></section>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>djcrawl report: {html.escape(db.name)}</title><style>{_STYLE}</style>"
        f"<script id=\"{PLOTLY_SCRIPT_ID}\" type=\"text/javascript\">{get_plotlyjs()}</script></head><body>"
        f"<h1>djcrawl report</h1><p class=\"generated\">generated {generated:%Y-%m-%d %H:%M:%S}</p>"
        f"{_totals_html(data.totals, db)}{''.join(sections)}</body></html>\n"
    )


def cmd_report(args) -> int:
    out = Path(args.out)
    if out.is_dir():
        raise DjcrawlError(f"{out} is a directory; --out names the HTML file to write")
    if not out.parent.is_dir():
        raise DjcrawlError(f"{out.parent} does not exist; make it first or choose another --out")
    db = db_path(args.db)
    with open_reader(str(db)) as store:
        data = gather(store)
    page = render_report(data, db=db, generated=dt.datetime.now())
    tmp = out.with_name(f".{out.name}.part")
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DjcrawlError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"report of {data.totals['documents']:,} documents and {data.totals['runs']:,} runs written to {out} "
          f"({len(page.encode('utf-8')) // 1024:,} KB, {len(CHARTS)} charts, opens offline)")
    return 0
