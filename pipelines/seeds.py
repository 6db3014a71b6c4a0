"""Seed documents: a directory of ``.txt`` reports loaded as ``origin='seed'``.

The files are kept byte for byte in ``seed_files`` and cleaned into ``documents``
with their file stem as ``doc_id``. Every file is read and checked before
anything is written, so a bad file stops the load with nothing half-done.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from .ingest import add_documents
from .decode import decode_bytes
from .document import Document
from .errors import DjcrawlError
from .documents import document_from_text
from .store import Store, UpsertResult

__all__ = ["read_text_file", "seed_documents", "load_seed_dir", "SeedLoad"]

#: The seed reports packaged with djcrawl (``seeds/documents``, package data of ``seeds``),
#: found in a checkout, a wheel or a zipped egg alike.
DEFAULT_SEED_DIR = resources.files("seeds") / "documents"

#: A file or folder on disk, or one inside an installed package (possibly a zip file).
Source = Path | Traversable


def _as_source(path: str | os.PathLike | Traversable) -> Source:
    return Path(path) if isinstance(path, (str, os.PathLike)) else path


def read_text_file(path: Source) -> tuple[bytes, str]:
    """Bytes and decoded text of a text file (UTF-8, GBK or GB18030); one-line errors otherwise."""
    path = _as_source(path)
    if path.is_dir():
        raise DjcrawlError(f"{path}: is a directory, not a file")
    if not path.is_file():
        raise DjcrawlError(f"{path}: no such file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DjcrawlError(f"{path}: cannot read ({exc.strerror})") from exc
    if not data.strip():
        raise DjcrawlError(f"{path}: file is empty")
    head = data[:8192]
    if b"\0" in head:
        raise DjcrawlError(f"{path}: binary file, not text")
    text, _encoding = decode_bytes(data)
    bad = sum(1 for ch in text[:8192] if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\n\r\t\f"))
    if bad > 0.05 * min(len(text), 8192):
        raise DjcrawlError(f"{path}: binary file, not text")
    return data, text


def seed_documents(directory: str | os.PathLike | Traversable) -> list[tuple[Source, bytes, Document]]:
    """Read and clean every ``*.txt`` of a directory, in name order."""
    directory = _as_source(directory)
    if not directory.is_dir():
        if directory.is_file():
            raise DjcrawlError(f"{directory}: not a directory")
        raise DjcrawlError(f"{directory}: no such directory")
    files = sorted((p for p in directory.iterdir() if p.name.endswith(".txt")), key=lambda p: p.name)
    if not files:
        raise DjcrawlError(f"{directory}: no .txt files to load")
    out = []
    for path in files:
        data, text = read_text_file(path)
        doc = document_from_text(text, doc_id=path.name[: -len(".txt")], origin="seed", seed_file=path.name)
        if not doc.text:
            raise DjcrawlError(f"{path}: nothing left after cleaning")
        out.append((path, data, doc))
    return out


@dataclass
class SeedLoad:
    files: int
    result: UpsertResult


def load_seed_dir(store: Store, directory: str | os.PathLike | Traversable = DEFAULT_SEED_DIR) -> SeedLoad:
    """Load a directory of seed reports (by default the packaged ones); loading the same files
    again changes nothing."""
    loaded = seed_documents(directory)
    with store.transaction():  # the files and their documents land together or not at all
        store.put_seed_files((path.name, data) for path, data, _ in loaded)
        result = add_documents(store, [doc for _, _, doc in loaded])
    return SeedLoad(files=len(loaded), result=result)
