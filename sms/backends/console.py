import sys
import uuid

from .base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    """Prints each message to stdout; the default for local runs."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stdout

    def send(self, *, to: str, body: str) -> str:
        message_id = f"console-{uuid.uuid4().hex}"
        self.stream.write(f"SMS to {to} ({message_id}):\n{body}\n{'-' * 40}\n")
        self.stream.flush()
        return message_id
