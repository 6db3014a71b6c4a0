"""What travels through Redis between nodes and the loader, as JSON.

Never pickle: whatever can write to the crawl's Redis could otherwise run code in every node
and in the loader that reads it. The payloads are the project's own records (Page with its
bytes, Document with dates and lists, IndexEntry with its bands) and plain values; each record
is written with its class name and read back only as one of :data:`RECORDS`, so a message can
carry data and nothing else.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import numbers

from pipelines.document import Document
from pipelines.index.entry import IndexEntry
from pipelines.page import Page

__all__ = ["RECORDS", "dumps", "loads"]

#: The classes a message may hold, by name.
RECORDS = {cls.__name__: cls for cls in (Page, Document, IndexEntry)}


def _enc(value):
    if value is None or isinstance(value, (str, bool, float)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)  # numpy's integers too (signatures)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dt.datetime):  # before date: a datetime is a date
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    if isinstance(value, tuple):
        return {"$t": [_enc(v) for v in value]}
    if isinstance(value, list):
        return [_enc(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {"$s": [_enc(v) for v in value]}
    if isinstance(value, dict):
        return {"$m": [[_enc(k), _enc(v)] for k, v in value.items()]}
    name = type(value).__name__
    if dataclasses.is_dataclass(value) and RECORDS.get(name) is type(value):
        return {"$r": name, "f": {f.name: _enc(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    raise TypeError(f"a {name} cannot be sent through the frontier")


def _dec(value):
    if isinstance(value, list):
        return [_dec(v) for v in value]
    if not isinstance(value, dict):
        return value
    (tag, body), *rest = value.items()
    if tag == "$b":
        return base64.b64decode(body)
    if tag == "$dt":
        return dt.datetime.fromisoformat(body)
    if tag == "$d":
        return dt.date.fromisoformat(body)
    if tag == "$t":
        return tuple(_dec(v) for v in body)
    if tag == "$s":
        return {_dec(v) for v in body}
    if tag == "$m":
        return {_hashable(_dec(k)): _dec(v) for k, v in body}
    if tag == "$r" and body in RECORDS:
        cls = RECORDS[body]
        fields = {k: _dec(v) for k, v in rest[0][1].items()}
        init = {f.name for f in dataclasses.fields(cls) if f.init}
        record = cls(**{k: v for k, v in fields.items() if k in init})
        for k, v in fields.items():
            if k not in init:
                setattr(record, k, v)
        return record
    raise ValueError(f"not a frontier message: {tag} {str(body)[:40]}")


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


def dumps(payload) -> bytes:
    return json.dumps(_enc(payload), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(raw: bytes):
    return _dec(json.loads(raw))
