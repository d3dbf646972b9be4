# synth: `make demo` generates a dataset on the embedded default; `make test` runs the tests.
# Both bootstrap a fresh machine first (apt packages as root + .venv).

VENV := .venv
STAMP := $(VENV)/.bootstrapped
DEMO_OUT ?= data/demo
DEMO_EPISODES ?= 4

.PHONY: bootstrap demo test test-fast lint format bench clean

bootstrap: $(STAMP)

$(STAMP): pyproject.toml infra/bootstrap.sh
	bash infra/bootstrap.sh
	touch $@

demo: bootstrap
	$(VENV)/bin/synth run --episodes $(DEMO_EPISODES) --seed 0 --out $(DEMO_OUT) --overwrite
	$(VENV)/bin/synth verify $(DEMO_OUT)

test: bootstrap
	$(VENV)/bin/pytest -q

test-fast: bootstrap
	$(VENV)/bin/pytest -q -m "not slow"

lint: bootstrap
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: bootstrap
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

bench: bootstrap
	$(VENV)/bin/python bench/render.py
	$(VENV)/bin/python bench/programs.py

clean:
	rm -rf $(VENV) data build *.egg-info
