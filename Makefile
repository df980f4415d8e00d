# Everything runs in a local virtual environment, created on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test train transfer ablation bench bench-dask bench-serve screenshot install-dev clean

$(VENV)/.runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install-dev: $(VENV)/.dev

## Score the sample listing with the bundled model.
demo: $(VENV)/.runtime
	$(VENV)/bin/overclaim score --file examples/listing.txt

## Install the test dependencies, type-check the package and run every test.
test: $(VENV)/.dev
	$(PY) -m mypy
	$(PY) -m pytest -q

## Validate the corpus, train, evaluate (grouped CV and the transfer report) and write model/.
train: $(VENV)/.dev
	$(PY) -m train --output model

## Score the public, human-labeled sets of ../shared/external/ zero-shot with the bundled model, beside baselines.
transfer: $(VENV)/.dev
	$(PY) -m train.transfer

## Each modelling choice on both evaluations; writes model/ablation.json, which `make train` puts in the card.
ablation: $(VENV)/.dev
	$(PY) -m train.ablation --output model

## Benchmarks: score_many on one core, then batch --jobs 2 on a generated 1,000,000-row CSV.
bench: $(VENV)/.dev
	$(PY) bench/score_many.py
	$(PY) bench/batch.py --rows 1000000 --jobs 2

## Dask engine: rows/s on a LocalCluster of 1 worker, then 2, on a generated 200,000-row CSV.
bench-dask: $(VENV)/.dev
	$(PY) bench/dask_scaling.py --rows 200000

## HTTP service: 16 clients on loopback then a bad-input storm; the web page with a 100 KB paste in Chromium.
bench-serve: $(VENV)/.dev
	$(PY) bench/serve_load.py --workers 2 --seconds 20
	$(PY) bench/web_page.py

## Refresh the README's screenshot of the web page (needs /usr/bin/chromium).
screenshot: $(VENV)/.dev
	OVERCLAIM_SCREENSHOT=docs/web-page.png $(PY) -m pytest -q tests/test_browser.py -k seed_paragraph

clean:
	rm -rf $(VENV) build dist *.egg-info
