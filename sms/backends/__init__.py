"""SMS backends, chosen by the dotted path in settings.SMS_BACKEND like Django's EMAIL_BACKEND."""

from django.conf import settings
from django.utils.module_loading import import_string

from .base import BaseSmsBackend, SmsPermanentError, SmsTransientError

__all__ = ["BaseSmsBackend", "SmsPermanentError", "SmsTransientError", "get_backend"]


def get_backend(path: str | None = None) -> BaseSmsBackend:
    return import_string(path or settings.SMS_BACKEND)()
