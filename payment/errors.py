"""Error codes of the payment app."""

from core.errors import BadGateway, Conflict, DomainError, NotFound, ServiceUnavailable


class PaymentProviderNotConfigured(ServiceUnavailable):
    code = "payment_provider_not_configured"
    detail = "The payment provider is not configured; payments are unavailable."


class PaymentProviderError(BadGateway):
    """The provider refused or did not answer. `answered` is False when the request may have
    reached the provider without us seeing the reply (connection error, timeout): the caller must
    then retry with the same provider idempotency key instead of starting afresh."""

    code = "payment_provider_error"
    detail = "The payment provider could not process the request. Please retry."

    def __init__(self, detail: str | None = None, *, answered: bool, provider_code: str | None = None) -> None:
        self.answered = answered
        extra = {"provider_code": provider_code} if provider_code else {}
        super().__init__(detail, **extra)


class PaymentNotFound(NotFound):
    detail = "No such payment."


class OrderNotPayable(Conflict):
    code = "order_not_payable"
    detail = "This order is not waiting for a payment."


class InvalidWebhook(DomainError):
    code = "invalid_signature"
    detail = "The webhook signature is missing, invalid or too old."


class RefundNotPossible(Conflict):
    code = "refund_not_possible"
    detail = "There is no captured payment for this order that can be refunded."


class RefundExceedsCaptured(Conflict):
    code = "refund_exceeds_captured"
    detail = "The refund is larger than what remains refundable on this payment."


class EventOutOfOrder(Conflict):
    code = "event_out_of_order"
    detail = "This event refers to money not recorded yet; it will be accepted when redelivered."
