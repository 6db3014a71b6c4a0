# The two commands of the README. Everything they need is set up here, on a fresh machine too.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DB     ?= data/demo.duckdb
STAMP  := $(VENV)/.installed

.PHONY: run test install clean-venv

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The main job on the embedded default: crawl the offline mirror of every configured site
# (served on 127.0.0.1), load the seed reports, and show what was stored. Into its own file:
# data/djcrawl.duckdb is for crawls of the real sites only.
run: $(STAMP)
	$(VENV)/bin/djcrawl demo --db $(DB)

test: $(STAMP)
	$(PY) -m pytest -q

clean-venv:
	rm -rf $(VENV)
