"""The text cleaner: boilerplate out, metadata lifted, layout repaired.

:mod:`pipelines.clean.rules` is the vocabulary (boilerplate and metadata patterns, as
data); :mod:`pipelines.clean.cascade` applies it (its docstring lists the steps).
"""

from .cascade import Cleaned, clean_text, split_names

__all__ = ["Cleaned", "clean_text", "split_names"]
