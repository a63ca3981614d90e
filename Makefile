# monoir-rs: `make demo` and `make test` work on a fresh machine (they install first).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip >/dev/null
	$(BIN)/pip install -e ".[dev]"
	touch $(STAMP)

demo: install
	bash scripts/demo.sh

test: install
	$(BIN)/python -m pytest -q --timeout=900

bench: install
	$(BIN)/python bench/retrieval.py
	$(BIN)/python bench/vlm.py
	$(BIN)/python bench/build_scale.py --n 10000,100000

lint: install
	$(BIN)/ruff check monoir_rs harness tests bench

clean:
	rm -rf $(VENV) demo_out
