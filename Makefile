# Everything a fresh machine needs: `make deck` and `make test` create their own virtualenv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SOURCE := source/fastapi.yaml
LOCK   := $(wildcard source/fastapi.lock.json)
DECKID := fastapi-interview
OUT    := build
CODE   := $(shell find pipeline -type f ! -path '*__pycache__*')

.DEFAULT_GOAL := help
.PHONY: help deck test check verify preview screenshots bench clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.deck: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test: $(VENV)/.deck pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,answers]'
	touch $@

deck: $(OUT)/$(DECKID).apkg ## Build build/fastapi-interview.apkg and .pdf (creates .venv)

$(OUT)/$(DECKID).apkg $(OUT)/$(DECKID).pdf &: $(SOURCE) $(LOCK) $(CODE) $(VENV)/.deck
	$(BIN)/deck build $(SOURCE) --out $(OUT)

check: $(VENV)/.deck ## Validate the source and fail on a stale lock file
	$(BIN)/deck check $(SOURCE)

verify: $(VENV)/.test ## Run every code answer against the pinned FastAPI
	$(BIN)/deck verify $(SOURCE)

test: $(VENV)/.test browser ## Install test deps, check the source, verify code answers, run pytest
	$(BIN)/deck check $(SOURCE)
	$(BIN)/deck verify $(SOURCE)
	$(BIN)/python -m pytest -q

preview: $(OUT)/$(DECKID).html ## Write build/fastapi-interview.html: every card as Anki shows it (offline)

$(OUT)/$(DECKID).html: $(SOURCE) $(CODE) $(VENV)/.deck
	$(BIN)/deck preview $(SOURCE) --out $(OUT)

screenshots: $(VENV)/.test browser ## Regenerate the README images in docs/ (PDF page after make deck)
	$(BIN)/python tests/test_browser.py docs

# The browser tests drive Debian's chromium; install it when missing. Failure (no root, no apt)
# is tolerated: those tests then skip and say why.
.PHONY: browser
browser: ## Install Debian's chromium for the browser tests if it is missing
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		|| echo "warning: could not install chromium; the browser tests will be skipped"

bench: $(VENV)/.deck ## Time our build against the naive baseline (400, 2,000, 10,000 cards); writes bench/results.md
	$(BIN)/python bench/run.py

clean: ## Remove build outputs (keeps .venv)
	rm -rf $(OUT) .pytest_cache .hypothesis
