import json

from orders.tests.fixtures import new_key
from payment.models import Payment

from .fake_stripe import sign

PAYMENTS_URL = "/api/v1/payments/"
WEBHOOK_URL = "/api/v1/payments/stripe/webhook/"


def pay(client, order, key=None):
    return client.post(PAYMENTS_URL, {"order_id": str(order.pk)}, format="json", HTTP_IDEMPOTENCY_KEY=key or new_key())


def post_event(client, event: dict, *, url: str = WEBHOOK_URL, **sign_options):
    """Deliver `event` the way Stripe does: the raw JSON body and its Stripe-Signature header."""
    payload = json.dumps(event)
    return client.post(
        url, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload, **sign_options)
    )


def payment_intent_id(order) -> str:
    """The PaymentIntent id of the order's payment."""
    return Payment.objects.get(order=order).provider_payment_id
