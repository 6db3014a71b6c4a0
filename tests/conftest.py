"""Shared pytest fixtures."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(scope="session")
def mirror():
    """The offline mirror of the configured sites, serving on 127.0.0.1 for the whole session."""
    from crawler.mirror import MirrorServer

    with MirrorServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _no_crawl_outlives_its_test():
    """A crawl child process (tests/faults/crawl.py) that a failing test left running is killed."""
    yield
    crawls = sys.modules.get("faults.crawl")
    if crawls is not None:
        crawls.kill_leftover_crawls()
