"""Writes of the orders app: checkout, every change of status, and what each change does to stock,
coupons and the customer.

Lock order (the same everywhere, so concurrent work queues instead of deadlocking): one owning row
first, then product variants by ascending pk (shop.stock), then the coupon row (coupons.services).
The owning row is the cart at checkout (after the customer's row, which an account erasure locks
too; the new order row is only inserted, so nobody waits on it) and the order row for every later
change (cancel, expiry, shipment, refund). The payment app locks an order row before its payment
rows (payment.services._lock_payment) and then calls in here, where locking the order again is
free: order -> payment, never the reverse.
No function here holds a lock while money moves (payment_port calls happen outside any transaction
of ours).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from account.errors import AccountDisabled
from account.models import Address, User
from cart.errors import CartNotFound
from cart.models import Cart, CartLine
from cart.pricing import price_cart
from cart.selectors import cart_pricing_input, coupon_rules_for
from core.errors import DomainError, InvalidTransition
from core.links import frontend_link
from core.media import absolute_media_url
from core.money import ZERO, quantize
from core.outbox import outbox_enqueue
from coupons.errors import coupon_error_for
from coupons.services import coupon_redeem, coupon_redemptions_claim, coupon_release
from shipping.models import ShippingMethod
from shop import stock
from shop.selectors import product_first_image, product_sellable_annotation

from . import live
from .errors import (
    AddressNotFound,
    CancelNotAllowed,
    CartEmpty,
    CurrencyMismatch,
    GuestEmailRequired,
    OrderNotFound,
    RefundPending,
    RefundTooLarge,
    ShippingMethodUnavailable,
    TotalMismatch,
)
from .gdpr import order_scrub_if_owner_erased
from .models import ActorRole, Order, OrderEvent, OrderLine, order_token_hash
from .notifications import order_event_notify_on_commit
from .payment_port import payment_port
from .state import (
    AWAITING_PAYMENT,
    HOLDS_ALLOCATION,
    OPEN_STATUSES,
    REFUNDABLE_STATUSES,
    OrderStatus,
    ensure_transition,
)

# A guest's order token: 32 random bytes, urlsafe base64 (43 characters).
GUEST_TOKEN_BYTES = 32
# Statuses of an order whose goods were bought: claiming one lets the customer review them.
PURCHASED_STATUSES = frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED})

# Crockford's base32 without I, L, O, U: readable over the phone, no accidental words.
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

EVENT_KIND_FOR_STATUS = {
    OrderStatus.PENDING_PAYMENT: OrderEvent.Kind.PLACED,
    OrderStatus.PAYMENT_PROCESSING: OrderEvent.Kind.PAYMENT_PROCESSING,
    OrderStatus.PAID: OrderEvent.Kind.PAID,
    OrderStatus.SHIPPED: OrderEvent.Kind.SHIPPED,
    OrderStatus.DELIVERED: OrderEvent.Kind.DELIVERED,
    OrderStatus.CANCELLED: OrderEvent.Kind.CANCELLED,
    OrderStatus.REFUNDED: OrderEvent.Kind.REFUNDED,
}


def order_number_generate() -> str:
    """`YYMMDD-XXXX-XXXX`: the date for humans, 40 random bits so numbers reveal no sales volume.
    The unique constraint decides; `order_place` draws again on the (rare) collision."""
    random_part = "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(8))
    return f"{timezone.now():%y%m%d}-{random_part[:4]}-{random_part[4:]}"


def actor_role_of(actor: User | None) -> str:
    if actor is None:
        return ActorRole.SYSTEM
    return ActorRole.STAFF if actor.is_staff else ActorRole.CUSTOMER


def _lock_order(order_id: UUID | str) -> Order:
    try:
        return Order.objects.select_for_update().get(pk=order_id)
    except (Order.DoesNotExist, ValueError, ValidationError):
        raise OrderNotFound()


def _event_write(
    order: Order,
    *,
    kind: str,
    from_status: str,
    actor: User | None,
    actor_role: str | None = None,
    note: str = "",
    amount: Decimal | None = None,
    notify_order_url: str | None = None,
) -> OrderEvent:
    event = OrderEvent.objects.create(
        order=order,
        kind=kind,
        from_status=from_status,
        to_status=order.status,
        actor=actor,
        actor_role=actor_role or actor_role_of(actor),
        note=note[:500],
        amount=amount,
    )
    order_event_notify_on_commit(event, order_url=notify_order_url)
    return event


def _provider_event_write(order: Order, *, kind: str, note: str, amount: Decimal | None) -> OrderEvent:
    """A timeline line from the payment provider that leaves the status as it is."""
    return _event_write(
        order,
        kind=kind,
        from_status=order.status,
        actor=None,
        actor_role=ActorRole.PAYMENT_PROVIDER,
        note=note,
        amount=amount,
    )


def _transition(
    order: Order,
    *,
    to: str,
    actor: User | None,
    actor_role: str | None = None,
    note: str = "",
    amount: Decimal | None = None,
    kind: str | None = None,
    **fields: Any,
) -> OrderEvent:
    """Move a locked order to `to`, write its fields and the event (of `kind`, by default the one
    of the new status). The only status writer."""
    ensure_transition(order.status, to)
    previous = order.status
    now = timezone.now()
    # Guarded on the status we read: a move that raced another one changes nothing.
    updated = Order.objects.filter(pk=order.pk, status=previous).update(status=to, updated_at=now, **fields)
    if updated != 1:
        raise InvalidTransition("The order changed meanwhile; reload it and try again.")
    order.status = to
    order.updated_at = now
    for name, value in fields.items():
        setattr(order, name, value)
    event = _event_write(
        order,
        kind=kind or EVENT_KIND_FOR_STATUS[to],
        from_status=previous,
        actor=actor,
        actor_role=actor_role,
        note=note,
        amount=amount,
    )
    if previous in OPEN_STATUSES and to not in OPEN_STATUSES:
        order_scrub_if_owner_erased(order)  # an erasure left this order's copies while it was open
    live.status_publish_on_commit(order)  # /ws/orders/<id>/ listeners
    return event


def _held_quantities(order: Order) -> dict[int, int]:
    return stock.quantities_by_variant(
        (line.variant_id, line.quantity) for line in order.lines.all() if line.variant_id is not None
    )


def _coupon_release(order: Order) -> None:
    if order.coupon_id is not None:
        coupon_release(coupon=order.coupon, order_id=order.pk)


def _release_holdings(order: Order, *, release_coupon: bool) -> None:
    stock.stock_release(quantities=_held_quantities(order))
    if release_coupon:
        _coupon_release(order)


# --- checkout -----------------------------------------------------------------------------------

ADDRESS_FIELDS = Address.POSTAL_FIELDS


def _address_snapshot(source: Address | Mapping[str, Any]) -> dict[str, str]:
    if isinstance(source, Address):
        values = {name: getattr(source, name) for name in ADDRESS_FIELDS}
    else:
        values = {name: source.get(name) or "" for name in ADDRESS_FIELDS}
    values["country"] = str(values["country"]).upper()
    return {name: str(value) for name, value in values.items()}


def _checkout_addresses(
    *,
    user: User | None,
    shipping_address_id: UUID | None,
    shipping_address: Mapping[str, Any] | None,
    billing_address_id: UUID | None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Both snapshots from the caller's own address book in one query; billing defaults to shipping.
    A guest has no address book: only a typed address."""
    wanted = {pk for pk in (shipping_address_id, billing_address_id) if pk is not None}
    book = (
        {address.pk: address for address in Address.objects.filter(user=user, pk__in=wanted)}
        if wanted and user is not None
        else {}
    )
    if shipping_address_id is not None:
        if shipping_address_id not in book:
            raise AddressNotFound(attr="shipping_address_id")
        shipping = _address_snapshot(book[shipping_address_id])
    elif shipping_address is not None:
        shipping = _address_snapshot(shipping_address)
    else:
        raise AddressNotFound(
            "A shipping address is required.", code="shipping_address_required", attr="shipping_address_id"
        )
    if billing_address_id is None:
        return shipping, dict(shipping)
    if billing_address_id not in book:
        raise AddressNotFound(attr="billing_address_id")
    return shipping, _address_snapshot(book[billing_address_id])


