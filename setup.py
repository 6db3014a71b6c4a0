# scrapyd-deploy builds its egg with `python setup.py bdist_egg` and writes a setup.py of its
# own when there is none, whose settings pyproject.toml overrides. Everything is in pyproject.toml.
from setuptools import setup

setup()
