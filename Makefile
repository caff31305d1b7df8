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

bench: install ## short benchmarks (a few minutes; figures in docs/benchmarks.md come from bench-full)
	$(BIN)/python bench/extract.py --rounds 10
	$(BIN)/python bench/reextract.py --copies 20
	$(BIN)/python bench/warc_writer.py --records 1000
	$(BIN)/python bench/throughput.py --pages 1000
	$(BIN)/python bench/memory.py --pages 3000 --site-pages 1000 --interval 2
	$(BIN)/python bench/distributed.py --pages 600

.PHONY: bench-full
bench-full: install ## the full figures of docs/benchmarks.md (5,000-page throughput, 50,000-page memory run)
	$(BIN)/python bench/extract.py
	$(BIN)/python bench/reextract.py
	$(BIN)/python bench/reextract.py --malloc system
	$(BIN)/python bench/warc_writer.py
	$(BIN)/python bench/throughput.py --pages 5000 --breakdown
	$(BIN)/python bench/memory.py --pages 50000
	$(BIN)/python bench/distributed.py --pages 2000

clean:
	rm -rf $(VENV) $(TOOLS) data
