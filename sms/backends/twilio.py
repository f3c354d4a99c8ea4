"""Twilio's Programmable Messaging REST API over `requests` (no SDK needed for one call).

POST {TWILIO_API_BASE}/2010-04-01/Accounts/{sid}/Messages.json with HTTP basic auth (account SID,
auth token) and the form fields To, From, Body; Twilio answers 201 with the message `sid`."""

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import BaseSmsBackend, SmsPermanentError, SmsTransientError


class SmsBackend(BaseSmsBackend):
    def __init__(self) -> None:
        self.account_sid = settings.TWILIO_ACCOUNT_SID
        self.auth_token = settings.TWILIO_AUTH_TOKEN
        self.from_number = settings.TWILIO_FROM_NUMBER
        missing = [
            name
            for name, value in (
                ("TWILIO_ACCOUNT_SID", self.account_sid),
                ("TWILIO_AUTH_TOKEN", self.auth_token),
                ("TWILIO_FROM_NUMBER", self.from_number),
            )
            if not value
        ]
        if missing:
            raise ImproperlyConfigured(f"The Twilio SMS backend needs {', '.join(missing)}.")
        self.url = f"{settings.TWILIO_API_BASE.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def send(self, *, to: str, body: str) -> str:
        try:
            response = requests.post(
                self.url,
                data={"To": to, "From": self.from_number, "Body": body},
                auth=(self.account_sid, self.auth_token),
                timeout=settings.SMS_TIMEOUT_SECONDS,
            )
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise SmsTransientError(f"Twilio unreachable: {exc.__class__.__name__}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise SmsTransientError(f"Twilio answered {response.status_code}: {_error_text(response)}")
        if response.status_code >= 400:
            raise SmsPermanentError(f"Twilio refused the message ({response.status_code}): {_error_text(response)}")
        try:
            return str(response.json()["sid"])
        except (ValueError, KeyError) as exc:
            # Accepted but unreadable: resending could deliver twice, so record it and stop.
            raise SmsPermanentError(f"Twilio answered {response.status_code} without a message sid") from exc


def _error_text(response: requests.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:200]
    return f"{payload.get('code')} {payload.get('message')}".strip()
