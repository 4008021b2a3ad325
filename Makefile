# korepyd: the commands a developer and CI use. Everything sets itself up.

PYTHON  ?= python3
PREFIX  ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
PIP_INSTALL_FLAGS ?=
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# sslyze (the Mozilla TLS profile check) pins its own cryptography and
# pydantic, so it lives in a virtualenv of its own.
SSLYZE_VERSION := 6.3.1
SSLYZE_VENV    ?= .venv-sslyze
SSLYZE_STAMP   := $(SSLYZE_VENV)/.installed-$(SSLYZE_VERSION)
# The benchmark's peers (uvicorn, hypercorn, granian) live in a virtualenv of
# their own, which bench/peerenv.py creates from bench/requirements.txt.
BENCH_VENV     := .venv-bench
ARGS           ?=

.PHONY: packages packages-test packages-bench run build test test-slow lint check golden man sslyze bench install uninstall clean

# The Debian packages building needs (tools/system-packages: installed as
# root with apt-get, else the command that installs them), and those the tests need.
packages:
	@PYTHON=$(PYTHON) tools/system-packages build
packages-test:
	@PYTHON=$(PYTHON) tools/system-packages test
packages-bench:
	@PYTHON=$(PYTHON) tools/system-packages bench

# Create the virtualenv with what building needs (tools/requirements build)
# and install korepyd into it (which compiles the request path: see build)
# while its dependencies install beside it. The test and lint tools come in a second step,
# for the targets that use them, so `make run` waits for nothing it does not run.
$(STAMP): pyproject.toml | packages
	@echo "==> creating the virtualenv in $(VENV)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> installing korepyd and its dependencies, compiling its request path"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check $$($(BIN)/python tools/requirements build)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check $$($(BIN)/python tools/requirements runtime) & \
		deps=$$!; \
		PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet \
			--disable-pip-version-check --no-deps --no-build-isolation -e . || { wait $$deps; exit 1; }; \
		wait $$deps
	@touch $(STAMP)
	@echo "==> installed"

$(DEV_STAMP): $(STAMP) pyproject.toml
	@echo "==> installing the test and lint tools"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check $$($(BIN)/python tools/requirements test lint)
	@touch $(DEV_STAMP)

# sslyze, for tests/integration/test_tls_profile.py.
$(SSLYZE_STAMP):
	@echo "==> installing sslyze $(SSLYZE_VERSION) in $(SSLYZE_VENV)"
	@test -x $(SSLYZE_VENV)/bin/python || $(PYTHON) -m venv $(SSLYZE_VENV)
	@$(SSLYZE_VENV)/bin/python -m pip install --quiet --disable-pip-version-check 'sslyze==$(SSLYZE_VERSION)'
	@touch $(SSLYZE_STAMP)

sslyze: $(SSLYZE_STAMP)

# Compile the request path in place (korepyd/compiled.py, setup.py), unless
# it is: again after its sources or how they are built change (until then an
# edited module runs as pure Python), by pip as any package with extensions
# is built. Without a C compiler it says so and korepyd stays pure Python.
build: $(STAMP)
	@$(BIN)/python -c 'import sys, korepyd.compiled as c; sys.exit(not c.complete())' && \
		test korepyd/_compiled/manifest.txt -nt setup.py && \
		test korepyd/_compiled/manifest.txt -nt korepyd/declarations.py || \
		PYTHONWARNINGS="ignore:Editable installation" \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .

# Serve the bundled example site on http://127.0.0.1:8888 (Ctrl-C stops it).
run: build
	@echo "==> serving examples/site with conf/kore.conf on http://127.0.0.1:8888 (Ctrl-C stops)"
	@$(BIN)/korepyd -c conf/kore.conf

