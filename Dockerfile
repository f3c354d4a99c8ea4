# syntax=docker/dockerfile:1.7
# One image for every role (web, worker, beat, migrations); docker/entrypoint.sh picks the role.
#
#   docker build -t ecommerce-api .
#   docker run --env-file .env -p 8000:8000 ecommerce-api            # web (gunicorn, WSGI: HTTP)
#   docker run --env-file .env -p 8001:8001 ecommerce-api ws         # ws (uvicorn, ASGI: websockets)
#   docker run --env-file .env ecommerce-api worker | beat | migrate  # the other roles
#
# Two stages: the builder has the compiler tool chain and produces a virtualenv; the runtime image
# receives only that virtualenv and the code, and runs as an unprivileged user.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# Most pinned packages ship wheels; the tool chain is here for any that must compile from source.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential libpq-dev \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:${PATH}"

# Requirements first, so a code change does not re-install every dependency.
COPY requirements.txt /tmp/requirements.txt
RUN pip install --upgrade pip \
    && pip install -r /tmp/requirements.txt

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# A fixed numeric id, so Kubernetes can verify runAsNonRoot (helm values use the same id).
ARG APP_UID=10001

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/venv/bin:${PATH}" \
    DJANGO_SETTINGS_MODULE=ecommerce_api.settings.production \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/app/media \
    WEB_CONCURRENCY=2 \
    WEB_THREADS=4

# tini reaps zombies and forwards signals, so gunicorn, uvicorn and celery shut down gracefully.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid ${APP_UID} app \
    && useradd --system --uid ${APP_UID} --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
# The code stays owned by root: the app user can read it but not change it.
COPY . /app

# Static files are collected into the image, so whitenoise can serve them with no volume (the
# manifest storage needs them at run time). Production settings refuse to load without a secret
# key and allowed hosts: these build-only values exist for this one command and are not kept.
RUN SECRET_KEY=build-only-collectstatic-key-not-used-at-runtime ALLOWED_HOSTS=localhost \
        python manage.py collectstatic --noinput \
    && python -m compileall -q /app \
    && mkdir -p /app/media \
    && chown -R app:app /app/staticfiles /app/media \
    && chmod 0755 /app/docker/entrypoint.sh /app/docker/healthcheck.py

USER ${APP_UID}:${APP_UID}

# web (gunicorn) and ws (uvicorn).
EXPOSE 8000 8001

# Liveness only: readiness (database, cache, broker) is the orchestrator's business. The web
# port; a `ws` container is probed with `--port 8001` (docker-compose.yml does so).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py"]

ENTRYPOINT ["tini", "--", "/app/docker/entrypoint.sh"]
# web = gunicorn serving ecommerce_api.wsgi:application: WEB_CONCURRENCY processes x WEB_THREADS.
CMD ["web"]
