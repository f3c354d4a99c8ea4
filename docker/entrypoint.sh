#!/bin/sh
# One image, several roles. The first argument picks what this container runs:
#
#   web       the security checks, then gunicorn (gthread workers) serving HTTP through
#             ecommerce_api.wsgi:application on $WEB_PORT (8000)
#   ws        the security checks, then uvicorn serving ecommerce_api.asgi:application on $WS_PORT
#             (8001): the websockets of /ws/ (the proxy sends only those here)
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

WEB_PORT="${WEB_PORT:-8000}"
WEB_CONCURRENCY="${WEB_CONCURRENCY:-2}"
# Threads per gunicorn worker: requests wait on the database and Redis, so a few threads keep a
# process busy (docs/OPERATIONS.md, "Serving").
WEB_THREADS="${WEB_THREADS:-4}"
WS_PORT="${WS_PORT:-8001}"
WS_CONCURRENCY="${WS_CONCURRENCY:-1}"
# Proxies whose X-Forwarded-* headers gunicorn and uvicorn honour: the same list the app uses
# (core/net.py). Empty = none, so a client cannot choose its own address. The scheme Django sees
# comes from X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER), which nginx and the ingress overwrite:
# keep the app port off the public network.
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
    # gthread: a few threads per process, measured faster than uvicorn for plain HTTP on the same
    # cores (docs/OPERATIONS.md, "Serving"). Keep-alive outlives nginx's upstream keepalive (60 s),
    # so the proxy never reuses a connection gunicorn just closed. --timeout restarts a worker whose
    # main loop has not checked in for 30 s (a hung process); it does not cut a slow request short.
    # Access lines come from nginx or the ingress (path only, no query string: websocket and order
    # tokens travel there); gunicorn's access log is off (no --access-logfile) for that reason.
    # The forwarded-allow-ips list is always given: gunicorn's default trusts loopback, ours
    # trusts exactly TRUSTED_PROXIES (empty: nobody). Heartbeat files live in /dev/shm (memory), not
    # on the container's overlay filesystem, where a slow disk can make workers look hung. The
    # control socket is off: it would be created in the read-only home directory.
    security_checks
    run gunicorn ecommerce_api.wsgi:application \
      --bind "0.0.0.0:$WEB_PORT" \
      --worker-class gthread \
      --workers "$WEB_CONCURRENCY" \
      --threads "$WEB_THREADS" \
      --keep-alive 75 \
      --graceful-timeout 25 \
      --timeout 30 \
      "--forwarded-allow-ips=$TRUSTED_PROXIES" \
      --worker-tmp-dir /dev/shm \
      --no-control-socket \
      --error-logfile - \
      --log-level "$log_level_lower" \
      "$@"
    ;;
  ws)
    # Lifespan off: Channels' router has no lifespan handler. Keep-alive outlives nginx's
    # upstream keepalive (60 s), as for web. uvicorn's access log would print the query string
    # (the websocket ?token=), so it is off.
    security_checks
    if [ -n "$TRUSTED_PROXIES" ]; then
      set -- --proxy-headers --forwarded-allow-ips "$TRUSTED_PROXIES" "$@"
    else
      set -- --no-proxy-headers "$@"
    fi
    run uvicorn ecommerce_api.asgi:application \
      --host 0.0.0.0 --port "$WS_PORT" \
      --workers "$WS_CONCURRENCY" \
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
