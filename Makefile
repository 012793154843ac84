# The README's commands. `make demo` and `make test` set up .venv first when needed.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: demo run test lint format i18n-extract i18n-update

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

demo: $(STAMP)  ## the bot, offline, in this terminal (no token needed)
	$(BIN)/liepaja-bot demo

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
