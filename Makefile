# Jeton: the two commands of the README are `make demo` and `make test`; everything else hangs off them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# pip's notes about this machine's absent local mirrors are noise; real errors still fail the pipe.
QUIET := { grep -v -e 'is ignored: it is neither' -e 'BuildBackendWarning' || true; }

.PHONY: demo radius-demo test lint bench browser interop-tools privacyidea radius-tools pdf-libs venv clean schematic battery dsfr

# The virtual environment is rebuilt only when pyproject.toml changes: a second run starts at once. Pango (for
# WeasyPrint, the livret as PDF) is checked every time but never forces a rebuild (order-only prerequisite).
$(STAMP): pyproject.toml | pdf-libs
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip 2>&1 | $(QUIET)
	$(BIN)/python -m pip install -q -e '.[dev]' 2>&1 | $(QUIET)
	touch $(STAMP)

# The Système de design de l'État (npm @gouvfr/dsfr, pinned and checked by SHA-512 in booklet_web/vendor_dsfr.py)
# unpacked into the git-ignored booklet_web/static/dsfr/ once; the pages never fetch anything at run time.
DSFR := booklet_web/static/dsfr/VERSION
$(DSFR): booklet_web/vendor_dsfr.py
	@command -v npm >/dev/null 2>&1 || [ -f var/cache/dsfr/gouvfr-dsfr-$$(sed -n 's/^VERSION = "\(.*\)"/\1/p' $<).tgz ] || { \
	  echo "Installing Debian's npm to vendor the DSFR..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO $(APT_GET) update -qq && $$SUDO $(APT_GET) install -y -qq npm >/dev/null; }
	$(PYTHON) booklet_web/vendor_dsfr.py

dsfr: $(DSFR)

venv: $(STAMP) $(DSFR)

# apt-get waits for another apt or dpkg (unattended upgrades, a second make) instead of failing at once.
APT_GET := env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600

# Pango and its FreeType backend, which WeasyPrint loads to lay out the livret as PDF (booklet_web/livret_pdf.py);
# fonts-dejavu-core gives it a font on a machine that has none.
PDF_DEBS := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
pdf-libs:
	@missing=$$(for p in $(PDF_DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	[ -z "$$missing" ] || { \
	  echo "Installing" $$missing "for the livret as PDF..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO $(APT_GET) update -qq && $$SUDO $(APT_GET) install -y -qq $$missing >/dev/null; }

# Debian's chromium for the browser tests; Playwright never downloads a browser of its own.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO $(APT_GET) update -qq && $$SUDO $(APT_GET) install -y -qq chromium >/dev/null; }

# The tools of the field the interoperability tests run (docs/interop.md): oathtool, pskctool (libpskc), and the
# PostgreSQL server binaries for a throwaway server when JETON_TEST_POSTGRES_URL is not set.
interop-tools:
	@{ command -v oathtool && command -v pskctool && ls /usr/lib/postgresql/*/bin/initdb; } >/dev/null 2>&1 || { \
	  echo "Installing oathtool, pskctool and the PostgreSQL server for the tests..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO $(APT_GET) update -qq && $$SUDO $(APT_GET) install -y -qq oathtool pskctool postgresql >/dev/null; }

# privacyIDEA 3.14 in a virtual environment of its own (test-only; tests/interop round-trips PSKC through it).
PI_VENV := .venv-privacyidea
privacyidea: $(PI_VENV)/.installed-stamp
$(PI_VENV)/.installed-stamp:
	test -x $(PI_VENV)/bin/python || $(PYTHON) -m venv $(PI_VENV)
	$(PI_VENV)/bin/python -m pip install -q 'privacyidea==3.14' 2>&1 | $(QUIET)
	touch $@

# Real RADIUS clients for tests/radius (radclient, pam_radius_auth + pamtester, FreeRADIUS as a proxy). Debian
# enables and starts freeradius on install: it is stopped and disabled at once, tests run their own instances.
RADIUS_DEBS := freeradius freeradius-utils libpam-radius-auth pamtester
radius-tools:
	@missing=$$(for p in $(RADIUS_DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	[ -z "$$missing" ] || { \
	  echo "Installing" $$missing "for the RADIUS tests..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq $$missing >/dev/null && \
	  { $$SUDO systemctl disable --now freeradius >/dev/null 2>&1 || $$SUDO service freeradius stop >/dev/null 2>&1 || true; }; }

# The whole product on var/demo/ (SQLite) with simulated tokens; DEMO_ARGS=--fresh starts over.
demo: $(STAMP) $(DSFR)
	$(BIN)/jeton-web demo $(DEMO_ARGS)

# jeton-radius on 127.0.0.1:18120 over the demo's database (run `make demo` first): see docs/radius.md.
radius-demo: $(STAMP)
	$(BIN)/python -m verifier.radius.demo

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) $(DSFR) browser interop-tools radius-tools lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# hardware/: redraw the schematic (and the BOM, pin map, wiring in docs/hardware.md); recompute the battery budget.
schematic: $(STAMP)
	$(BIN)/python -m hardware.schematic

battery: $(STAMP)
	$(BIN)/python -m hardware.battery
	$(BIN)/python -m hardware.drift

clean:
	rm -rf $(VENV) $(PI_VENV) .pytest_cache .ruff_cache
