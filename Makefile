# Two commands on a fresh machine: `make run` and `make test`. Everything else is set up here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
MO     := $(patsubst %.po,%.mo,$(wildcard locales/*/LC_MESSAGES/messages.po))
# Three workers on two cores: most tests wait on the network and the local Bot API server;
# by file, so a module's shared fixtures are set up once.
PYTEST_ARGS ?= -n 3 --dist loadfile

.PHONY: run test install i18n i18n-compile migrate content lint bench clean

run: content
	$(PY) bot.py run

test: install i18n-compile
	$(PY) -m pytest $(PYTEST_ARGS)

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

i18n-compile: install $(MO)

locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po
	$(BIN)/pybabel compile --statistics -D messages -i $< -o $@

# Extract every string from the code, merge it into each catalog, compile.
i18n: install
	$(BIN)/pybabel extract -F babel.cfg -k __ -k lazy_gettext --sort-by-file --no-wrap \
		--project="Digital Embassy Assistant" -o locales/messages.pot bot handlers bot.py
	for lang in kk ru en; do \
		$(BIN)/pybabel update -D messages -i locales/messages.pot -d locales -l $$lang \
			--no-wrap --no-fuzzy-matching --ignore-obsolete; \
	done
	$(MAKE) i18n-compile

migrate: install
	$(PY) bot.py migrate

content: migrate i18n-compile
	$(PY) bot.py content import

lint: install
	$(BIN)/ruff check bot handlers storage localapi tests benchmarks bot.py
	$(BIN)/mypy bot handlers storage localapi

bench: content
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) data locales/*/LC_MESSAGES/*.mo
