# Every habitual command. `make run` and `make test` are the two a newcomer needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

HOST ?= 127.0.0.1
PORT ?= 8000
# uv is bootstrapped with pip when the machine does not have it yet (into the user's
# ~/.local, also where the system Python is marked externally managed, PEP 668).
export PATH := $(HOME)/.local/bin:$(PATH)
UV := uv

.PHONY: help run test test-webapp webapp webapp-deps lint format migrate bench bench-webapp env

help:
	@echo "make run      serve on http://$(HOST):$(PORT) (SQLite, local mode without a token)"
	@echo "make test     every test: pytest on SQLite and PostgreSQL, then the Mini App's"
	@echo "make webapp   build the Mini App (webapp/dist, served at /app/)"
	@echo "make lint     ruff + mypy --strict"
	@echo "make migrate  apply pending migrations to DATABASE_URL"
	@echo "make bench    run every benchmark (server and Mini App) and record results"
	@echo "make bench-webapp  the browser suite, recording the Mini App's figures"

env:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --user uv 2>/dev/null \
		|| python3 -m pip install --quiet uv 2>/dev/null \
		|| python3 -m pip install --quiet --user --break-system-packages uv \
		|| { echo "make: could not install uv with pip: see https://docs.astral.sh/uv/ to install it"; exit 1; }
	@$(UV) sync --frozen --quiet
	@$(MAKE) --no-print-directory .venv/.bytecode-compiled

# Bytecode for every installed package, compiled once per lock, as the Docker image does
# (UV_COMPILE_BYTECODE). Where PYTHONDONTWRITEBYTECODE is set, Python never caches it
# itself, and every process (each test's server, each benchmark start) would compile
# aiogram, SQLAlchemy and the rest again: seconds per start.
.venv/.bytecode-compiled: uv.lock
	@$(UV) sync --frozen --quiet --compile-bytecode
	@touch $@

# The Mini App's dependencies, installed again only when the lock changes.
webapp/node_modules/.package-lock.json: webapp/package-lock.json
	cd webapp && npm ci --no-audit --no-fund

webapp-deps: webapp/node_modules/.package-lock.json

# `make run` still serves the API without Node.js; /app/ then says how to build the app.
webapp:
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory webapp-deps && cd webapp && npm run build \
		|| echo "make: the Mini App build failed; the API still runs, /app/ says it is missing"; \
	else \
		echo "make: npm not found, so the Mini App is not built (install Node.js 20+ for /app/)"; \
	fi

run: env webapp
	$(UV) run python -m app migrate
	$(UV) run python -m app seed-demo
	$(UV) run uvicorn app.main:app --host $(HOST) --port $(PORT)

# What the suites need beyond Python is found (or installed: Chromium from Debian's packages,
# as root) first, so a missing piece is one line now rather than a failure ten minutes in.
test: env
	@scripts/prereqs.sh postgres npm
	@scripts/prereqs.sh chromium >/dev/null
	$(UV) run pytest
	$(MAKE) --no-print-directory test-webapp

# Lint, types, Vitest for the pure parts, the build, then real Chromium against the backend.
test-webapp: env webapp-deps
	@scripts/prereqs.sh npm
	@chromium=$$(scripts/prereqs.sh chromium) && cd webapp && export CHROMIUM_PATH="$$chromium" \
		&& npm run lint && npm run typecheck && npm test && npm run build && npm run test:e2e

lint: env
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy

format: env
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

migrate: env
	$(UV) run python -m app migrate

# Every benchmark of every issue, both engines, then the table in BENCHMARKS.md.
bench: env
	@scripts/prereqs.sh postgres wrk npm
	@scripts/prereqs.sh chromium >/dev/null
	$(UV) run python -m bench --no-report
	$(MAKE) --no-print-directory bench-webapp

bench-webapp: env webapp-deps
	@chromium=$$(scripts/prereqs.sh chromium) && cd webapp && export CHROMIUM_PATH="$$chromium" \
		&& npm run build && E2E_RECORD_BENCH=1 npm run test:e2e
	$(UV) run python -m bench.report
