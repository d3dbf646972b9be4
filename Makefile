# synth: `make demo` generates a dataset on the embedded default; `make test` runs the tests.
# Both bootstrap a fresh machine first (apt packages as root + .venv).

VENV := .venv
STAMP := $(VENV)/.bootstrapped
DEMO_OUT ?= data/demo
DEMO_EPISODES ?= 4

.PHONY: bootstrap demo test test-fast lint format bench clean s3-up s3-down stack-up stack-down deploy llm-demo

bootstrap: $(STAMP)

$(STAMP): pyproject.toml infra/bootstrap.sh infra/infinigen-requirements.txt
	bash infra/bootstrap.sh --infinigen
	touch $@

demo: bootstrap
	$(VENV)/bin/synth run --episodes $(DEMO_EPISODES) --seed 0 --out $(DEMO_OUT) --overwrite
	$(VENV)/bin/synth verify $(DEMO_OUT) --evidence
	$(VENV)/bin/python infra/s3_local.py start --dir data/s3 --bucket synth-demo
	set -a; . data/s3/env; set +a; \
	  $(VENV)/bin/synth push $(DEMO_OUT) s3://synth-demo/demo && \
	  $(VENV)/bin/synth load s3://synth-demo/demo; \
	  status=$$?; $(VENV)/bin/python infra/s3_local.py stop --dir data/s3; exit $$status

s3-up: bootstrap
	$(VENV)/bin/python infra/s3_local.py start --dir data/s3 --bucket synth-demo

llm-demo: bootstrap
	$(VENV)/bin/python infra/llm_model.py
	$(VENV)/bin/python infra/llm_server.py demo

stack-up: bootstrap
	$(VENV)/bin/python infra/local_stack.py up --dir data/prefect

deploy: bootstrap  # the work pool and deployments on the server $PREFECT_API_URL names
	$(VENV)/bin/synth deploy

stack-down:
	$(VENV)/bin/python infra/local_stack.py down --dir data/prefect

s3-down:
	$(VENV)/bin/python infra/s3_local.py stop --dir data/s3

TEST_STAMP := $(VENV)/.bootstrapped-test

$(TEST_STAMP): $(STAMP) infra/oracles-requirements.txt
	bash infra/bootstrap.sh --test
	touch $@

test: $(TEST_STAMP)
	$(VENV)/bin/pytest -q

test-fast: $(TEST_STAMP)
	$(VENV)/bin/pytest -q -m "not slow"

lint: bootstrap
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: bootstrap
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

bench: bootstrap
	$(VENV)/bin/python bench/render.py
	$(VENV)/bin/python bench/programs.py
	$(VENV)/bin/python bench/storage.py
	$(VENV)/bin/python bench/orchestration.py
	$(VENV)/bin/python bench/memory.py
	$(VENV)/bin/python bench/degradations.py

clean:
	rm -rf $(VENV) data build *.egg-info