def _shipping_method_snapshot(method: ShippingMethod, *, price: Decimal) -> dict[str, Any]:
    return {
        "id": str(method.pk),
        "name": method.name,
        "description": method.description,
        "min_delivery_days": method.min_delivery_days,
        "max_delivery_days": method.max_delivery_days,
        "price": str(price),
        "currency": method.currency,
    }


def _insert_with_fresh_number(order: Order) -> None:
    """Insert the order; a number drawn twice (40 random bits a day) is drawn again in a savepoint."""
    for attempt in range(5):
        order.number = order_number_generate()
        try:
            with transaction.atomic():
                order.save(force_insert=True)
            return
        except IntegrityError:
            if attempt == 4:
                raise


def normalize_guest_email(email: str) -> str:
    return email.strip().lower()


@transaction.atomic
def order_place(
    *,
    user: User | None,
    shipping_method_id: UUID,
    shipping_address_id: UUID | None = None,
    shipping_address: Mapping[str, Any] | None = None,
    billing_address_id: UUID | None = None,
    expected_total: Decimal | None = None,
    cart_id: UUID | None = None,
    email: str | None = None,
) -> Order:
    """Turn the caller's cart into an order waiting for payment, all or nothing.

    A guest checkout is the same call with `user=None`, the anonymous cart's id (`cart_id`, its
    token) and the guest's `email`: the order has no user, a `guest_email`, and a random secret
    whose sha256 it keeps; the raw secret is on the returned instance only (`order.order_token`)
    and in the link of the confirmation email queued here.

    Locks, in the shop's one order: the customer's row (none for a guest), the cart row, then its
    variants by ascending pk (one query), then the coupon row (coupon_redeem). Stock is held by one guarded UPDATE and the coupon use
    counted under its lock, so neither can be oversold; the cost in queries does not depend on the
    number of lines. Any refusal raises and the transaction leaves nothing behind."""
    guest = user is None
    carts = Cart.objects.select_for_update(of=("self",)).select_related("coupon")
    if guest:
        if cart_id is None:
            raise CartNotFound()
        if not email or not email.strip():
            raise GuestEmailRequired(attr="email")
        cart = carts.filter(pk=cart_id, user__isnull=True).first()
        if cart is None:
            raise CartNotFound()
    else:
        # The customer's row before the cart: an erasure holds it while it checks for open orders
        # (account.services.user_anonymize), so a checkout lands before it (and it is refused) or after.
        if User.objects.select_for_update(no_key=True).filter(pk=user.pk, is_active=True).values("pk").first() is None:
            raise AccountDisabled()
        cart = carts.filter(user=user).first()
    lines = (
        list(
            CartLine.objects.filter(cart=cart)
            .select_related("variant__product__category")
            .annotate(
                product_sellable=product_sellable_annotation(prefix="variant__product__"),
                product_image=product_first_image(product_ref="variant__product_id"),
            )
            .select_for_update(of=("variant",))
            .order_by("variant_id")
        )
        if cart is not None
        else []
    )
    if not lines:
        raise CartEmpty()
    shipping, billing = _checkout_addresses(
        user=user,
        shipping_address_id=shipping_address_id,
        shipping_address=shipping_address,
        billing_address_id=billing_address_id,
    )
    method = ShippingMethod.objects.filter(pk=shipping_method_id).first()
    if method is None:
        raise ShippingMethodUnavailable(attr="shipping_method_id")
    if any(line.variant.currency != cart.currency for line in lines):
        raise CurrencyMismatch()

    pricing_input = cart_pricing_input(
        cart=cart,
        lines=lines,
        country=shipping["country"],
        region=shipping["region"],
        shipping_method=method,
        coupon=None,
    )
    if cart.coupon is not None:
        # Whether the coupon may be used now is decided by coupon_redeem under the coupon's lock;
        # pricing only decides what it is worth for these lines.
        pricing_input = replace(pricing_input, coupon=coupon_rules_for(cart.coupon))
    breakdown = price_cart(pricing_input)
    if breakdown.shipping_issue:
        raise ShippingMethodUnavailable(attr="shipping_method_id")
    if breakdown.coupon_issue:
        raise coupon_error_for(breakdown.coupon_issue)
    if expected_total is not None and quantize(expected_total) != breakdown.total:
        raise TotalMismatch(attr="expected_total", total=str(breakdown.total), currency=breakdown.currency)

    variants = {line.variant_id: line.variant for line in lines}
    for line in lines:
        if not line.product_sellable:
            # Hidden from customers (the product, its category or an ancestor is inactive): out of stock.
            variants.pop(line.variant_id, None)
    stock.stock_allocate(
        quantities=stock.quantities_by_variant((line.variant_id, line.quantity) for line in lines),
        variants=variants,
    )

    now = timezone.now()
    order_email = normalize_guest_email(email) if guest else (user.email or "")
    order_token = secrets.token_urlsafe(GUEST_TOKEN_BYTES) if guest else None
    order = Order(
        id=uuid.uuid4(),
        user=user,
        email=order_email,
        guest_email=order_email if guest else "",
        guest_token_hash=order_token_hash(order_token) if order_token else "",
        currency=breakdown.currency,
        subtotal=breakdown.subtotal,
        discount_total=breakdown.discount_total,
        shipping_total=breakdown.shipping_total,
        tax_total=breakdown.tax_total,
        total=breakdown.total,
        coupon=cart.coupon,
        coupon_code=cart.coupon.code if cart.coupon else "",
        shipping_method=method,
        shipping_method_snapshot=_shipping_method_snapshot(method, price=breakdown.shipping_total),
        shipping_address=shipping,
        billing_address=billing,
        payment_due_by=now + timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES),
    )
    if cart.coupon is not None:
        coupon_redeem(coupon=cart.coupon, user=user, email=order_email, order_id=order.pk)
    _insert_with_fresh_number(order)

    prices = {line_price.key: line_price for line_price in breakdown.lines}
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                variant=line.variant,
                product_id=line.variant.product_id,
                product_name=line.variant.product.name,
                product_slug=line.variant.product.slug,
                image=(absolute_media_url(line.product_image) or "")[:500],  # the field's length
                variant_name=line.variant.name,
                sku=line.variant.sku,
                unit_price=prices[str(line.pk)].unit_price,
                quantity=line.quantity,
                line_total=prices[str(line.pk)].line_total,
                discount=prices[str(line.pk)].discount,
                tax=prices[str(line.pk)].tax,
            )
            for line in lines
        ]
    )
    _event_write(
        order,
        kind=OrderEvent.Kind.PLACED,
        from_status="",
        actor=user,
        actor_role=ActorRole.CUSTOMER if guest else None,
        amount=order.total,
        # The only email that can carry the guest's secret: it is known only now.
        notify_order_url=(
            frontend_link("guest_order", order_id=order.pk, order_token=order_token) if order_token else None
        ),
    )
    # The cart row is ours (locked above): empty it the way cart_clear does, without re-locking it.
    CartLine.objects.filter(cart=cart).delete()
    Cart.objects.filter(pk=cart.pk).update(coupon=None, shipping_method=None, updated_at=now)
    order.order_token = order_token
    return order


@transaction.atomic
def guest_orders_claim(*, user: User) -> int:
    """Attach the guest orders placed with `user`'s email to the account, once that email is proven
    theirs (verified; called on verification and on every login). An unverified email claims
    nothing. Returns how many orders joined the account.

    Locks the customer's row first, as checkout and erasure do, so an erasure never misses an open
    order that joins meanwhile; the email is read under that lock. Most logins have no guest order
    to claim: one indexed look without locks answers them."""
    email = normalize_guest_email(user.email or "")
    if not email or not Order.objects.filter(user__isnull=True, guest_email=email).exists():
        return 0
    row = (
        User.objects.select_for_update(no_key=True)
        .filter(pk=user.pk, is_active=True, email_verified=True)
        .values("email")
        .first()
    )
    email = normalize_guest_email((row or {}).get("email") or "")
    if not email:
        return 0
    orders = list(
        Order.objects.select_for_update()
        .filter(user__isnull=True, guest_email=email)
        .order_by("pk")
        .prefetch_related("lines")
    )
    if not orders:
        return 0
    Order.objects.filter(pk__in=[order.pk for order in orders]).update(user=user, updated_at=timezone.now())
    coupon_redemptions_claim(order_ids=[order.pk for order in orders], user=user)
    for order in orders:
        order.user = user
        if order.status in PURCHASED_STATUSES:
            _purchases_record(order)
    return len(orders)


