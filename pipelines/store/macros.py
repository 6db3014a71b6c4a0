"""``macros.sql`` applied to the file: run again by a writing open whenever its sha256
differs from the one kept in ``store_macros``, which also names what it defined, so
that a macro or view taken out of the file is dropped from the database too."""

from __future__ import annotations

import hashlib
import re
from importlib import resources

from .connection import Connection

__all__ = ["macros_sql", "defined_names", "stale", "apply"]

_DEFINED = re.compile(r"^CREATE OR REPLACE (MACRO|VIEW) (\w+)", re.MULTILINE)


def macros_sql() -> str:
    return resources.files(__package__).joinpath("macros.sql").read_text(encoding="utf-8")


def defined_names(sql: str) -> list[str]:
    """The macros and views ``sql`` defines, in order (a name defined twice, twice)."""
    return [name for _kind, name in _DEFINED.findall(sql)]


def _stored(store: Connection) -> tuple[str | None, list[str]]:
    row = store.con.execute("SELECT sha256, objects FROM store_macros").fetchone()
    return (row[0], list(row[1])) if row else (None, [])


def stale(store: Connection) -> bool:
    """True if the macros in the file are not those of this code's ``macros.sql``."""
    return _stored(store)[0] != hashlib.sha256(macros_sql().encode("utf-8")).hexdigest()


def apply(store: Connection) -> None:
    """Run ``macros.sql`` and record it; drop what an earlier version defined and this one
    does not. Inside the caller's transaction (the migrations'), if any."""
    sql = macros_sql()
    with store.transaction():
        _sha, before = _stored(store)
        store.con.execute(sql)
        names = set(defined_names(sql))
        # kinds from the catalog: DROP needs to know a view, a macro and a table macro apart
        objects = [f"{kind} {name}" for kind, name in store.con.execute(
            """SELECT CASE function_type WHEN 'table_macro' THEN 'MACRO TABLE' ELSE 'MACRO' END, function_name
               FROM duckdb_functions() WHERE NOT internal AND schema_name = 'main'
                 AND database_name = current_database() AND function_name IN (SELECT unnest(?::VARCHAR[]))
               UNION ALL
               SELECT 'VIEW', view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'
                 AND database_name = current_database() AND view_name IN (SELECT unnest(?::VARCHAR[]))
               ORDER BY 2""", [sorted(names), sorted(names)]).fetchall()]
        for gone in before:
            kind, _, name = gone.rpartition(" ")
            if name not in names:
                store.con.execute(f"DROP {kind} IF EXISTS {name}")
        store.con.execute("DELETE FROM store_macros")
        store.con.execute("INSERT INTO store_macros VALUES (?, ?, now())",
                          [hashlib.sha256(sql.encode("utf-8")).hexdigest(), objects])
