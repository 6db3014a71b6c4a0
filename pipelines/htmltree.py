"""INTERIM: replaced by the extraction layers (rd-extract)."""

from .extract import _parse as parse_html

__all__ = ["parse_html"]