# --- customer and staff actions -------------------------------------------------------------------


def order_cancel(*, order_id: UUID | str, actor: User | None, reason: str = "") -> Order:
    """Cancel an order. Unpaid: at once, stock and coupon released. Paid (staff only): everything
    captured is refunded first; the order becomes `cancelled` when the payment app confirms it."""
    with transaction.atomic():
        order = _lock_order(order_id)
        if order.status == OrderStatus.PENDING_PAYMENT:
            _cancel_unpaid(order, actor=actor, actor_role=actor_role_of(actor), reason=reason or "Cancelled.")
            return order
        if order.status == OrderStatus.PAYMENT_PROCESSING:
            # The money is on its way: only staff may give up on it (a late success is refunded).
            if actor is not None and not actor.is_staff:
                raise CancelNotAllowed("The payment of this order is being processed; only staff can cancel it now.")
            _cancel_unpaid(order, actor=actor, actor_role=actor_role_of(actor), reason=reason or "Cancelled.")
            return order
        ensure_transition(order.status, OrderStatus.CANCELLED)
        if actor is not None and not actor.is_staff:
            raise CancelNotAllowed()
        to_refund = order.refundable_amount
        if to_refund <= ZERO:
            # Nothing was captured (a zero-total order): cancel like an unpaid one.
            _transition(
                order,
                to=OrderStatus.CANCELLED,
                actor=actor,
                note=reason,
                cancelled_at=timezone.now(),
                cancellation_reason=reason[:255],
            )
            _release_holdings(order, release_coupon=True)
            return order
    payment_port().refund(
        order_id=order.pk,
        amount=to_refund,
        reason=reason or "Order cancelled.",
        actor_id=actor.pk if actor else None,
        cancel_order=True,
    )
    return Order.objects.get(pk=order.pk)


