# The README's commands. `make demo` and `make test` set up .venv first when needed.
VENV ?= .venv
# The Python that makes .venv: 3.11 or newer (`make PYTHON=python3.12 test` to pick another).
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
NEW_ENOUGH := import sys; sys.exit(sys.version_info < (3, 11))

.PHONY: demo run test lint format i18n-extract i18n-update

# A .venv whose Python is older than 3.11, or gone (made by an older python3, or the system's
# Python was replaced since), is made again instead of failing on every run.
ifneq ($(wildcard $(VENV)/pyvenv.cfg),)
ifneq ($(shell $(BIN)/python -c '$(NEW_ENOUGH)' >/dev/null 2>&1 && echo ok),ok)
.PHONY: $(STAMP)
endif
endif

$(STAMP): pyproject.toml
	@$(PYTHON) -c '$(NEW_ENOUGH)' >/dev/null 2>&1 || { \
		echo "liepaja-bot needs Python 3.11 or newer, and $(PYTHON) is" \
			"$$($(PYTHON) --version 2>/dev/null || echo "not found"). Install a newer Python and run" \
			"make again, naming it if it is not python3: make PYTHON=python3.12 test" >&2; \
		exit 1; }
	@if [ -e $(VENV)/pyvenv.cfg ] && ! $(BIN)/python -c '$(NEW_ENOUGH)' >/dev/null 2>&1; then \
		echo "$(VENV) was made by an older Python, or its Python is gone:" \
			"making it again with $(PYTHON)." >&2; \
		rm -rf $(VENV); \
	fi
	@[ -e $(VENV)/pyvenv.cfg ] || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip --version \
		>/dev/null; } || { \
		rm -rf $(VENV); \
		echo "Could not make $(VENV) with $(PYTHON) -m venv (see above). On Debian and Ubuntu" \
			"install the venv module first: sudo apt install python3-venv" \
			"(or python3.X-venv for your version), then run make again." >&2; \
		exit 1; }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

demo: $(STAMP)  ## the bot, offline, in a page on 127.0.0.1 (no token needed); Ctrl-C ends it
	$(BIN)/liepaja-bot demo --web

run: $(STAMP)  ## the bot for real (BOT_TOKEN in .env)
	$(BIN)/liepaja-bot run

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Catalogs: after changing user-facing strings, extract, update, translate lv and ru, test.
i18n-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output \
		--project liepaja-bot --msgid-bugs-address attistiba@liepaja.lv \
		-c TRANSLATORS: -o locales/messages.pot .

i18n-update: i18n-extract
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching
