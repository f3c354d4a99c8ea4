#!/bin/sh
# One image, several roles. The first argument picks what this container runs:
#
#   web       the security checks, then uvicorn serving ecommerce_api.asgi:application (HTTP +
#             websockets) on port 8000
#   worker    celery worker consuming CELERY_WORKER_QUEUES
#   beat      celery beat (run exactly one)
#   migrate   the security checks, then database migrations, then exit (the Helm hook Job)
#   release   deployment checks, migrations and collectstatic into STATIC_ROOT, then exit
#             (docker-compose's one-shot service: nginx serves static files from that volume)
#   manage    any manage.py command: `manage createsuperuser`
#   anything else is executed as given: `bash`, `python -c ...`
#
# Arguments after the role are appended to its command: `worker --max-tasks-per-child 100`.
# ENTRYPOINT_DRY_RUN=1 prints the commands instead of running them (used by the tests and handy
# when checking what a pod would start).
set -eu

role="${1:-web}"
if [ "$#" -gt 0 ]; then
  shift
fi

WEB_PORT=8000
WEB_CONCURRENCY="${WEB_CONCURRENCY:-2}"
# Proxies whose X-Forwarded-For / -Proto uvicorn honours: the same list the app uses
# (core/net.py). Empty = none, so a client cannot choose its own address.
TRUSTED_PROXIES=$(printf '%s' "${TRUSTED_PROXIES:-}" | tr -d ' ')
CELERY_WORKER_QUEUES="${CELERY_WORKER_QUEUES:-default,email,sms,erp}"
CELERY_WORKER_CONCURRENCY="${CELERY_WORKER_CONCURRENCY:-4}"
LOG_LEVEL="${LOG_LEVEL:-INFO}"
log_level_lower=$(printf '%s' "$LOG_LEVEL" | tr '[:upper:]' '[:lower:]')

dry_run() {
  [ "${ENTRYPOINT_DRY_RUN:-0}" = "1" ]
}

# Runs a step and carries on (release runs several).
step() {
  if dry_run; then
    echo "$*"
  else
    "$@"
  fi
}

# An unsafe configuration (core/checks.py: the dummy payment gateway, a placeholder secret key,
# a malformed TRUSTED_PROXIES) stops the role here, before it serves or migrates anything.
security_checks() {
  step python manage.py check --deploy --tag security --fail-level ERROR
}

# Replaces this shell, so the server is the process that receives SIGTERM from tini.
run() {
  if dry_run; then
    echo "$*"
    exit 0
  fi
  exec "$@"
}

case "$role" in
  web)
    # Lifespan off: Channels' router has no lifespan handler. Keep-alive outlives nginx's
    # upstream keepalive (60 s), so the proxy never reuses a connection uvicorn just closed.
    # Access lines come from nginx or the ingress (path only, no query string: websocket and order
    # tokens travel there); uvicorn's own access log would print the query string, so it is off.
    security_checks
    if [ -n "$TRUSTED_PROXIES" ]; then
      set -- --proxy-headers --forwarded-allow-ips "$TRUSTED_PROXIES" "$@"
    else
      set -- --no-proxy-headers "$@"
    fi
    run uvicorn ecommerce_api.asgi:application \
      --host 0.0.0.0 --port "$WEB_PORT" \
      --workers "$WEB_CONCURRENCY" \
      --ws websockets-sansio \
      --lifespan off \
      --timeout-keep-alive 75 \
      --timeout-graceful-shutdown 25 \
      --no-server-header --no-access-log \
      --log-level "$log_level_lower" \
      "$@"
    ;;
  worker)
    # -E: task events, so Flower shows live task state.
    run celery -A ecommerce_api worker \
      -l "$LOG_LEVEL" \
      -Q "$CELERY_WORKER_QUEUES" \
      --concurrency "$CELERY_WORKER_CONCURRENCY" \
      -E \
      "$@"
    ;;
  beat)
    # The schedule file lives in /tmp: the code directory is read-only for the app user.
    run celery -A ecommerce_api beat \
      -l "$LOG_LEVEL" \
      --schedule /tmp/celerybeat-schedule \
      "$@"
    ;;
  migrate)
    security_checks
    run python manage.py migrate --noinput "$@"
    ;;
  release)
    step python manage.py check --deploy --fail-level ERROR
    step python manage.py migrate --noinput
    run python manage.py collectstatic --noinput
    ;;
  manage)
    run python manage.py "$@"
    ;;
  *)
    run "$role" "$@"
    ;;
esac