def _cancel_unpaid(order: Order, *, actor: User | None, actor_role: str, reason: str) -> None:
    _transition(
        order,
        to=OrderStatus.CANCELLED,
        actor=actor,
        actor_role=actor_role,
        note=reason,
        cancelled_at=timezone.now(),
        cancellation_reason=reason[:255],
    )
    _release_holdings(order, release_coupon=True)
    order_id = order.pk
    transaction.on_commit(lambda: _payment_port_order_closed(order_id))


def _payment_port_order_closed(order_id: UUID) -> None:
    try:
        port = payment_port()
    except DomainError:
        return
    port.order_closed(order_id=order_id)


@transaction.atomic
def order_ship(
    *, order_id: UUID | str, actor: User | None, carrier: str, tracking_number: str, tracking_url: str = ""
) -> Order:
    """Staff hand the parcel to the carrier: the stock held by the order leaves the warehouse. Not
    while a refund is pending (a cancellation's refund, or a partial one): the goods would leave
    while the money goes back."""
    order = _lock_order(order_id)
    ensure_transition(order.status, OrderStatus.SHIPPED)
    if order.amount_refund_pending > ZERO:
        raise RefundPending(amount_refund_pending=str(order.amount_refund_pending))
    _transition(
        order,
        to=OrderStatus.SHIPPED,
        actor=actor,
        note=f"{carrier} {tracking_number}".strip(),
        carrier=carrier,
        tracking_number=tracking_number,
        tracking_url=tracking_url,
        shipped_at=timezone.now(),
    )
    stock.stock_ship(quantities=_held_quantities(order))
    return order


@transaction.atomic
def order_deliver(*, order_id: UUID | str, actor: User | None) -> Order:
    order = _lock_order(order_id)
    _transition(order, to=OrderStatus.DELIVERED, actor=actor, delivered_at=timezone.now())
    return order


def order_refund(*, order_id: UUID | str, actor: User | None, amount: Decimal | None, reason: str) -> Order:
    """Staff refund of a paid, shipped or delivered order, in full (no amount) or in part. The money
    moves through the payment app; the order records it in `order_refund_record` once confirmed."""
    with transaction.atomic():
        order = _lock_order(order_id)
        if order.status not in REFUNDABLE_STATUSES:
            ensure_transition(order.status, OrderStatus.REFUNDED)
        refundable = order.refundable_amount
        amount = quantize(amount) if amount is not None else refundable
        if amount <= ZERO or amount > refundable:
            raise RefundTooLarge(refundable=str(refundable), attr="amount")
    payment_port().refund(
        order_id=order.pk, amount=amount, reason=reason, actor_id=actor.pk if actor else None, cancel_order=False
    )
    return Order.objects.get(pk=order.pk)


