"""Payments that clear slowly (bank debits stay `processing` for days) and disputes (chargebacks),
through signed webhooks from the Stripe fake."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from orders.models import Order, OrderEvent
from orders.tasks import orders_expire_unpaid
from payment.models import Payment, PaymentDispute, WebhookEvent
from shop.models import ProductVariant

from .helpers import pay, payment_intent_id, post_event

pytestmark = pytest.mark.django_db


def _allocated(shop) -> tuple[int, int]:
    return tuple(ProductVariant.objects.get(pk=v.pk).quantity_allocated for v in (shop.shirt, shop.socks))


def _overdue(order) -> None:
    Order.objects.filter(pk=order.pk).update(payment_due_by=timezone.now() - timedelta(minutes=1))


def _outcome(client, event) -> str:
    response = post_event(client, event)
    assert response.status_code == 200, response.content
    return response.json()["outcome"]


def _kinds(order) -> list[str]:
    return list(OrderEvent.objects.filter(order=order).order_by("id").values_list("kind", flat=True))


# --- processing -----------------------------------------------------------------------------------


def test_a_processing_payment_survives_the_expiry_with_its_stock_and_is_paid_on_success(
    api_client, stripe_order, shop, fake_stripe
):
    intent_id = payment_intent_id(stripe_order)

    assert _outcome(api_client, fake_stripe.processing_event(intent_id)) == "order_processing"
    _overdue(stripe_order)  # days later the payment window has long closed

    assert orders_expire_unpaid() == 0
    stripe_order.refresh_from_db()
    assert stripe_order.status == "payment_processing"
    assert _allocated(shop) == (2, 1)
    assert Payment.objects.get().status == "processing"

    assert _outcome(api_client, fake_stripe.succeeded_event(intent_id)) == "order_paid"
    stripe_order.refresh_from_db()
    assert (stripe_order.status, stripe_order.amount_paid) == ("paid", Decimal("32.45"))
    assert _allocated(shop) == (2, 1)
    assert _kinds(stripe_order) == ["placed", "payment_processing", "paid"]


def test_the_order_shows_payment_processing_to_the_customer(auth_client, api_client, stripe_order, fake_stripe):
    post_event(api_client, fake_stripe.processing_event(payment_intent_id(stripe_order)))

    response = auth_client.get(f"/api/v1/orders/{stripe_order.pk}/")

    assert response.json()["status"] == "payment_processing"
    cancel = auth_client.post(f"/api/v1/orders/{stripe_order.pk}/cancel/", format="json")
    assert cancel.status_code == 409
    assert cancel.json()["errors"][0]["code"] == "cancel_not_allowed"
    assert Order.objects.get().status == "payment_processing"


def test_a_processing_payment_that_fails_within_the_window_returns_the_order_to_pending_payment(
    auth_client, api_client, stripe_order, shop, fake_stripe
):
    intent_id = payment_intent_id(stripe_order)
    post_event(api_client, fake_stripe.processing_event(intent_id))

    outcome = _outcome(api_client, fake_stripe.failed_event(intent_id))

    assert outcome == "failure_recorded_order_pending_payment"
    stripe_order.refresh_from_db()
    assert stripe_order.status == "pending_payment"
    assert _allocated(shop) == (2, 1)
    assert _kinds(stripe_order) == ["placed", "payment_processing", "payment_failed"]
    retry = pay(auth_client, stripe_order)
    assert (retry.status_code, retry.json()["status"]) == (200, "pending")


def test_a_processing_payment_that_fails_after_the_window_cancels_the_order_and_releases_stock(
    api_client, stripe_order, shop, fake_stripe, django_capture_on_commit_callbacks
):
    intent_id = payment_intent_id(stripe_order)
    post_event(api_client, fake_stripe.processing_event(intent_id))
    _overdue(stripe_order)

    with django_capture_on_commit_callbacks(execute=True):
        outcome = _outcome(api_client, fake_stripe.failed_event(intent_id))

    assert outcome == "failure_recorded_order_cancelled"
    stripe_order.refresh_from_db()
    assert stripe_order.status == "cancelled"
    assert _allocated(shop) == (0, 0)
    assert Payment.objects.get().status == "cancelled"  # closed at Stripe too: it cannot be paid any more
    assert len(fake_stripe.calls("POST", f"/v1/payment_intents/{intent_id}/cancel")) == 1


def test_replayed_processing_and_failure_events_change_nothing(api_client, stripe_order, shop, fake_stripe):
    intent_id = payment_intent_id(stripe_order)
    processing = fake_stripe.processing_event(intent_id)
    failure = fake_stripe.failed_event(intent_id)
    post_event(api_client, processing)
    post_event(api_client, failure)

    replays = [_outcome(api_client, event) for event in (processing, failure, processing)]

    assert replays == ["duplicate"] * 3
    stripe_order.refresh_from_db()
    assert stripe_order.status == "pending_payment"
    assert _kinds(stripe_order) == ["placed", "payment_processing", "payment_failed"]
    assert _allocated(shop) == (2, 1)


def test_a_late_failure_older_than_the_processing_report_is_stale(api_client, stripe_order, fake_stripe):
    intent_id = payment_intent_id(stripe_order)
    now = int(time.time())
    earlier_card_decline = fake_stripe.failed_event(intent_id, created=now - 600)
    post_event(api_client, fake_stripe.processing_event(intent_id, created=now))

    assert _outcome(api_client, earlier_card_decline) == "ignored_stale"
    assert Order.objects.get().status == "payment_processing"
    assert Payment.objects.get().status == "processing"


def test_a_processing_report_older_than_a_failure_is_stale(api_client, stripe_order, fake_stripe):
    intent_id = payment_intent_id(stripe_order)
    now = int(time.time())
    late_processing = fake_stripe.processing_event(intent_id, created=now - 600)
    post_event(api_client, fake_stripe.failed_event(intent_id, created=now))

    assert _outcome(api_client, late_processing) == "ignored_stale"
    assert Order.objects.get().status == "pending_payment"
    assert Payment.objects.get().status == "failed"


def test_requires_action_leaves_the_order_waiting_for_the_customer(api_client, stripe_order, fake_stripe):
    intent = {**fake_stripe.intents[payment_intent_id(stripe_order)], "status": "requires_action"}

    outcome = _outcome(api_client, fake_stripe.event("payment_intent.requires_action", intent))

    assert outcome == "awaiting_customer_action"
    assert Order.objects.get().status == "pending_payment"


@pytest.mark.parametrize(
    "configured,expected",
    [
        (["card", "us_bank_account"], {"payment_method_types": {"0": "card", "1": "us_bank_account"}}),
        ([], {"automatic_payment_methods": {"enabled": "true"}}),
    ],
    ids=["listed", "automatic"],
)
def test_stripe_payment_method_types_setting(auth_client, user, shop, fake_stripe, settings, configured, expected):
    settings.STRIPE_PAYMENT_METHOD_TYPES = configured

    pay(auth_client, shop.place(user))

    (call,) = fake_stripe.calls("POST", "/v1/payment_intents")
    sent = {
        key: call.params[key] for key in ("payment_method_types", "automatic_payment_methods") if key in call.params
    }
    assert sent == expected


# --- disputes -----------------------------------------------------------------------------------


@pytest.fixture
def paid_stripe_order(api_client, stripe_order, fake_stripe):
    post_event(api_client, fake_stripe.succeeded_event(payment_intent_id(stripe_order)))
    stripe_order.refresh_from_db()
    assert stripe_order.status == "paid"
    return stripe_order


def test_a_dispute_is_recorded_on_the_order_and_staff_are_emailed(
    api_client, staff_client, staff_user, paid_stripe_order, fake_stripe, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    event = fake_stripe.dispute_event(payment_intent_id(paid_stripe_order))

    with django_capture_on_commit_callbacks(execute=True):
        outcome = _outcome(api_client, event)

    assert outcome == "dispute_created"
    dispute = PaymentDispute.objects.get()
    assert (
        dispute.provider_dispute_id,
        dispute.status,
        dispute.reason,
        dispute.amount,
        dispute.currency,
        dispute.order_id,
        dispute.evidence_due_by.year,
    ) == ("dp_fake1", "needs_response", "fraudulent", Decimal("32.45"), "USD", paid_stripe_order.pk, 2030)
    assert dispute.provider_charge_id == f"ch_{payment_intent_id(paid_stripe_order)}"
    (email,) = mail.outbox
    assert email.to == [staff_user.email]
    assert email.subject == f"A dispute was opened for order {paid_stripe_order.number}"
    assert "fraudulent" in email.body and "32.45 USD" in email.body
    note = OrderEvent.objects.get(order=paid_stripe_order, kind="dispute")
    assert (note.amount, note.to_status) == (Decimal("32.45"), "paid")
    staff_view = staff_client.get(f"/api/v1/orders/{paid_stripe_order.pk}/").json()
    assert (staff_view["status"], staff_view["dispute_status"]) == ("paid", "needs_response")


def test_a_dispute_lifecycle_replayed_and_out_of_order_ends_in_the_same_state(
    api_client, staff_user, paid_stripe_order, fake_stripe, django_capture_on_commit_callbacks, settings
):
    settings.PAYMENT_ALERT_EMAILS = ["disputes@example.com"]
    mail.outbox.clear()
    intent_id = payment_intent_id(paid_stripe_order)
    now = int(time.time())
    created = fake_stripe.dispute_event(intent_id, "created", created=now - 30)
    updated = fake_stripe.dispute_event(intent_id, "updated", status="under_review", created=now - 20)
    withdrawn = fake_stripe.dispute_event(intent_id, "funds_withdrawn", status="under_review", created=now - 10)
    closed = fake_stripe.dispute_event(intent_id, "closed", status="lost", created=now)

    with django_capture_on_commit_callbacks(execute=True):
        outcomes = [_outcome(api_client, event) for event in (created, withdrawn, closed, updated, created, closed)]

    assert outcomes == [
        "dispute_created",
        "dispute_funds_withdrawn",
        "dispute_closed",
        "dispute_report_stale",  # `updated` arrived after `closed`: older, changes nothing
        "duplicate",
        "duplicate",
    ]
    dispute = PaymentDispute.objects.get()
    assert (dispute.status, dispute.funds, dispute.closed_at is not None) == ("lost", "withdrawn", True)
    paid_stripe_order.refresh_from_db()
    assert (paid_stripe_order.status, paid_stripe_order.dispute_status) == ("paid", "lost")
    assert OrderEvent.objects.filter(order=paid_stripe_order, kind="dispute").count() == 3
    assert [email.subject.split(" for ")[0] for email in mail.outbox] == [
        "A dispute was opened",
        "Disputed funds were withdrawn",
        "A dispute was closed",
    ]
    assert {tuple(email.to) for email in mail.outbox} == {("disputes@example.com",)}
    assert WebhookEvent.objects.count() == 5


def test_a_dispute_for_an_unknown_payment_is_acknowledged(api_client, fake_stripe):
    event = fake_stripe.event(
        "charge.dispute.created",
        {"id": "dp_x", "object": "dispute", "amount": 100, "currency": "usd", "payment_intent": "pi_elsewhere"},
    )

    assert _outcome(api_client, event) == "unknown_payment"
    assert PaymentDispute.objects.count() == 0


def test_disputes_are_listed_in_the_admin(django_user_model, paid_stripe_order, api_client, fake_stripe):
    post_event(api_client, fake_stripe.dispute_event(payment_intent_id(paid_stripe_order)))
    admin_client = Client()
    admin_client.force_login(
        django_user_model.objects.create_superuser(email="admin@example.com", password="admin-password-1")
    )

    changelist = admin_client.get("/admin/payment/paymentdispute/")
    order_page = admin_client.get(f"/admin/orders/order/{paid_stripe_order.pk}/change/")

    assert changelist.status_code == order_page.status_code == 200
    assert b"dp_fake1" in changelist.content
    assert b"dp_fake1" in order_page.content
