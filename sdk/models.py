"""Typed results.

Each API object is a frozen-ish dataclass built by `Model.from_dict`: known fields are converted
from their JSON form (amounts to `Decimal`, timestamps to aware `datetime`, nested objects to
their model) and the whole payload stays in `raw`, so a field the server adds later is readable
(`obj.raw["new_field"]`, or `obj.extra` for only the unknown ones) without upgrading the SDK.
A field the server leaves out is `None` (or an empty list/dict), never an exception.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar, Union

Id = int | str  # products and variants use integers, orders/carts/payments UUID strings

T = TypeVar("T", bound="Model")
M = TypeVar("M", bound="Model")

_hints_cache: dict[type, dict[str, Any]] = {}


def _parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return value
    text = value.strip()
    # Python 3.10's fromisoformat does not take the "Z" suffix DRF emits.
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone(timedelta(0)))


def _parse_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return value
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _parse_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    try:
        # str() first: a float that slipped through must not carry binary noise into the Decimal.
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin is Union or origin is types.UnionType:
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(options) == 1:
            return _convert(options[0], value)
        return value  # a real union (e.g. Id): keep the JSON value as it is
    if origin is list:
        (item_hint,) = typing.get_args(hint) or (Any,)
        return [_convert(item_hint, item) for item in value] if isinstance(value, list) else value
    if origin is dict or hint is Any:
        return value
    if isinstance(hint, type):
        if issubclass(hint, Model):
            return hint.from_dict(value) if isinstance(value, dict) else value
        if hint is Decimal:
            return _parse_decimal(value)
        if hint is datetime:
            return _parse_datetime(value)
        if hint is date:
            return _parse_date(value)
        if hint is bool:
            return bool(value)
        if hint is int and isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                return value
        if hint is str and not isinstance(value, str):
            return str(value)
    return value


def _empty_value(hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin is list:
        return []
    if origin is dict:
        return {}
    return None


@dataclass
class Model:
    """Base of every result type."""

    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def _hints(cls) -> dict[str, Any]:
        if cls not in _hints_cache:
            _hints_cache[cls] = typing.get_type_hints(cls, vars(sys.modules[__name__]))
        return _hints_cache[cls]

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any] | None) -> T:
        data = dict(data or {})
        hints = cls._hints()
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name == "raw":
                continue
            hint = hints[f.name]
            if f.name in data:
                converted = _convert(hint, data[f.name])
                values[f.name] = _empty_value(hint) if converted is None else converted
            else:
                values[f.name] = _empty_value(hint)
        return cls(raw=data, **values)

    @property
    def extra(self) -> dict[str, Any]:
        """The payload's fields this SDK version does not know."""
        known = {f.name for f in dataclasses.fields(self)}
        return {k: v for k, v in self.raw.items() if k not in known}

    def get(self, key: str, default: Any = None) -> Any:
        """A field by name, known or not: typed value when known, raw JSON otherwise."""
        if key != "raw" and key in {f.name for f in dataclasses.fields(self)}:
            return getattr(self, key)
        return self.raw.get(key, default)

    def to_dict(self) -> dict[str, Any]:
        """The payload as received (JSON types)."""
        return dict(self.raw)


# --- pages ----------------------------------------------------------------------------------------


@dataclass
class Page(Generic[M]):
    """One page of a list: `count` (total across pages), `next`/`previous` (URLs or None), `results`."""

    results: list[M]
    count: int | None = None
    next: str | None = None
    previous: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def has_next(self) -> bool:
        return bool(self.next)

    def __iter__(self) -> Iterator[M]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, index: int) -> M:
        return self.results[index]

    @classmethod
    def parse(cls, payload: Any, model: type[M]) -> Page[M]:
        # Endpoints that are not paginated answer a bare list; treat it as the only page.
        if isinstance(payload, list):
            return cls(results=[model.from_dict(item) for item in payload], count=len(payload), raw={})
        payload = payload or {}
        return cls(
            results=[model.from_dict(item) for item in payload.get("results") or []],
            count=payload.get("count"),
            next=payload.get("next"),
            previous=payload.get("previous"),
            raw={k: v for k, v in payload.items() if k != "results"},
        )


@dataclass
class CursorPage(Page[M]):
    """A cursor-paginated page (chat history): no `count`; pass `next_cursor` to get the next one."""

    @property
    def next_cursor(self) -> str | None:
        return _cursor_from(self.next)

    @property
    def previous_cursor(self) -> str | None:
        return _cursor_from(self.previous)


def _cursor_from(url: str | None) -> str | None:
    if not url:
        return None
    from urllib.parse import parse_qs, urlsplit

    values = parse_qs(urlsplit(url).query).get("cursor")
    return values[0] if values else None


# --- authentication and account -------------------------------------------------------------------


