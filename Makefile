# korepyd: the commands a developer and CI use. Everything sets itself up.

PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: run test test-slow lint check golden man clean

# Create the virtualenv and install korepyd with its test and lint tools.
$(STAMP): pyproject.toml
	@echo "==> creating the virtualenv in $(VENV)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> installing korepyd and its dependencies"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,lint]'
	@touch $(STAMP)

# Serve the bundled example site on http://127.0.0.1:8888 (Ctrl-C stops it).
run: $(STAMP)
	@echo "==> serving examples/site with conf/kore.conf on http://127.0.0.1:8888 (Ctrl-C stops)"
	@$(BIN)/korepyd -c conf/kore.conf

# Every test.
test: $(STAMP)
	$(BIN)/python -m pytest

# The long tests: the Autobahn compression cases (several minutes).
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

lint: $(STAMP)
	$(BIN)/ruff check korepyd tests

# Check a configuration: make check CONF=path/to/kore.conf
check: $(STAMP)
	$(BIN)/korepyd -t -c $(CONF)

# Rewrite the expected results of the config golden files (review the diff!).
golden: $(STAMP)
	KOREPYD_BLESS=1 $(BIN)/python -m pytest tests/config/test_golden.py -q

# Regenerate man/kore.conf.5 from the directive table.
man: $(STAMP)
	$(BIN)/python -m korepyd.config.manpage > man/kore.conf.5

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
