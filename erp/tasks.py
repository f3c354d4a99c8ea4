"""Background work of the ERP integration, on the `erp` queue (route "*.tasks.erp_*")."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from core.jobs import BaseTask

from . import services
from .errors import ErpNotConfigured, ErpUnavailable

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    base=BaseTask,
    name="erp.tasks.erp_inventory_pull",
    soft_time_limit=settings.ERP_INVENTORY_PULL_TIME_LIMIT,
    time_limit=settings.ERP_INVENTORY_PULL_TIME_LIMIT + 60,
    max_retries=5,
    retry_backoff_base_seconds=60,
    retry_backoff_max_seconds=900,
)
def erp_inventory_pull(self, full: bool = False) -> dict:
    """Pull stock counts from the ERP (beat: changes every 15 minutes, everything nightly). A pull
    cut short by a transient failure (timeout, connection error, 5xx, bad JSON) is retried with
    backoff; a refusal (4xx) is not, it needs a human."""
    try:
        report = services.erp_inventory_pull(full=full)
    except ErpNotConfigured:
        logger.info("ERP inventory pull skipped: ERP_API_URL is not set.")
        return {"skipped": "erp_not_configured"}
    logger.info("ERP inventory pull: %s", report.summary())
    if not report.complete and report.error_transient:
        raise self.retry_with_backoff(ErpUnavailable(report.error))
    return report.as_dict()
