"""Evaluation gate: extraction quality on the gold pages may not fall below recorded floors.

Like trafilatura's own evaluation in its test suite: the whole chain users get
(``document_from_html``) runs on every gold page in tests/fixtures/real_sites and is
scored by ``benchmarks/scoring.py``, the same code ``benchmarks/extraction.py`` prints
its table with. The floors in tests/eval_floors.json are measured values; raise them
when a change improves the scores, never lower them to let a change in. No timing here:
speed is measured by the benchmark only.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from benchmarks.extraction import run

FLOORS = json.loads((Path(__file__).parent / "eval_floors.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def result():
    return run(timing=False)


def test_every_gold_page_is_scored(result):
    assert result["summary"]["pages"] >= FLOORS["pages"]


def test_mean_body_f1_floor(result):
    assert result["summary"]["ours"]["mean_f1"] >= FLOORS["mean_f1"]


def test_min_body_f1_floor(result):
    worst = min(result["pages"], key=lambda r: r["ours"]["f1"] if r["gold_kind"] == "text" else 2)
    assert worst["ours"]["f1"] >= FLOORS["min_f1"], worst["page"]


def test_snippet_pages_floor(result):
    # trafilatura's eval pages: the "with" snippets present, the "without" boilerplate absent
    scores = [r["ours"]["f1"] for r in result["pages"] if r["gold_kind"] == "snippets"]
    assert scores and min(scores) >= FLOORS["min_snippet_f1"]


def test_date_accuracy_floor(result):
    assert result["summary"]["ours"]["date_accuracy"] >= FLOORS["date_accuracy"]


def test_title_accuracy_floor(result):
    assert result["summary"]["ours"]["title_accuracy"] >= FLOORS["title_accuracy"]


def test_author_accuracy_floor(result):
    assert result["summary"]["ours"]["author_accuracy"] >= FLOORS["author_accuracy"]


def test_better_than_plain_trafilatura(result):
    ours, traf = result["summary"]["ours"], result["summary"]["trafilatura"]
    assert ours["mean_f1"] > traf["mean_f1"]
    assert ours["mean_p"] > traf["mean_p"]  # precision is trafilatura's weak side on these pages
    assert statistics.fmean(r["ours"]["f1"] >= r["trafilatura"]["f1"] - 0.02 for r in result["pages"]) >= 0.9
