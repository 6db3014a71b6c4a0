"""Plain-text tables for the terminal, aligned for Chinese (wide) characters."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import unicodedata
from collections.abc import Sequence

__all__ = ["format_table", "format_csv", "format_json", "format_jsonl", "display_width", "cell"]

#: Cells longer than this are cut in tables (not in csv or json).
MAX_CELL = 40


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cut(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("\n", " ")


def format_table(columns: Sequence[str], rows: Sequence[Sequence], max_cell: int = MAX_CELL) -> str:
    cells = [[_cut(cell(v), max_cell) for v in row] for row in rows]
    widths = [display_width(c) for c in columns]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], display_width(c))

    def line(values):
        return "  ".join(v + " " * (widths[i] - display_width(v)) for i, v in enumerate(values)).rstrip()

    out = [line(list(columns)), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


def format_csv(columns: Sequence[str], rows: Sequence[Sequence]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return buf.getvalue().rstrip("\n")


def _jsonable(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def format_json(columns: Sequence[str], rows: Sequence[Sequence]) -> str:
    return json.dumps([{c: _jsonable(v) for c, v in zip(columns, row)} for row in rows], ensure_ascii=False, indent=2)


def format_jsonl(columns: Sequence[str], rows: Sequence[Sequence]) -> str:
    """One JSON object a line (JSON Lines), for tools that read a row at a time."""
    return "\n".join(json.dumps({c: _jsonable(v) for c, v in zip(columns, row)}, ensure_ascii=False)
                     for row in rows)
