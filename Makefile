# Every habitual command. `make run` and `make test` are the two a newcomer needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

HOST ?= 127.0.0.1
PORT ?= 8000
# uv is bootstrapped with pip when the machine does not have it yet.
export PATH := $(HOME)/.local/bin:$(PATH)
UV := uv

.PHONY: help run test lint format migrate bench env

help:
	@echo "make run      serve on http://$(HOST):$(PORT) (SQLite, local mode without a token)"
	@echo "make test     every test, on SQLite and PostgreSQL"
	@echo "make lint     ruff + mypy --strict"
	@echo "make migrate  apply pending migrations to DATABASE_URL"
	@echo "make bench    run the benchmarks and record results"

env:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --user uv \
		|| python3 -m pip install --quiet uv
	@$(UV) sync --frozen --quiet

run: env
	$(UV) run python -m app migrate
	$(UV) run python -m app seed-demo
	$(UV) run uvicorn app.main:app --host $(HOST) --port $(PORT)

test: env
	$(UV) run pytest

lint: env
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy

format: env
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

migrate: env
	$(UV) run python -m app migrate

bench: env
	$(UV) run python -m bench