# Every test, twice: with the compiled request path, then pure Python.
# (packages-test first: the build needs the compiler it installs).
test: packages-test build $(DEV_STAMP) $(SSLYZE_STAMP)
	KOREPYD_SSLYZE=$(abspath $(SSLYZE_VENV))/bin/sslyze $(BIN)/python -m pytest
	KOREPYD_SSLYZE=$(abspath $(SSLYZE_VENV))/bin/sslyze KOREPYD_NO_EXTENSIONS=1 $(BIN)/python -m pytest

# The long tests: the Autobahn compression cases (several minutes).
test-slow: packages-test build $(DEV_STAMP)
	$(BIN)/python -m pytest -m slow

lint: $(DEV_STAMP)
	$(BIN)/ruff check korepyd tests

# korepyd against uvicorn, hypercorn, granian, socketify and Kore (KORE=path) (see README, Benchmarks):
# make bench ARGS="--quick" | ARGS="--scenario plain,json --server korepyd,uvicorn" | ARGS=--memory
bench: packages-bench build
	$(BIN)/python bench/run.py $(ARGS)

# Check a configuration: make check CONF=path/to/kore.conf
check: $(STAMP)
	$(BIN)/korepyd -t -c $(CONF)

# Rewrite the expected results of the config golden files (review the diff!).
golden: $(DEV_STAMP)
	KOREPYD_BLESS=1 $(BIN)/python -m pytest tests/config/test_golden.py -q

# Regenerate man/kore.conf.5 from the directive table.
man: $(STAMP)
	$(BIN)/python -m korepyd.config.manpage > man/kore.conf.5

# Install korepyd, its man pages, the systemd units and an example
# /etc/korepyd/kore.conf (never over an existing one) under DESTDIR/PREFIX.
install:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --ignore-installed $(PIP_INSTALL_FLAGS) \
		--root "$(or $(DESTDIR),/)" --prefix "$(PREFIX)" .
	install -D -m 0644 man/korepyd.8 "$(DESTDIR)$(PREFIX)/share/man/man8/korepyd.8"
	install -D -m 0644 man/kore.conf.5 "$(DESTDIR)$(PREFIX)/share/man/man5/kore.conf.5"
	for unit in korepyd.service korepyd@.service; do \
		install -d "$(DESTDIR)$(UNITDIR)"; \
		sed "s|/usr/local/bin/korepyd|$(PREFIX)/bin/korepyd|g; s|/etc/korepyd|$(SYSCONFDIR)/korepyd|g" \
			systemd/$$unit > "$(DESTDIR)$(UNITDIR)/$$unit"; \
	done
	test -e "$(DESTDIR)$(SYSCONFDIR)/korepyd/kore.conf" || \
		install -D -m 0644 conf/system.conf "$(DESTDIR)$(SYSCONFDIR)/korepyd/kore.conf"

# Remove what install installed (an edited kore.conf is kept).
uninstall:
	rm -f "$(DESTDIR)$(PREFIX)/bin/korepyd"
	rm -rf "$(DESTDIR)$(PREFIX)"/lib/python3*/site-packages/korepyd \
		"$(DESTDIR)$(PREFIX)"/lib/python3*/site-packages/korepyd-*.dist-info
	rm -f "$(DESTDIR)$(PREFIX)/share/man/man8/korepyd.8" "$(DESTDIR)$(PREFIX)/share/man/man5/kore.conf.5"
	rm -f "$(DESTDIR)$(UNITDIR)/korepyd.service" "$(DESTDIR)$(UNITDIR)/korepyd@.service"
	if cmp -s conf/system.conf "$(DESTDIR)$(SYSCONFDIR)/korepyd/kore.conf"; then \
		rm -f "$(DESTDIR)$(SYSCONFDIR)/korepyd/kore.conf"; \
		rmdir "$(DESTDIR)$(SYSCONFDIR)/korepyd" 2>/dev/null || true; \
	fi

clean:
	rm -rf $(VENV) $(SSLYZE_VENV) $(BENCH_VENV) build *.egg-info .pytest_cache
