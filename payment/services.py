"""Writes of the payment app: start a payment, book what the provider reports, refund.

No database lock is ever held while a provider is called: each provider call sits between two
short transactions (write our row first, call, then record the answer). Provider calls carry an
idempotency key derived from our row id (`payment-<uuid>`, `refund-<uuid>`), so repeating a call
after a timeout returns the object the first call made instead of making a second one.

Lock order: order row -> payment row -> refund row (`_lock_payment` takes the order first; the
orders app locks only its order, and re-locking it here is free).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from account.models import User
from core.errors import DomainError
from core.jobs import enqueue_on_commit
from core.money import ZERO, quantize
from core.tasks import send_email
from orders import services as order_services
from orders.models import Order
from orders.selectors import order_get_by_token
from orders.state import OrderStatus

from .errors import (
    EventOutOfOrder,
    OrderNotPayable,
    PaymentNotFound,
    PaymentProviderError,
    RefundExceedsCaptured,
    RefundNotPossible,
)
from .gateways import IntentResult, IntentStatus, RefundStatus, gateway_for
from .models import Payment, PaymentDispute, PaymentTransaction, Refund

logger = logging.getLogger(__name__)

OPEN_STATUSES = (Payment.Status.CREATED, Payment.Status.PENDING, Payment.Status.PROCESSING)


@dataclass(frozen=True)
class PaymentStart:
    payment: Payment
    created: bool


# --- starting a payment -------------------------------------------------------------------------


def payment_create(*, user: User | None, order_id: UUID | str, order_token: str | None = None) -> PaymentStart:
    """Start (or resume) collecting the total of the caller's unpaid order; with `order_token`,
    of the order that secret opens (a guest's, logged in or not)."""
    gateway = gateway_for()
    gateway.ensure_configured()  # 503 before anything is written
    payment, created = _payment_open(user=user, order_id=order_id, order_token=order_token, provider=gateway.name)
    if payment.status in (Payment.Status.PENDING, Payment.Status.PROCESSING, Payment.Status.SUCCEEDED):
        return PaymentStart(payment=payment, created=created)
    if payment.amount == ZERO:
        return PaymentStart(payment=_payment_free_complete(payment_id=payment.pk), created=created)
    try:
        result = gateway.create_intent(
            payment_id=str(payment.pk),
            order_id=str(payment.order_id),
            amount=payment.amount,
            currency=payment.currency,
            idempotency_key=payment.provider_idempotency_key,
        )
    except PaymentProviderError as error:
        _payment_creation_failed(payment_id=payment.pk, error=error)
        raise
    return PaymentStart(payment=_payment_intent_attach(payment_id=payment.pk, result=result), created=True)


@transaction.atomic
def _payment_open(
    *, user: User | None, order_id: UUID | str, order_token: str | None, provider: str
) -> tuple[Payment, bool]:
    """The order's live attempt with this provider, or a new one. The order row lock serialises two
    concurrent starts for the same order (the partial unique constraint backs it up). A guest's
    order is found by its id and checked against the token (constant time): a wrong token, like a
    foreign order, is the same 404."""
    if order_token is not None:
        try:
            order = order_get_by_token(
                order_id=order_id, order_token=order_token, queryset=Order.objects.select_for_update()
            )
        except DomainError:
            raise PaymentNotFound("No such order.", attr="order_id")
        user = order.user  # the payment belongs to whoever owns the order (nobody, for a guest)
    else:
        if user is None:
            raise PaymentNotFound("No such order.", attr="order_id")
        try:
            order = Order.objects.select_for_update().get(pk=order_id, user=user)
        except (Order.DoesNotExist, ValidationError, ValueError):
            raise PaymentNotFound("No such order.", attr="order_id")
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise OrderNotPayable(order_status=order.status)
    live = (
        order.payments.filter(
            Q(status__in=OPEN_STATUSES) | Q(status=Payment.Status.FAILED, provider_payment_id__isnull=False)
        )
        .order_by("-created_at")
        .first()
    )
    if live is not None and live.provider == provider:
        if live.status == Payment.Status.FAILED:
            # Stripe keeps a failed intent confirmable: the customer retries with another card.
            Payment.objects.filter(pk=live.pk).update(status=Payment.Status.PENDING, updated_at=timezone.now())
            live.status = Payment.Status.PENDING
        return live, False
    if live is not None:
        # The shop switched providers since: the old attempt is abandoned.
        Payment.objects.filter(pk=live.pk).update(status=Payment.Status.CANCELLED, updated_at=timezone.now())
    payment = Payment.objects.create(
        order=order, user=user, provider=provider, amount=order.total, currency=order.currency
    )
    return payment, True


def _payment_creation_failed(*, payment_id: UUID, error: PaymentProviderError) -> None:
    """An answered refusal closes the attempt (a retry starts a new one with a new key: Stripe would
    replay the same error for the old key). No answer leaves it `created`, so the retry repeats the
    call with the same key and finds the intent if the first call did reach Stripe."""
    fields = {"failure_code": str(error.extra.get("provider_code", error.code))[:100], "updated_at": timezone.now()}
    if error.answered:
        fields["status"] = Payment.Status.FAILED
    Payment.objects.filter(pk=payment_id, status=Payment.Status.CREATED).update(**fields)


@transaction.atomic
def _payment_intent_attach(*, payment_id: UUID, result: IntentResult) -> Payment:
    payment = _lock_payment(payment_id)
    if payment.status == Payment.Status.CREATED:
        payment.provider_payment_id = result.provider_id
        payment.client_secret = result.client_secret
        payment.status = Payment.Status.PENDING
        payment.failure_code = ""
        payment.save(update_fields=["provider_payment_id", "client_secret", "status", "failure_code", "updated_at"])
    # Two attaches can race for one live payment (concurrent POSTs with different keys, or the
    # webhook first): only the first success is booked, the lock makes the second see it.
    if result.status == IntentStatus.SUCCEEDED and payment.status != Payment.Status.SUCCEEDED:
        _capture_book(payment, amount=result.amount_received, currency=result.currency, reference=result.provider_id)
    return payment


@transaction.atomic
def _payment_free_complete(*, payment_id: UUID) -> Payment:
    """A zero-total order (a full discount) has nothing to collect: it is paid without a provider."""
    payment = _lock_payment(payment_id)
    if payment.status != Payment.Status.SUCCEEDED:
        payment.status = Payment.Status.SUCCEEDED
        payment.succeeded_at = timezone.now()
        payment.applied_to_order = order_services.order_mark_paid(
            order_id=payment.order_id, amount=ZERO, currency=payment.currency, reference=str(payment.pk)
        )
        payment.save(update_fields=["status", "succeeded_at", "applied_to_order", "updated_at"])
    return payment


# --- what the provider reports ------------------------------------------------------------------


def payment_for_provider_object(*, provider_payment_id: str, payment_id: str | None) -> Payment | None:
    """Find our payment from a provider object: by its id, else by the id we put in its metadata
    (the intent exists at Stripe but our call timed out before we learned its id)."""
    payment = Payment.objects.filter(provider_payment_id=provider_payment_id).first()
    if payment is None and payment_id:
        try:
            payment = Payment.objects.filter(pk=payment_id).first()
        except ValidationError:
            return None
    return payment


def _lock_payment(payment_id: UUID | str) -> Payment:
    """Lock the payment's order row, then the payment row. Every path that holds both takes them in
    this order (payment start, webhooks, refunds; the orders app locks only its order), so two of
    them queue instead of deadlocking. The order is found through the payment (whose order never
    changes) and only the order row is locked by that query."""
    Order.objects.select_for_update(of=("self",)).filter(payments=payment_id).order_by().values_list("pk").get()
    return Payment.objects.select_for_update().get(pk=payment_id)


@transaction.atomic
def payment_succeeded_record(*, payment: Payment, provider_payment_id: str, amount: Decimal, currency: str) -> str:
    """The provider captured `amount`. Books it once; pays the order when amount and currency match
    and the order can still be paid; otherwise refunds it automatically. Returns what happened."""
    payment = _lock_payment(payment.pk)
    if payment.provider_payment_id is None:
        payment.provider_payment_id = provider_payment_id
        payment.save(update_fields=["provider_payment_id", "updated_at"])
    if payment.status == Payment.Status.SUCCEEDED:
        return "already_succeeded"
    return _capture_book(payment, amount=amount, currency=currency, reference=provider_payment_id)


def _capture_book(payment: Payment, *, amount: Decimal, currency: str, reference: str) -> str:
    """Book authorization and capture on a locked payment, then settle the order. Caller holds the
    payment lock inside a transaction."""
    amount = quantize(amount)
    currency = currency.upper()
    if amount > ZERO:
        for kind in (PaymentTransaction.Kind.AUTHORIZATION, PaymentTransaction.Kind.CAPTURE):
            PaymentTransaction.objects.create(
                payment=payment, kind=kind, amount=amount, currency=currency, provider_reference=reference
            )
    Payment.objects.filter(pk=payment.pk).update(
        authorized_amount=F("authorized_amount") + amount,
        captured_amount=F("captured_amount") + amount,
        status=Payment.Status.SUCCEEDED,
        succeeded_at=timezone.now(),
        updated_at=timezone.now(),
    )
    payment.refresh_from_db()
    if amount != payment.amount or currency != payment.currency:
        _failure_note(payment, code="amount_mismatch", message=f"Received {amount} {currency}.")
        _refund_automatic(payment, reason="The amount received does not match the order total.")
        return "amount_mismatch_refunded"
    paid = order_services.order_mark_paid(
        order_id=payment.order_id, amount=amount, currency=currency, reference=str(payment.pk)
    )
    if paid:
        Payment.objects.filter(pk=payment.pk).update(applied_to_order=True)
        payment.applied_to_order = True
        return "order_paid"
    _refund_automatic(payment, reason="The order was cancelled or expired before the payment arrived.")
    return "order_closed_refunded"


def _failure_note(payment: Payment, *, code: str, message: str) -> None:
    Payment.objects.filter(pk=payment.pk).update(failure_code=code[:100], failure_message=message[:500])
    payment.failure_code, payment.failure_message = code[:100], message[:500]


def _older_than_status(payment: Payment, occurred_at: datetime | None, *, ties_lose: bool) -> bool:
    """Whether a provider report is older than the one that set the payment's status (events
    arrive in any order). On the same second a failure wins over `processing` (`ties_lose` for the
    processing report): the customer may then retry, and money that does arrive still pays."""
    if occurred_at is None or payment.status_event_at is None:
        return False
    return occurred_at <= payment.status_event_at if ties_lose else occurred_at < payment.status_event_at


@transaction.atomic
def payment_processing_record(
    *, payment: Payment, provider_payment_id: str, occurred_at: datetime | None = None
) -> str:
    """The provider accepted the payment and settles it later (bank debits take days): the
    payment is `processing` and its order waits in `payment_processing`, out of the expiry's
    reach, until the success or failure report."""
    payment = _lock_payment(payment.pk)
    if payment.status in (Payment.Status.SUCCEEDED, Payment.Status.CANCELLED):
        return f"ignored_after_{payment.status}"
    if payment.status == Payment.Status.FAILED and _older_than_status(payment, occurred_at, ties_lose=True):
        return "ignored_stale"
    Payment.objects.filter(pk=payment.pk).update(
        status=Payment.Status.PROCESSING,
        provider_payment_id=payment.provider_payment_id or provider_payment_id,
        status_event_at=occurred_at,
        updated_at=timezone.now(),
    )
    waiting = order_services.order_payment_processing(order_id=payment.order_id)
    return "order_processing" if waiting else "processing_recorded"


def _processing_settled(payment: Payment, *, was_processing: bool, reason: str) -> str:
    """After a processing payment failed or was cancelled: settle its order (orders decides)."""
    if not was_processing:
        return ""
    outcome = order_services.order_payment_failed(order_id=payment.order_id, reason=reason)
    return "" if outcome == "unchanged" else f"_order_{outcome}"


@transaction.atomic
def payment_failed_record(*, payment: Payment, code: str, message: str, occurred_at: datetime | None = None) -> str:
    """A payment attempt failed. It never undoes a success that was already booked (events may
    arrive in any order): the failure is then only noted. A failure of a processing payment
    settles its order; one older than the processing report is stale and ignored."""
    payment = _lock_payment(payment.pk)
    if payment.status == Payment.Status.SUCCEEDED:
        return "ignored_after_success"
    was_processing = payment.status == Payment.Status.PROCESSING
    if was_processing and _older_than_status(payment, occurred_at, ties_lose=False):
        return "ignored_stale"
    Payment.objects.filter(pk=payment.pk).update(
        status=Payment.Status.FAILED,
        failure_code=code[:100],
        failure_message=message[:500],
        status_event_at=occurred_at,
        updated_at=timezone.now(),
    )
    return "failure_recorded" + _processing_settled(payment, was_processing=was_processing, reason=message or code)


@transaction.atomic
def payment_cancelled_record(*, payment: Payment, occurred_at: datetime | None = None) -> str:
    payment = _lock_payment(payment.pk)
    if payment.status == Payment.Status.SUCCEEDED:
        return "ignored_after_success"
    was_processing = payment.status == Payment.Status.PROCESSING
    Payment.objects.filter(pk=payment.pk).update(
        status=Payment.Status.CANCELLED, status_event_at=occurred_at, updated_at=timezone.now()
    )
    return "cancelled" + _processing_settled(
        payment, was_processing=was_processing, reason="The payment was cancelled at the provider."
    )


# --- refunds ------------------------------------------------------------------------------------


def _pending_refunds_total(payment: Payment) -> Decimal:
    pending = payment.refunds.filter(status=Refund.Status.PENDING).aggregate(total=Sum("amount"))["total"]
    return pending or ZERO


def _refund_reserve(
    payment: Payment, *, amount: Decimal, reason: str, source: str, requested_by_id: UUID | str | None
) -> Refund:
    """Create a pending refund on a locked payment; pending refunds count against the capture."""
    refundable = payment.captured_amount - payment.refunded_amount - _pending_refunds_total(payment)
    if amount <= ZERO or amount > refundable:
        raise RefundExceedsCaptured(refundable=str(refundable), attr="amount")
    refund = Refund.objects.create(
        payment=payment,
        amount=amount,
        currency=payment.currency,
        reason=reason[:255],
        source=source,
        requested_by_id=requested_by_id,
    )
    _order_refund_pending_sync(payment.order_id)
    return refund


def _order_refund_pending_sync(order_id: UUID) -> None:
    """Tell the order what of its payment is being refunded and not yet confirmed (it blocks
    shipping). Recomputed from the refund rows, under the order lock the caller holds. Refunds
    of a payment that did not pay the order (a late or second payment) do not count."""
    pending = Refund.objects.filter(
        payment__order_id=order_id, payment__applied_to_order=True, status=Refund.Status.PENDING
    ).aggregate(total=Sum("amount"))["total"]
    order_services.order_refund_pending_set(order_id=order_id, amount=pending or ZERO)


def _refund_automatic(payment: Payment, *, reason: str) -> None:
    """Give back everything captured on a payment the order could not take; sent after commit."""
    refundable = payment.captured_amount - payment.refunded_amount - _pending_refunds_total(payment)
    if refundable <= ZERO:
        return
    refund = _refund_reserve(
        payment, amount=refundable, reason=reason, source=Refund.Source.AUTOMATIC, requested_by_id=None
    )
    order_services.order_note_add(
        order_id=payment.order_id, note=f"Payment received; refund of {refundable} started: {reason}", amount=refundable
    )
    _refund_submit_later(refund.pk)


def _refund_submit_later(refund_id: UUID, *, countdown: int = 0) -> None:
    """Queue the provider call after commit; robust, so a broker hiccup never fails the caller
    (the refund stays pending and visible to staff)."""
    from .tasks import refund_submit_task

    transaction.on_commit(
        lambda: refund_submit_task.apply_async(args=[str(refund_id)], countdown=countdown), robust=True
    )


def refund_order(
    *, order_id: UUID | str, amount: Decimal, reason: str, actor_id: UUID | str | None, cancel_order: bool
) -> Refund:
    """Refund part or all of the payment that paid the order (the orders app asks, via its port)."""
    with transaction.atomic():
        paying = (
            Payment.objects.filter(order_id=order_id, applied_to_order=True, status=Payment.Status.SUCCEEDED)
            .values_list("pk", flat=True)
            .first()
        )
        if paying is None:
            raise RefundNotPossible()
        payment = _lock_payment(paying)
        source = Refund.Source.CANCELLATION if cancel_order else Refund.Source.STAFF
        refund = _refund_reserve(
            payment, amount=quantize(amount), reason=reason, source=source, requested_by_id=actor_id
        )
    try:
        return refund_submit(refund_id=refund.pk)
    except PaymentProviderError as error:
        if not error.answered:
            # Stripe may have made the refund: keep it pending (its amount stays reserved) and
            # retry in the background with the same idempotency key until Stripe answers.
            _refund_submit_later(refund.pk, countdown=30)
            raise PaymentProviderError(
                "The payment provider did not answer; the refund stays pending and is retried automatically.",
                answered=False,
                provider_code=error.extra.get("provider_code"),
            )
        raise


def refund_submit(*, refund_id: UUID | str) -> Refund:
    """Send a pending refund to the provider and book its answer. Safe to repeat: the provider
    idempotency key is the refund's id, and a refund the provider already knows is not resent."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != Refund.Status.PENDING or refund.provider_refund_id:
        return refund
    payment = refund.payment
    try:
        result = gateway_for(payment.provider).refund(
            provider_payment_id=payment.provider_payment_id or "",
            amount=refund.amount,
            currency=refund.currency,
            idempotency_key=refund.provider_idempotency_key,
            metadata={"refund_id": str(refund.pk), "order_id": str(payment.order_id), "payment_id": str(payment.pk)},
        )
    except PaymentProviderError as error:
        if error.answered:
            refund_provider_update(
                refund_id=refund.pk,
                provider_refund_id=None,
                status=RefundStatus.FAILED,
                failure_code=str(error.extra.get("provider_code", error.code)),
            )
        raise
    return refund_provider_update(refund_id=refund.pk, provider_refund_id=result.provider_id, status=result.status)


@transaction.atomic
def refund_provider_update(
    *, refund_id: UUID | str, provider_refund_id: str | None, status: RefundStatus, failure_code: str = ""
) -> Refund:
    """Apply the provider's view of a refund. Succeeded: booked once in the ledger and reported to
    the order. Failed: the reservation is freed. A refund the provider reports as succeeded after we
    had marked it failed is booked (the money did move)."""
    payment_id = Refund.objects.filter(pk=refund_id).values_list("payment_id", flat=True).get()
    payment = _lock_payment(payment_id)
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    if provider_refund_id and not refund.provider_refund_id:
        refund.provider_refund_id = provider_refund_id
        refund.save(update_fields=["provider_refund_id", "updated_at"])
    if status == RefundStatus.SUCCEEDED and refund.status != Refund.Status.SUCCEEDED:
        _refund_book(payment, refund)
    elif status == RefundStatus.FAILED and refund.status == Refund.Status.PENDING:
        refund.status = Refund.Status.FAILED
        refund.failure_code = failure_code[:100]
        refund.save(update_fields=["status", "failure_code", "updated_at"])
    _order_refund_pending_sync(payment.order_id)
    return refund


def _refund_book(payment: Payment, refund: Refund) -> None:
    if payment.refunded_amount + refund.amount > payment.captured_amount:
        # Only possible when the provider reports a refund before the capture it refunds (events
        # out of order). Refusing rolls the webhook back, so the provider redelivers it later.
        raise EventOutOfOrder()
    PaymentTransaction.objects.create(
        payment=payment,
        kind=PaymentTransaction.Kind.REFUND,
        amount=refund.amount,
        currency=refund.currency,
        provider_reference=refund.provider_refund_id or str(refund.pk),
    )
    # The CHECK refunded <= captured makes an over-refund impossible even if a caller forgot to check.
    Payment.objects.filter(pk=payment.pk).update(
        refunded_amount=F("refunded_amount") + refund.amount, updated_at=timezone.now()
    )
    refund.status = Refund.Status.SUCCEEDED
    refund.save(update_fields=["status", "updated_at"])
    order_services.order_refund_record(
        order_id=payment.order_id,
        amount=refund.amount,
        actor_id=refund.requested_by_id,
        note=refund.reason,
        cancel_order=refund.cancels_order,
        of_order_payment=payment.applied_to_order,
    )


def refund_from_provider(
    *,
    provider_refund_id: str,
    refund_id: str | None,
    provider_payment_id: str | None,
    amount: Decimal,
    currency: str,
    status: RefundStatus,
    reason: str = "",
) -> str:
    """A refund object reported by the provider (webhook): ours (found by id or metadata) is
    updated; one made outside the shop (the Stripe dashboard) is recorded as a provider refund."""
    refund = Refund.objects.filter(provider_refund_id=provider_refund_id).first()
    if refund is None and refund_id:
        try:
            refund = Refund.objects.filter(pk=refund_id).first()
        except ValidationError:
            refund = None
    if refund is None:
        payment = (
            Payment.objects.filter(provider_payment_id=provider_payment_id).first() if provider_payment_id else None
        )
        if payment is None:
            return "unknown_payment"
        try:
            with transaction.atomic():
                refund = Refund.objects.create(
                    payment=payment,
                    amount=quantize(amount),
                    currency=currency.upper(),
                    reason=(reason or "Refunded at the payment provider.")[:255],
                    source=Refund.Source.PROVIDER,
                    provider_refund_id=provider_refund_id,
                )
        except IntegrityError:
            refund = Refund.objects.get(provider_refund_id=provider_refund_id)
    before = refund.status
    refund = refund_provider_update(refund_id=refund.pk, provider_refund_id=provider_refund_id, status=status)
    if status == RefundStatus.FAILED and refund.status == Refund.Status.SUCCEEDED:
        # Rare (e.g. the card was closed): the money came back to the shop after the refund was
        # booked. Not reversed automatically: staff must contact the customer.
        logger.warning("refund %s failed at the provider after it had succeeded", refund.pk)
        return "refund_failed_after_success_needs_review"
    return f"refund_{before}_to_{refund.status}"


# --- disputes -----------------------------------------------------------------------------------

# Dispute reports that are emailed to staff; `updated` (usually the evidence staff just sent) is
# only written on the order's timeline.
DISPUTE_ALERTS = {
    "created": "A dispute was opened",
    "closed": "A dispute was closed",
    "funds_withdrawn": "Disputed funds were withdrawn",
    "funds_reinstated": "Disputed funds were reinstated",
}


def _dispute_note(change: str, dispute: PaymentDispute) -> str:
    what = {"updated": "Dispute updated"}.get(change) or DISPUTE_ALERTS.get(change, "Dispute reported")
    note = f"{what}: {dispute.status}, reason {dispute.reason or 'unknown'}, {dispute.amount} {dispute.currency}."
    if dispute.evidence_due_by and not dispute.is_closed:
        note += f" Evidence due by {dispute.evidence_due_by:%Y-%m-%d %H:%M} UTC."
    return note


def payment_alert_recipients() -> list[str]:
    """PAYMENT_ALERT_EMAILS, else every active staff user with an email address."""
    if settings.PAYMENT_ALERT_EMAILS:
        return list(settings.PAYMENT_ALERT_EMAILS)
    return sorted(User.objects.filter(is_staff=True, is_active=True).exclude(email="").values_list("email", flat=True))


@dataclass(frozen=True)
class DisputeReport:
    provider_dispute_id: str
    provider_payment_id: str | None
    provider_charge_id: str
    status: str
    reason: str
    amount: Decimal
    currency: str
    evidence_due_by: datetime | None
    change: str  # created, updated, closed, funds_withdrawn, funds_reinstated
    event_id: str
    occurred_at: datetime | None


def dispute_from_provider(*, report: DisputeReport) -> str:
    """Record a dispute as the provider reports it, on its payment and on the order (status and a
    timeline line), and tell staff by email. A report older than the newest one applied changes
    nothing (events arrive in any order); the same event twice is stopped by the webhook dedupe."""
    payment = (
        Payment.objects.filter(provider_payment_id=report.provider_payment_id).first()
        if report.provider_payment_id
        else None
    )
    if payment is None:
        return "unknown_payment"
    with transaction.atomic():
        payment = _lock_payment(payment.pk)
        dispute = (
            PaymentDispute.objects.select_for_update().filter(provider_dispute_id=report.provider_dispute_id).first()
        )
        if dispute is None:
            dispute = PaymentDispute(
                payment=payment, order_id=payment.order_id, provider_dispute_id=report.provider_dispute_id
            )
        elif dispute.last_event_at and report.occurred_at and report.occurred_at < dispute.last_event_at:
            return "dispute_report_stale"
        dispute.provider_charge_id = report.provider_charge_id or dispute.provider_charge_id
        dispute.status = report.status[:30]
        dispute.reason = report.reason[:50]
        dispute.amount = quantize(report.amount)
        dispute.currency = report.currency.upper()
        dispute.evidence_due_by = report.evidence_due_by
        dispute.last_event_at = report.occurred_at or dispute.last_event_at
        if report.change == "funds_withdrawn":
            dispute.funds = PaymentDispute.FundsState.WITHDRAWN
        elif report.change == "funds_reinstated":
            dispute.funds = PaymentDispute.FundsState.REINSTATED
        if dispute.is_closed and dispute.closed_at is None:
            dispute.closed_at = timezone.now()
        dispute.save()
        note = _dispute_note(report.change, dispute)
        order_services.order_dispute_record(
            order_id=payment.order_id, status=dispute.status, note=note, amount=dispute.amount
        )
        if report.change in DISPUTE_ALERTS:
            _dispute_alert_staff(dispute, subject=DISPUTE_ALERTS[report.change], note=note, event_id=report.event_id)
    return f"dispute_{report.change}"


def _dispute_alert_staff(dispute: PaymentDispute, *, subject: str, note: str, event_id: str) -> None:
    recipients = payment_alert_recipients()
    if not recipients:
        logger.warning("dispute %s: no staff email to alert (set PAYMENT_ALERT_EMAILS)", dispute.provider_dispute_id)
        return
    order = dispute.order
    enqueue_on_commit(
        send_email,
        to=recipients,
        subject=f"{subject} for order {order.number}",
        template="payment_dispute_staff",
        context={
            "order_number": order.number,
            "order_id": str(order.pk),
            "dispute_id": dispute.provider_dispute_id,
            "status": dispute.status,
            "reason": dispute.reason,
            "amount": str(dispute.amount),
            "currency": dispute.currency,
            "evidence_due_by": dispute.evidence_due_by.isoformat() if dispute.evidence_due_by else "",
            "note": note,
        },
        dedupe_key=f"payment-dispute:{event_id}",
    )


# --- orders that closed -------------------------------------------------------------------------


def payments_close_for_order(*, order_id: UUID | str) -> int:
    """Cancel the open attempts of an order that was cancelled or expired unpaid, so the customer
    cannot pay it any more. A payment that slips through anyway is refunded on arrival."""
    closed = 0
    for payment in Payment.objects.filter(order_id=order_id, status__in=[*OPEN_STATUSES, Payment.Status.FAILED]):
        if payment.provider_payment_id:
            try:
                gateway_for(payment.provider).cancel_intent(
                    provider_payment_id=payment.provider_payment_id,
                    idempotency_key=f"cancel-{payment.pk}",
                )
            except PaymentProviderError as error:
                if not error.answered:
                    raise
                # Stripe refuses to cancel an intent that already succeeded: its webhook handles it.
                logger.info("payment %s not cancelled at provider: %s", payment.pk, error.extra)
                continue
        closed += Payment.objects.filter(pk=payment.pk, status__in=[*OPEN_STATUSES, Payment.Status.FAILED]).update(
            status=Payment.Status.CANCELLED, updated_at=timezone.now()
        )
    return closed


class OrderPaymentAdapter:
    """The payment side of `orders.payment_port.PaymentPort`."""

    def refund(
        self, *, order_id: UUID, amount: Decimal, reason: str, actor_id: UUID | None, cancel_order: bool
    ) -> None:
        refund_order(order_id=order_id, amount=amount, reason=reason, actor_id=actor_id, cancel_order=cancel_order)

    def order_closed(self, *, order_id: UUID) -> None:
        from .tasks import payments_close_for_order_task

        enqueue_on_commit(payments_close_for_order_task, str(order_id))
