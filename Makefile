# The two commands of the README: `make demo` and `make test`. Each does all the set-up it needs,
# once: system packages (apt-get), a .venv in the repo root, and the package with its dev extras.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
BANDMATE := $(VENV)/bin/bandmate
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := fluidsynth fluid-soundfont-gm ffmpeg chromium
# torch's CPU wheel may lie in a local wheel folder; pip's own configuration usually names it too.
WHEELS := $(wildcard /opt/wheels)
FIND_LINKS := $(if $(WHEELS),--find-links $(WHEELS),)

.PHONY: demo test lint bench setup system-packages clean

demo: setup
	$(BANDMATE) demo -o out --force

test: setup
	$(PY) -m pytest -n 2 -q

lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

bench: setup
	$(PY) bench/render.py

setup: system-packages $(VENV)/.installed

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	[ -x $(PY) ] || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(FIND_LINKS) "torch==2.13.0"
	$(PY) -m pip install -q $(FIND_LINKS) -e ".[dev]"
	touch $@

clean:
	rm -rf $(VENV) out .pytest_cache
