# The README's commands. `make run` and `make test` work on a fresh machine with Python 3.11:
# they create .venv and install into it when requirements change.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help install run serve migrate seed test test-fast test-storefront lint format check check-deploy worker beat bench schema clean

help:
	@echo "make run          install, migrate, seed the demo shop, serve HTTP + websockets on $(HOST):$(PORT)"
	@echo "make test         run the whole test suite (pytest)"
	@echo "make test-storefront  drive the demo storefront in headless chromium (apt-get install chromium)"
	@echo "make lint         ruff check + format check"
	@echo "make check-deploy Django's deployment checks with production settings"
	@echo "make worker/beat  run the Celery worker / scheduler"
	@echo "make bench        wrk benchmark of the shop vs a bare Django view (bench/README.md)"

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_sample_data

run: seed
	$(BIN)/uvicorn ecommerce_api.asgi:application --host $(HOST) --port $(PORT) --ws websockets-sansio --lifespan off --proxy-headers

serve: install
	$(BIN)/uvicorn ecommerce_api.asgi:application --host $(HOST) --port $(PORT) --ws websockets-sansio --lifespan off --proxy-headers

# pytest exits 5 when it collected nothing: that is a failure here, never a quiet pass.
test: install
	@$(BIN)/pytest $(PYTEST_ARGS); code=$$?; \
	if [ $$code -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$code

# The demo storefront in headless Chromium (Debian's chromium, driven by Playwright); skips with the
# reason when chromium or playwright is missing, fails instead when CI=true.
test-storefront: install
	$(BIN)/pytest tests/storefront -rs $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: install
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

# A real production configuration: Stripe with placeholder keys, since the dummy gateway is an
# Error there (ecommerce.E001) and its demo opt-in a Warning (ecommerce.W001); SMTP and Twilio,
# since the console backends are a Warning (ecommerce.W003).
check-deploy: install
	DJANGO_SETTINGS_MODULE=ecommerce_api.settings.production \
	SECRET_KEY=$${SECRET_KEY:-check-deploy-dummy-secret-$$(date +%s)-abcdefghijklmnopqrstuvwxyz0123456789} \
	ALLOWED_HOSTS=$${ALLOWED_HOSTS:-shop.example.com} \
	PAYMENT_GATEWAY=$${PAYMENT_GATEWAY:-stripe} \
	STRIPE_SECRET_KEY=$${STRIPE_SECRET_KEY:-sk_test_check_deploy_placeholder} \
	STRIPE_WEBHOOK_SECRET=$${STRIPE_WEBHOOK_SECRET:-whsec_check_deploy_placeholder} \
	EMAIL_URL=$${EMAIL_URL:-smtp+tls://check-deploy@smtp.example.com:587} \
	SMS_BACKEND=$${SMS_BACKEND:-sms.backends.twilio.SmsBackend} \
	$(PY) manage.py check --deploy --fail-level WARNING

worker: install
	$(BIN)/celery -A ecommerce_api worker -l INFO -Q default,email,sms,erp

beat: install
	$(BIN)/celery -A ecommerce_api beat -l INFO

schema: install
	$(PY) manage.py spectacular --file schema.yml --validate --fail-on-warn

# Needs wrk (apt-get install wrk), PostgreSQL and Redis: DATABASE_URL / REDIS_URL, else the bench's
# own defaults. BENCH_ARGS="--products 2000 --duration 5" for a quick run.
bench: install
	$(PY) bench/run.py --seed $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
