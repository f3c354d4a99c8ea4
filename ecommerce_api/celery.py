"""The Celery app: `celery -A ecommerce_api worker` and `celery -A ecommerce_api beat`."""

import os

from celery import Celery
from celery.signals import setup_logging

from .schedule import BEAT_SCHEDULE

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecommerce_api.settings.local")

app = Celery("ecommerce_api")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.beat_schedule = BEAT_SCHEDULE


@app.on_after_finalize.connect
def _configure_observability(**_kwargs) -> None:
    from core.observability import configure_observability

    configure_observability(component="celery")


@setup_logging.connect
def _keep_django_logging(**_kwargs) -> None:
    """Workers log through Django's LOGGING (JSON lines with the request id that queued the task,
    see core.jobs) instead of Celery replacing the root logger's handlers with its own format."""
