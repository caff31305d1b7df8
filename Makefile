# newsvault: the README shows `make demo` and `make test` first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools

.PHONY: demo test install system-deps lint format schema-docs bench clean

demo: install ## offline crawl of the bundled Sputnik replay; prints where items and WARCs landed
	$(BIN)/python -m replay.demo

test: install system-deps ## install everything, lint, run the whole suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -W error::scrapy.exceptions.ScrapyDeprecationWarning

install: $(VENV)/.installed $(TOOLS)/replay/.installed $(TOOLS)/pywb/.installed ## idempotent: .venv from the lock

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip sync -q --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $@

# Test and demo harness tools live in their own virtualenvs: mitmproxy (the replay proxy) pins
# pyOpenSSL below what Scrapy needs, and pywb is GPL and only ever run as an external reader.
$(TOOLS)/%/.installed: tools/%.lock $(VENV)/.installed
	test -x $(TOOLS)/$*/bin/python || $(PY) -m venv $(TOOLS)/$*
	$(BIN)/uv pip sync -q --python $(TOOLS)/$*/bin/python tools/$*.lock
	touch $@

system-deps: ## Debian packages the tests use (root; skipped when already present)
	bash tools/system-deps.sh

lint:
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format:
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

schema-docs: install
	$(BIN)/python -m crawlers.schema_docs > docs/schema.md

bench: install
	$(BIN)/python bench/extract.py

clean:
	rm -rf $(VENV) $(TOOLS) data