@dataclass
class Tokens(Model):
    access: str | None = None
    refresh: str | None = None


@dataclass
class User(Model):
    id: str | None = None
    email: str | None = None
    # A new email or phone waits here until it is verified; the login stays the old one meanwhile.
    pending_email: str | None = None
    email_verified: bool | None = None
    phone: str | None = None
    pending_phone: str | None = None
    phone_verified: bool | None = None
    first_name: str | None = None
    last_name: str | None = None
    marketing_opt_in: bool | None = None
    sms_opt_in: bool | None = None
    is_staff: bool | None = None
    date_joined: datetime | None = None


@dataclass
class AuthResult(Model):
    """What login, OTP verification, social login and a password change answer."""

    user: User | None = None
    tokens: Tokens | None = None


@dataclass
class Address(Model):
    """An address-book entry, or the address snapshot on an order (then `id` is None)."""

    id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    phone: str | None = None
    is_default_shipping: bool | None = None
    is_default_billing: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


# --- catalog --------------------------------------------------------------------------------------


@dataclass
class Category(Model):
    """A category: in the tree (`children`), in a product (`slug`, `name` only) or in detail
    (`parent`, `ancestors` root first, `children` the subtree)."""

    slug: str | None = None
    name: str | None = None
    description: str | None = None
    depth: int | None = None
    sort_order: int | None = None
    is_active: bool | None = None
    parent: Category | None = None
    ancestors: list[Category] = field(default_factory=list)
    children: list[Category] = field(default_factory=list)


@dataclass
class ProductImage(Model):
    id: Id | None = None
    url: str | None = None
    alt_text: str | None = None
    sort_order: int | None = None


@dataclass
class Variant(Model):
    id: Id | None = None
    sku: str | None = None
    name: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    price: Decimal | None = None
    compare_at_price: Decimal | None = None
    currency: str | None = None
    weight: Decimal | None = None
    in_stock: bool | None = None
    available_quantity: int | None = None


@dataclass
class Product(Model):
    """A product as it appears in lists: `price` is the lowest variant price, `image` a URL."""

    id: Id | None = None
    slug: str | None = None
    name: str | None = None
    brand: str | None = None
    price: Decimal | None = None
    compare_at_price: Decimal | None = None
    currency: str | None = None
    image: str | None = None
    rating_average: Decimal | None = None
    rating_count: int | None = None
    in_stock: bool | None = None
    category: Category | None = None


@dataclass
class RatingSummary(Model):
    average: Decimal | None = None
    count: int | None = None
    # Visible reviews per star: keys "1" to "5".
    distribution: dict[str, int] = field(default_factory=dict)


@dataclass
class ProductDetail(Product):
    description: str | None = None
    breadcrumbs: list[Category] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    variants: list[Variant] = field(default_factory=list)
    images: list[ProductImage] = field(default_factory=list)
    rating: RatingSummary | None = None
    seo_title: str | None = None
    seo_description: str | None = None
    is_active: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class BoughtTogetherProduct(Product):
    times_bought_together: int | None = None


@dataclass
class RelatedProducts(Model):
    same_category: list[Product] = field(default_factory=list)
    bought_together: list[BoughtTogetherProduct] = field(default_factory=list)


@dataclass
class PriceRange(Model):
    min: Decimal | None = None
    max: Decimal | None = None


@dataclass
class CategoryFacet(Model):
    slug: str | None = None
    name: str | None = None
    count: int | None = None


@dataclass
class ProductFacets(Model):
    """Counts for the same filters as the product list."""

    count: int | None = None
    in_stock: int | None = None
    price: PriceRange | None = None
    categories: list[CategoryFacet] = field(default_factory=list)


@dataclass
class Suggestion(Model):
    slug: str | None = None
    name: str | None = None
    image: str | None = None


@dataclass
class Suggestions(Model):
    """Autocomplete: matching products and categories."""

    products: list[Suggestion] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)


@dataclass
class Review(Model):
    id: str | None = None
    rating: int | None = None
    title: str | None = None
    body: str | None = None
    author: str | None = None
    is_mine: bool | None = None
    is_hidden: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class WishlistItem(Product):
    """A wishlisted product (the product's list fields) and when it was added."""

    added_at: datetime | None = None


# --- cart, shipping ---------------------------------------------------------------------------------


@dataclass
class CartVariant(Model):
    id: Id | None = None
    sku: str | None = None
    name: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class CartProduct(Model):
    slug: str | None = None
    name: str | None = None
    image: str | None = None


