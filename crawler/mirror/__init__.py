"""The offline mirror of the configured sites (loopback HTTP server + page data)."""

from .server import MirrorServer

__all__ = ["MirrorServer"]