# --- expiry -------------------------------------------------------------------------------------


def order_expire(*, order_id: UUID | str) -> bool:
    """Cancel one unpaid order whose payment window has passed; False when it was paid or
    cancelled meanwhile (the row lock makes the check and the cancel one step)."""
    with transaction.atomic():
        order = _lock_order(order_id)
        if order.status != OrderStatus.PENDING_PAYMENT or order.payment_due_by > timezone.now():
            return False
        _cancel_unpaid(order, actor=None, actor_role=ActorRole.SYSTEM, reason="Payment not received in time.")
        return True


def orders_expire_overdue(*, limit: int | None = None) -> int:
    """Expire overdue unpaid orders, each in its own transaction so one failure stops no other."""
    limit = limit or settings.ORDER_EXPIRY_BATCH_SIZE
    overdue = list(
        Order.objects.filter(status=OrderStatus.PENDING_PAYMENT, payment_due_by__lte=timezone.now())
        .order_by("payment_due_by")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for order_id in overdue if order_expire(order_id=order_id))


# --- called by the payment app ------------------------------------------------------------------


@transaction.atomic
def order_mark_paid(*, order_id: UUID | str, amount: Decimal, currency: str, reference: str) -> bool:
    """The payment provider captured `amount` for the order. True when the order is (now) paid by
    this payment; False when it can no longer be paid (cancelled, expired, refunded or paid by
    another payment): the caller then refunds the money. The caller checks amount and currency
    first; a mismatch here is a programming error and raises."""
    order = _lock_order(order_id)
    if order.status not in AWAITING_PAYMENT:
        return order.payment_reference == reference and order.status != OrderStatus.CANCELLED
    if quantize(amount) != order.total or currency.upper() != order.currency:
        raise DomainError(
            "The payment does not match the order total.", code="payment_amount_mismatch", status_code=409
        )
    _transition(
        order,
        to=OrderStatus.PAID,
        actor=None,
        actor_role=ActorRole.PAYMENT_PROVIDER,
        amount=order.total,
        amount_paid=order.total,
        payment_reference=reference,
        paid_at=timezone.now(),
    )
    _purchases_record(order)
    # Same transaction as the status change: the ERP push is never lost and never sent for an
    # order whose payment rolled back (drained by core.outbox, handled by erp).
    outbox_enqueue(topic="order.paid", key=str(order.pk), payload={"order_id": str(order.pk), "number": order.number})
    return True


def _purchases_record(order: Order) -> None:
    """Paid orders make reviews possible (shop's rule): shop records who bought what."""
    if order.user_id is None:
        return
    from shop.services import product_purchases_record

    product_ids = sorted({line.product_id for line in order.lines.all() if line.product_id is not None})
    if product_ids:
        product_purchases_record(user=order.user, order_id=order.pk, product_ids=product_ids)


@transaction.atomic
def order_payment_processing(*, order_id: UUID | str, note: str = "") -> bool:
    """The provider accepted a payment that settles later (a bank debit): the order waits in
    `payment_processing`, its stock held and out of the expiry's reach. False when the order no
    longer waits for money (a success that follows pays it or is refunded as usual)."""
    order = _lock_order(order_id)
    if order.status != OrderStatus.PENDING_PAYMENT:
        return order.status == OrderStatus.PAYMENT_PROCESSING
    _transition(
        order,
        to=OrderStatus.PAYMENT_PROCESSING,
        actor=None,
        actor_role=ActorRole.PAYMENT_PROVIDER,
        note=note or "The payment is being processed by the bank.",
        amount=order.total,
    )
    return True


@transaction.atomic
def order_payment_failed(*, order_id: UUID | str, reason: str = "") -> str:
    """A processing payment failed. Within the payment window the order is `pending_payment`
    again (the customer may pay another way); after it, the order is cancelled and its stock and
    coupon released, as the expiry would have done. Other statuses are left alone."""
    order = _lock_order(order_id)
    if order.status != OrderStatus.PAYMENT_PROCESSING:
        return "unchanged"
    note = f"The payment failed: {reason}" if reason else "The payment failed."
    if order.payment_due_by > timezone.now():
        _transition(
            order,
            to=OrderStatus.PENDING_PAYMENT,
            actor=None,
            actor_role=ActorRole.PAYMENT_PROVIDER,
            note=note,
            kind=OrderEvent.Kind.PAYMENT_FAILED,
        )
        return "pending_payment"
    _cancel_unpaid(
        order, actor=None, actor_role=ActorRole.PAYMENT_PROVIDER, reason=f"{note} The payment window had closed."
    )
    return "cancelled"


