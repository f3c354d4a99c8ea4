"""Keeps sent messages in `outbox` (like django.core.mail.outbox); the backend of the test settings."""

import uuid
from dataclasses import dataclass

from .base import BaseSmsBackend


@dataclass(frozen=True)
class SentSms:
    to: str
    body: str
    message_id: str


outbox: list[SentSms] = []


class SmsBackend(BaseSmsBackend):
    def send(self, *, to: str, body: str) -> str:
        message_id = f"memory-{uuid.uuid4().hex}"
        outbox.append(SentSms(to=to, body=body, message_id=message_id))
        return message_id
