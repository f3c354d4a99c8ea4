class SmsTransientError(Exception):
    """The provider may accept the message later (timeout, 5xx, rate limit): retry."""


class SmsPermanentError(Exception):
    """The provider will never accept this message (bad number, bad credentials): give up."""


class BaseSmsBackend:
    def send(self, *, to: str, body: str) -> str:
        """Hand one message to the provider and return the provider's message id."""
        raise NotImplementedError