@transaction.atomic
def order_refund_pending_set(*, order_id: UUID | str, amount: Decimal) -> None:
    """The payment app reports what is refunded but not yet confirmed (recomputed from its refund
    rows under the same order lock), so `order_ship` can refuse and the order shows it."""
    order = _lock_order(order_id)
    amount = quantize(amount)
    if order.amount_refund_pending != amount:
        Order.objects.filter(pk=order.pk).update(amount_refund_pending=amount, updated_at=timezone.now())


@transaction.atomic
def order_dispute_record(*, order_id: UUID | str, status: str, note: str, amount: Decimal | None) -> OrderEvent:
    """A dispute (chargeback) opened or moved at the provider: the order shows its status and the
    timeline says what happened. Money is not moved here: a lost dispute is already withdrawn by
    the provider, and staff decide about the goods."""
    order = _lock_order(order_id)
    Order.objects.filter(pk=order.pk).update(dispute_status=status[:30], updated_at=timezone.now())
    order.dispute_status = status[:30]
    return _provider_event_write(order, kind=OrderEvent.Kind.DISPUTE, note=note, amount=amount)


@transaction.atomic
def order_refund_record(
    *,
    order_id: UUID | str,
    amount: Decimal,
    actor_id: UUID | str | None,
    note: str = "",
    cancel_order: bool = False,
    of_order_payment: bool = True,
) -> Order:
    """The payment app confirms `amount` went back to the customer. Adds it to `amount_refunded`;
    when everything paid is refunded the order becomes `refunded` (or `cancelled` when the refund
    was asked for by a cancellation), releasing what it still held. A refund of money that did not
    pay the order (`of_order_payment=False`: a payment that arrived after cancellation, or a second
    payment) is only noted on the timeline."""
    order = _lock_order(order_id)
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    role = actor_role_of(actor) if actor else ActorRole.PAYMENT_PROVIDER
    amount = quantize(amount)
    if not of_order_payment or order.status not in REFUNDABLE_STATUSES or order.amount_paid <= ZERO:
        _event_write(
            order,
            kind=OrderEvent.Kind.REFUNDED,
            from_status=order.status,
            actor=actor,
            actor_role=role,
            note=note or "A payment received for this order was refunded.",
            amount=amount,
        )
        return order
    refunded = order.amount_refunded + amount
    if refunded > order.amount_paid:
        raise RefundTooLarge(refundable=str(order.refundable_amount))
    if refunded < order.amount_paid:
        Order.objects.filter(pk=order.pk).update(amount_refunded=refunded, updated_at=timezone.now())
        order.amount_refunded = refunded
        _event_write(
            order,
            kind=OrderEvent.Kind.REFUNDED,
            from_status=order.status,
            actor=actor,
            actor_role=role,
            note=note or "Partial refund.",
            amount=amount,
        )
        return order
    held_stock = order.status in HOLDS_ALLOCATION
    now = timezone.now()
    if cancel_order and order.status == OrderStatus.PAID:
        _transition(
            order,
            to=OrderStatus.CANCELLED,
            actor=actor,
            actor_role=role,
            note=note,
            amount=amount,
            amount_refunded=refunded,
            cancelled_at=now,
            refunded_at=now,
            cancellation_reason=note[:255],
        )
        _release_holdings(order, release_coupon=True)
        return order
    _transition(
        order,
        to=OrderStatus.REFUNDED,
        actor=actor,
        actor_role=role,
        note=note,
        amount=amount,
        amount_refunded=refunded,
        refunded_at=now,
    )
    if held_stock:
        # Refunded before shipping: the units never left; the coupon use stands (documented).
        _release_holdings(order, release_coupon=False)
    return order


@transaction.atomic
def order_note_add(*, order_id: UUID | str, note: str, amount: Decimal | None = None) -> OrderEvent:
    """A line on the timeline that changes nothing (e.g. a late payment being refunded)."""
    order = _lock_order(order_id)
    return _provider_event_write(order, kind=OrderEvent.Kind.NOTE, note=note, amount=amount)
