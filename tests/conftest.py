"""Shared pytest fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def mirror():
    """The offline mirror of the configured sites, serving on 127.0.0.1 for the whole session."""
    from crawler.mirror import MirrorServer

    with MirrorServer() as server:
        yield server
