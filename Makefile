# lgcloud — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
LGCLOUD   := $(VENV)/bin/lgcloud
PYTEST    := $(VENV)/bin/pytest
# uv from PATH if there is one; otherwise bootstrapped into .tools/ (a venv of
# its own, so it works where the system Python refuses pip installs, PEP 668).
UV        := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
TOKENS    := src/lgcloud/web/static/lgcloud/tokens.css
AXE       := node_modules/axe-core/axe.min.js
HOST      ?= 127.0.0.1
PORT      ?= 8000

# The demo and the tests run with development settings (no HTTPS on loopback).
DEV_ENV := LGCLOUD_ENV=development

.PHONY: help run test test-fast test-pg test-e2e lint install assets system-deps clean drill

help: ## このヘルプ / list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

$(VENV)/.installed: pyproject.toml uv.lock | $(if $(filter .tools/bin/uv,$(UV)),.tools/bin/uv)
	$(UV) sync --frozen
	@touch $@

install: $(VENV)/.installed ## Python 環境を作る / create .venv from uv.lock

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

$(TOKENS): node_modules/.installed
	cp node_modules/@digital-go-jp/design-tokens/dist/tokens.css $(TOKENS)

assets: $(TOKENS) ## デザイントークンを静的ファイルへ / build design tokens into static files

system-deps: ## テスト用の Debian パッケージ（chromium, フォント）/ Debian packages the tests need
	@bash .ci/system-deps

run: install assets ## デモを起動 http://127.0.0.1:8000 / serve the demo on SQLite
	$(DEV_ENV) $(LGCLOUD) migrate --no-input
	$(DEV_ENV) $(LGCLOUD) load_municipalities
	$(DEV_ENV) $(LGCLOUD) demo
	$(DEV_ENV) $(LGCLOUD) publish_procedures
	@# A month of metered use through the real request path and jobs, and an open-data release (docs/metering.md).
	$(DEV_ENV) $(LGCLOUD) demo_usage
	@# The audit sealer runs beside the server (about one pass a second) and stops with it.
	$(DEV_ENV) $(LGCLOUD) audit_seal & sealer=$$!; trap 'kill $$sealer' EXIT; \
	$(DEV_ENV) $(LGCLOUD) runserver $(HOST):$(PORT)

lint: install ## ruff, mypy, import-linter, makemigrations --check
	$(VENV)/bin/ruff check src tests scripts
	$(VENV)/bin/ruff format --check src tests scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(DEV_ENV) LGCLOUD_DATABASE_URL=sqlite:///:memory: $(LGCLOUD) makemigrations --check --dry-run

test: install assets system-deps lint ## 全テスト（lint を含む）/ the full suite, lint included
	$(PYTEST) -m "not postgres"
	$(PYTEST) tests/postgres -m postgres
	$(PYTEST) tests/concurrency -m postgres
	$(PYTEST) tests/failover -m postgres
	$(PYTEST) tests/placement -m postgres

test-pg: install ## PostgreSQL 15 の使い捨てクラスタでのテスト（RLS）/ the PostgreSQL tests (RLS) on a throwaway cluster
	$(PYTEST) tests/postgres -m postgres
	$(PYTEST) tests/concurrency -m postgres
	$(PYTEST) tests/placement -m postgres

drill: install ## 東西フェイルオーバー訓練（主系を SIGKILL、RPO/RTO を報告）/ failover drill: kill the primary, report RPO and RTO
	$(VENV)/bin/python -m tests.failover.drill --write bench/results/failover-drill-$$(date -u +%Y-%m-%d).md

test-e2e: install assets system-deps ## ブラウザのテスト（Playwright + axe-core）/ the browser tests
	$(PYTEST) tests/e2e -m e2e

test-fast: install assets ## ブラウザと PostgreSQL を除くテスト / tests without browser and PostgreSQL
	$(PYTEST) -m "not e2e and not postgres"

clean: ## 生成物を削除 / remove build output (keeps var/)
	rm -rf $(VENV) .tools node_modules $(TOKENS) .pytest_cache .mypy_cache .ruff_cache
