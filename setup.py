# scrapyd-deploy builds its egg with `python setup.py bdist_egg`; without this file it writes
# one of its own into the checkout, whose name, version and entry points pyproject.toml
# overrides. Everything (packages, package data, the `scrapy` settings entry point) is there.
from setuptools import setup

setup()
