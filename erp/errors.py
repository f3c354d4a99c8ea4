"""What can go wrong talking to the ERP. `transient` decides whether a retry may help: the outbox
and the Celery tasks retry transient errors with backoff and give up at once on the others."""

from __future__ import annotations


class ErpError(Exception):
    transient = False

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class ErpNotConfigured(ErpError):
    """ERP_API_URL is not set: the integration is off."""


class ErpUnavailable(ErpError):
    """No usable answer: connection refused or reset, timeout, 5xx, 408/409/425/429, or a body
    that is not the JSON the contract promises. Retried with backoff."""

    transient = True


class ErpRejected(ErpError):
    """The ERP refused the request (another 4xx): the same request would be refused again."""


class ErpOrderMissing(ErpError):
    """The order to push does not exist (any more)."""
