"""The command line explains itself: help for every option of every command, `--version`,
one-line errors for an empty query and the mirror's bad ports; and the README holds the
tables it promises (every reason of crawler/outcomes.py, the columns of `pages` and
`crawl_run_counts`)."""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from crawler.cli import build_parser, main
from crawler.outcomes import OUTCOMES
from pipelines.store import Store

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions
            if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))]


def test_every_option_and_argument_of_every_command_has_help():
    parser = build_parser()
    subs = commands(parser)
    assert {"export", "report", "query", "search", "crawl"} <= set(subs)
    missing = [f"djcrawl {a.option_strings or a.dest}" for a in options(parser)
               if not a.help or a.help == argparse.SUPPRESS]
    for name, sub in subs.items():
        missing += [f"djcrawl {name} {'/'.join(a.option_strings) or a.dest}" for a in options(sub)
                    if not a.help or a.help == argparse.SUPPRESS]
    assert missing == []
    helps = {a.dest: a.help for a in parser._subparsers._group_actions[0]._choices_actions}
    assert set(helps) == set(subs) and all(helps.values())


def test_help_of_every_command_prints(capsys):
    for name in commands(build_parser()):
        with pytest.raises(SystemExit) as exit_:
            main([name, "--help"])
        assert exit_.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: djcrawl {name}")


def test_version_is_the_installed_one_and_the_projects(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert capsys.readouterr().out.strip() == f"djcrawl {version('djcrawl')}" == f"djcrawl {project}"
    done = subprocess.run([sys.executable, "-m", "crawler.cli", "--version"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"djcrawl {project}"


@pytest.mark.parametrize("sql", ["", "   ", ";", "-- only a comment"])
def test_a_query_without_a_statement_is_one_error_line(tmp_path, capsys, sql):
    db = tmp_path / "db.duckdb"
    Store(db).close()
    assert main(["query", sql, "--db", str(db)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and "no statement" in lines[0], captured.err


def mirror(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawler.mirror", *argv], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_the_mirrors_help_and_bad_ports():
    done = mirror("--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: python -m crawler.mirror")
    assert "DJ_MIRROR_URL" in done.stdout and done.stderr == ""
    for bad in ("abc", "70000"):
        done = mirror(bad)
        assert done.returncode == 2 and "is not a port number" in done.stderr and "Traceback" not in done.stderr
    with socket.create_server(("127.0.0.1", 0)) as taken:
        done = mirror(str(taken.getsockname()[1]))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "cannot listen on 127.0.0.1" in done.stderr


# --------------------------------------------------------------------------- README


def reasons_table() -> str:
    """The README's table of reasons, as crawler/outcomes.py defines them (paste it when it changes)."""
    rows = ["| reason | category | meaning |", "|---|---|---|"]
    for o in OUTCOMES.values():
        reason = f"`{o.reason}…`" if o.reason.endswith("-") else f"`{o.reason}`"
        rows.append(f"| {reason} | {o.category} | {o.meaning.replace('|', '/')} |")
    return "\n".join(rows)


def readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{title}\n")
    end = text.find("\n#", start + 1)
    return text[start:end if end != -1 else len(text)]


def test_the_readme_lists_every_reason_as_outcomes_defines_it():
    text = README.read_text(encoding="utf-8")
    assert reasons_table() in text, "README's reason table differs from crawler/outcomes.py; paste:\n" + reasons_table()


def table_columns(store: Store, table: str) -> list[str]:
    return [r[0] for r in store.query(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [table])[1]]


@pytest.mark.parametrize("table", ["pages", "crawl_run_counts", "exports"])
def test_the_readme_documents_every_column(tmp_path, table):
    with Store(tmp_path / "db.duckdb") as store:
        columns = table_columns(store, table)
    text = README.read_text(encoding="utf-8")
    head = f"`{table}` —"
    assert head in text, f"README has no table of the columns of {table}"
    section = text[text.index(head):]
    section = section[:section.index("\n\n", section.index("| column |"))]
    documented = re.findall(r"^\| `([a-z_]+)`", section, flags=re.MULTILINE)
    assert documented == columns


def test_the_readme_says_how_to_reach_the_installed_command():
    text = README.read_text(encoding="utf-8")
    start = text.index("### Getting started")
    paragraph = text[start:text.index("\n## ", start)]
    assert ".venv/bin/djcrawl" in paragraph and "source .venv/bin/activate" in paragraph
    assert (ROOT / ".venv" / "bin" / "djcrawl").exists()  # what the paragraph names is what make installs