@dataclass
class CartLine(Model):
    id: str | None = None
    variant: CartVariant | None = None
    product: CartProduct | None = None
    quantity: int | None = None
    unit_price: Decimal | None = None
    line_total: Decimal | None = None
    discount: Decimal | None = None
    previous_unit_price: Decimal | None = None
    available_quantity: int | None = None
    is_available: bool | None = None
    price_changed: bool | None = None
    # The stock no longer covers the quantity: change the line before checking out.
    insufficient_stock: bool | None = None


@dataclass
class ShippingMethod(Model):
    """A shipping option priced for the current cart, or the method snapshot on an order/cart."""

    id: str | None = None
    name: str | None = None
    description: str | None = None
    zone: str | None = None
    rate_type: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    free_over: Decimal | None = None
    min_delivery_days: int | None = None
    max_delivery_days: int | None = None


@dataclass
class Cart(Model):
    """`id` is the cart token (None before the first write)."""

    id: str | None = None
    currency: str | None = None
    items: list[CartLine] = field(default_factory=list)
    item_count: int | None = None
    subtotal: Decimal | None = None
    discount_total: Decimal | None = None
    shipping_total: Decimal | None = None
    tax_total: Decimal | None = None
    total: Decimal | None = None
    tax_rate: Decimal | None = None
    weight: Decimal | None = None
    coupon_code: str | None = None
    # Why the coupon gives nothing right now (an error code such as coupon_minimum_not_met).
    coupon_issue: str | None = None
    shipping_country: str | None = None
    shipping_region: str | None = None
    shipping_method: ShippingMethod | None = None
    shipping_issue: str | None = None
    updated_at: datetime | None = None

    @property
    def has_stock_issues(self) -> bool:
        return any(line.insufficient_stock or line.is_available is False for line in self.items)


# --- orders and payments ----------------------------------------------------------------------------


@dataclass
class OrderLine(Model):
    id: Id | None = None
    product_id: Id | None = None
    variant_id: Id | None = None
    product_name: str | None = None
    # A snapshot at order time: link back with `get_product(product_slug)`; `image` is absolute.
    product_slug: str | None = None
    image: str | None = None
    variant_name: str | None = None
    sku: str | None = None
    unit_price: Decimal | None = None
    quantity: int | None = None
    line_total: Decimal | None = None
    discount: Decimal | None = None
    tax: Decimal | None = None


@dataclass
class Order(Model):
    id: str | None = None
    number: str | None = None
    status: str | None = None
    lines: list[OrderLine] = field(default_factory=list)
    subtotal: Decimal | None = None
    discount_total: Decimal | None = None
    shipping_total: Decimal | None = None
    tax_total: Decimal | None = None
    total: Decimal | None = None
    currency: str | None = None
    amount_paid: Decimal | None = None
    amount_refunded: Decimal | None = None
    amount_refund_pending: Decimal | None = None
    refund_pending: bool | None = None
    dispute_status: str | None = None
    coupon_code: str | None = None
    shipping_address: Address | None = None
    billing_address: Address | None = None
    shipping_method: ShippingMethod | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    cancellation_reason: str | None = None
    created_at: datetime | None = None
    payment_due_by: datetime | None = None
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    refunded_at: datetime | None = None
    # A guest checkout's secret, in the answer of `create_order(email=...)` only.
    order_token: str | None = None


@dataclass
class OrderEvent(Model):
    id: Id | None = None
    kind: str | None = None
    from_status: str | None = None
    to_status: str | None = None
    actor_role: str | None = None
    note: str | None = None
    amount: Decimal | None = None
    created_at: datetime | None = None


@dataclass
class Payment(Model):
    id: str | None = None
    order_id: str | None = None
    provider: str | None = None
    status: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    # For Stripe.js to confirm the payment on the device; empty once settled.
    client_secret: str | None = None
    captured_amount: Decimal | None = None
    refunded_amount: Decimal | None = None
    failure_code: str | None = None
    created_at: datetime | None = None


# --- chat -------------------------------------------------------------------------------------------


@dataclass
class Participant(Model):
    """A person in a support conversation; `role` on message senders is `customer` or `agent`."""

    id: str | None = None
    name: str | None = None
    email: str | None = None
    role: str | None = None


@dataclass
class ProductRef(Model):
    slug: str | None = None
    name: str | None = None


@dataclass
class Message(Model):
    id: str | None = None
    conversation_id: str | None = None
    sender: Participant | None = None
    body: str | None = None
    created_at: datetime | None = None
    read_at: datetime | None = None


@dataclass
class Conversation(Model):
    id: str | None = None
    subject: str | None = None
    status: str | None = None
    customer: Participant | None = None
    assigned_agent: Participant | None = None
    product: ProductRef | None = None
    order_id: str | None = None
    unread_count: int | None = None
    last_message_at: datetime | None = None
    created_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass
class ReadReceipt(Model):
    conversation_id: str | None = None
    message_id: str | None = None
    read_count: int | None = None
    read_at: datetime | None = None
