# One entry point for humans and CI.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# a plain `pip install .`, as users get it: the README's commands are tested in it
PLAIN := .venv-plain
HOME_DIR ?= lakegate-data
HTTP_PORT ?= 8090

.PHONY: up install dev plain lint fmt test bench docs clean services system-deps

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

dev: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	# awswrangler caps pyarrow below 26 (lakegate pins 26); it runs on 26, so it comes without its pins
	$(BIN)/pip install --quiet --no-deps awswrangler==3.17.1
	$(BIN)/python scripts/spark_s3a_jars.py $(VENV)/spark-jars

plain:
	test -x $(PLAIN)/bin/python || $(PY) -m venv $(PLAIN)
	$(PLAIN)/bin/pip install --quiet .

up: install
	$(BIN)/lakegate up --home $(HOME_DIR) --http-port $(HTTP_PORT)

lint: dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

fmt: dev
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

services:
	bash .ci/services

system-deps:
	bash .ci/system-deps

test: dev plain system-deps services lint
	$(BIN)/pytest -q -p no:cacheprovider --durations=25

bench: install
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/arrival_to_query.py
	$(BIN)/python bench/query_overhead.py
	$(BIN)/python bench/tpch.py --scale 0.2
	$(BIN)/python bench/planning.py
	$(BIN)/python bench/athena_api.py

docs: install
	$(BIN)/python -m lakegate.docs_gen settings > docs/settings.md
	$(BIN)/python -m lakegate.docs_gen types > docs/types.md
	$(BIN)/python -m lakegate.docs_gen errors > docs/errors.md

clean:
	rm -rf $(VENV) $(PLAIN) build src/*.egg-info
