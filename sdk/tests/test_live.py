"""The SDK against the real Django app over real HTTP (pytest-django's `live_server`).

Each flow first checks that the server routes it needs exist, by resolving them (the catch-all
`^api/` 404 view does not count): a renamed or missing route FAILS the test with the path it needs,
so the SDK and the server can never drift apart behind a skip.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.core import mail
from django.urls import Resolver404, resolve
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from core import views as core_views
from sdk import (
    AuthenticationError,
    BadRequest,
    Cart,
    Conflict,
    ECommerceClient,
    NotFound,
    Order,
    Page,
    Product,
    ProductDetail,
    Tokens,
    ValidationError,
)

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct-horse-battery"


def require(*paths: str) -> None:
    """Fail the test unless every path resolves to a real view."""
    for path in paths:
        try:
            match = resolve(path)
        except Resolver404:
            match = None
        if match is None or match.func is core_views.not_found:
            pytest.fail(f"the SDK calls {path}, which the server does not route (renamed or removed?)")


def flag_on(name: str) -> None:
    from waffle.models import Flag

    Flag.objects.update_or_create(name=name, defaults={"everyone": True})


@pytest.fixture
def base_url(live_server) -> str:
    return live_server.url


@pytest.fixture
def sdk_client(base_url) -> ECommerceClient:
    return ECommerceClient(base_url, max_retries=0)


def client_for(base_url: str, user, **kwargs) -> ECommerceClient:
    refresh = RefreshToken.for_user(user)
    return ECommerceClient(
        base_url, token=str(refresh.access_token), refresh_token=str(refresh), max_retries=0, **kwargs
    )


@pytest.fixture
def catalog() -> dict:
    """clothing > shirts > tee (19.99 in stock, 24.50 sold out); clothing > hoodie (45.00); mugs > mug (8.00)."""
    from shop.tests.factories import CategoryFactory, ProductFactory, ProductVariantFactory

    clothing = CategoryFactory(name="Clothing", slug="clothing")
    shirts = CategoryFactory(name="Shirts", slug="shirts", parent=clothing)
    mugs = CategoryFactory(name="Mugs", slug="mugs")
    tee = ProductFactory(name="Tee", slug="tee", category=shirts, variants=0)
    tee_small = ProductVariantFactory(
        product=tee, sku="TEE-S", name="Small", options={"size": "S"}, price=Decimal("19.99"), quantity_on_hand=5
    )
    ProductVariantFactory(
        product=tee, sku="TEE-M", name="Medium", options={"size": "M"}, price=Decimal("24.50"), quantity_on_hand=0
    )
    hoodie = ProductFactory(name="Hoodie", slug="hoodie", category=clothing, variants=0)
    ProductVariantFactory(product=hoodie, sku="HOOD-1", price=Decimal("45.00"), quantity_on_hand=3)
    mug = ProductFactory(name="Mug", slug="mug", category=mugs, variants=0)
    ProductVariantFactory(product=mug, sku="MUG-1", price=Decimal("8.00"), quantity_on_hand=10)
    return {"tee": tee, "tee_small": tee_small, "hoodie": hoodie, "mug": mug}


@pytest.fixture
def us_shipping():
    from shipping.tests.factories import ShippingMethodFactory, ShippingZoneFactory

    zone = ShippingZoneFactory(name="United States", countries=["US"])
    return ShippingMethodFactory(zone=zone, name="Standard", flat_price=Decimal("5.00"), currency="USD")


US_ADDRESS = {
    "first_name": "Cam",
    "last_name": "Doe",
    "line1": "1 Main St",
    "city": "Springfield",
    "postal_code": "62701",
    "country": "US",
}


# --- conventions (always built) --------------------------------------------------------------------


def test_unknown_endpoint_is_not_found_with_code_and_request_id(sdk_client):
    with pytest.raises(NotFound) as caught:
        sdk_client.request("GET", "no-such-thing/")

    assert (caught.value.status, caught.value.type, caught.value.code) == (404, "client_error", "not_found")
    assert len(caught.value.request_id) == 32  # the SDK's own X-Request-ID, echoed by the server


# --- authentication and account -------------------------------------------------------------------


def test_login_then_get_me(sdk_client, user):
    require("/api/v1/authentication/login/", "/api/v1/account/me/")
    events: list[Tokens | None] = []
    sdk_client.http.on_tokens = events.append

    result = sdk_client.login("Customer@Example.com", PASSWORD)
    me = sdk_client.get_me()

    assert result.user.id == str(user.id)
    assert events == [Tokens(access=result.tokens.access, refresh=result.tokens.refresh)]
    assert (me.id, me.email, me.first_name, me.email_verified) == (str(user.id), "customer@example.com", "Cam", True)


def test_wrong_password_is_an_authentication_error_with_its_code(sdk_client, user):
    require("/api/v1/authentication/login/")

    with pytest.raises(AuthenticationError) as caught:
        sdk_client.login(user.email, "wrong-password")

    assert (caught.value.status, caught.value.code) == (401, "invalid_credentials")
    assert sdk_client.tokens is None


def test_register_verify_email_then_login(sdk_client):
    require(
        "/api/v1/authentication/register/",
        "/api/v1/authentication/verify-email/some-token/",
        "/api/v1/authentication/login/",
    )
    mail.outbox.clear()

    detail = sdk_client.register("new.person@example.com", "a-long-unusual-passphrase", first_name="Nia")
    with pytest.raises(AuthenticationError) as unverified:
        sdk_client.login("new.person@example.com", "a-long-unusual-passphrase")
    # The link carries the token URL-quoted (core.links); the SDK quotes what it is given.
    token = unquote(re.search(r"verify-email/([^/\s]+)/", mail.outbox[-1].body).group(1))
    verified = sdk_client.verify_email(token)
    result = sdk_client.login("new.person@example.com", "a-long-unusual-passphrase")

    assert detail.startswith("Check your inbox")
    assert unverified.value.code == "email_not_verified"
    assert verified == "Email verified."
    assert (result.user.email, result.user.first_name) == ("new.person@example.com", "Nia")


def test_register_validation_errors_name_their_fields(sdk_client):
    require("/api/v1/authentication/register/")

    with pytest.raises(ValidationError) as caught:
        sdk_client.register("not-an-email", "a-long-unusual-passphrase")

    assert caught.value.status == 400
    assert [(item.attr, item.code) for item in caught.value.errors] == [("email", "invalid")]


def test_expired_access_token_is_refreshed_and_the_call_repeated(base_url, user):
    require("/api/v1/authentication/token/refresh/", "/api/v1/account/me/")
    refresh = RefreshToken.for_user(user)
    expired = AccessToken.for_user(user)
    expired.set_exp(lifetime=-timedelta(minutes=1))
    events: list[Tokens | None] = []
    client = ECommerceClient(base_url, token=str(expired), refresh_token=str(refresh), on_tokens=events.append)

    me = client.get_me()

    assert me.id == str(user.id)
    assert len(events) == 1
    assert events[0].refresh != str(refresh)  # rotated
    assert (client.token, client.refresh_token) == (events[0].access, events[0].refresh)


def test_used_refresh_token_is_refused(base_url, user):
    require("/api/v1/authentication/token/refresh/")
    refresh = str(RefreshToken.for_user(user))
    first = ECommerceClient(base_url, refresh_token=refresh)
    first.refresh()
    second = ECommerceClient(base_url, refresh_token=refresh)

    with pytest.raises(AuthenticationError) as caught:
        second.refresh()

    assert caught.value.code == "token_not_valid"
    assert second.tokens is None


def test_logout_blacklists_the_refresh_token(base_url, user):
    require("/api/v1/authentication/logout/", "/api/v1/authentication/token/refresh/")
    client = client_for(base_url, user)
    refresh = client.refresh_token

    client.logout()

    assert client.tokens is None
    with pytest.raises(AuthenticationError):
        ECommerceClient(base_url, refresh_token=refresh).refresh()


def test_change_password_keeps_this_client_logged_in(base_url, user):
    require("/api/v1/authentication/password/change/", "/api/v1/account/me/")
    client = client_for(base_url, user)
    old_refresh = client.refresh_token

    result = client.change_password(PASSWORD, "a-brand-new-passphrase")

    assert client.refresh_token == result.tokens.refresh != old_refresh
    assert client.get_me().id == str(user.id)
    user.refresh_from_db()
    assert user.check_password("a-brand-new-passphrase")


def test_otp_login(sdk_client):
    require("/api/v1/authentication/otp/request/", "/api/v1/authentication/otp/verify/")
    from sms.backends import memory

    flag_on("otp_login")
    memory.outbox.clear()

    sdk_client.request_otp("+1 415-555-2671")
    code = re.search(r"\b(\d{6})\b", memory.outbox[-1].body).group(1)
    result = sdk_client.verify_otp("+14155552671", code)

    assert result.user.phone == "+14155552671"
    assert sdk_client.token == result.tokens.access


def test_profile_update_export_and_delete(base_url, user):
    require("/api/v1/account/me/", "/api/v1/account/export/")
    client = client_for(base_url, user)

    updated = client.update_me(first_name="Ada", marketing_opt_in=True)
    export = client.export_my_data()
    client.delete_me(PASSWORD)

    assert (updated.first_name, updated.marketing_opt_in) == ("Ada", True)
    assert isinstance(export, dict)
    assert "customer@example.com" in str(export)
    assert client.tokens is None
    user.refresh_from_db()
    assert user.is_active is False


def test_address_book(base_url, user, other_user):
    require("/api/v1/account/addresses/")
    client = client_for(base_url, user)

    home = client.create_address(**US_ADDRESS, is_default_shipping=True)
    work = client.create_address(**{**US_ADDRESS, "line1": "2 Office Rd", "country": "us"})
    moved = client.update_address(work.id, city="Chicago", is_default_shipping=True)
    listed = client.list_addresses()
    client.delete_address(home.id)

    assert (home.country, home.is_default_shipping) == ("US", True)
    assert work.country == "US"
    assert (moved.city, moved.is_default_shipping) == ("Chicago", True)
    assert isinstance(listed, Page)
    assert {a.id: a.is_default_shipping for a in listed} == {home.id: False, work.id: True}
    assert [a.id for a in client.iter_addresses()] == [work.id]
    with pytest.raises(NotFound):
        client_for(base_url, other_user).get_address(work.id)
    with pytest.raises(ValidationError) as caught:
        client.create_address(**{**US_ADDRESS, "country": "XX"})
    assert (caught.value.attr, caught.value.code) == ("country", "invalid_country")


# --- catalog --------------------------------------------------------------------------------------


def test_categories_and_products(sdk_client, catalog):
    require("/api/v1/categories/", "/api/v1/products/", "/api/v1/products/tee/")

    tree = sdk_client.get_categories()
    clothing = sdk_client.get_category("shirts")
    in_clothing = sdk_client.get_products(category="clothing", ordering="price")
    every = list(sdk_client.iter_products(page_size=1, ordering="name"))
    tee = sdk_client.get_product("tee")

    assert [(c.slug, [child.slug for child in c.children]) for c in tree] == [
        ("clothing", ["shirts"]),
        ("mugs", []),
    ]
    assert (clothing.parent.slug, [a.slug for a in clothing.ancestors]) == ("clothing", ["clothing"])
    assert isinstance(in_clothing.results[0], Product)
    assert in_clothing.count == 2
    assert [(p.slug, p.price, p.in_stock) for p in in_clothing] == [
        ("tee", Decimal("19.99"), True),
        ("hoodie", Decimal("45.00"), True),
    ]
    assert in_clothing[0].category.slug == "shirts"
    assert [p.slug for p in every] == ["hoodie", "mug", "tee"]
    assert isinstance(tee, ProductDetail)
    assert [(v.sku, v.price, v.in_stock, v.available_quantity) for v in tee.variants] == [
        ("TEE-S", Decimal("19.99"), True, 5),
        ("TEE-M", Decimal("24.50"), False, 0),
    ]
    assert tee.variants[0].options == {"size": "S"}
    assert [c.slug for c in tee.breadcrumbs] == ["clothing", "shirts"]


def test_product_filters_facets_suggest_and_related(sdk_client, user, catalog):
    require(
        "/api/v1/products/", "/api/v1/products/facets/", "/api/v1/products/suggest/", "/api/v1/products/tee/related/"
    )
    from shop.tests.factories import ProductPurchaseFactory

    order_id = "0b5c0000-0000-4000-8000-000000000001"
    ProductPurchaseFactory(user=user, product=catalog["tee"], order_id=order_id)
    ProductPurchaseFactory(user=user, product=catalog["mug"], order_id=order_id)

    cheap = sdk_client.get_products(max_price=Decimal("20.00"), ordering="-price")
    facets = sdk_client.get_product_facets(category="clothing")
    suggestions = sdk_client.suggest_products("Hood")
    related = sdk_client.get_related_products("tee")

    assert [p.slug for p in cheap] == ["tee", "mug"]
    assert (facets.count, facets.in_stock) == (2, 2)
    assert (facets.price.min, facets.price.max) == (Decimal("19.99"), Decimal("45.00"))
    assert [p.slug for p in suggestions.products] == ["hoodie"]
    assert related.same_category == []
    assert [(p.slug, p.price, p.times_bought_together) for p in related.bought_together] == [
        ("mug", Decimal("8.00"), 1)
    ]


def test_unknown_product_and_bad_filter(sdk_client, catalog):
    require("/api/v1/products/", "/api/v1/products/tee/")

    with pytest.raises(NotFound):
        sdk_client.get_product("no-such-product")
    with pytest.raises(ValidationError) as caught:
        sdk_client.get_products(page_size=500)
    assert caught.value.attr == "page_size"


def test_wishlist(base_url, user, catalog):
    require("/api/v1/wishlist/")
    client = client_for(base_url, user)

    added = client.add_to_wishlist("tee")
    client.add_to_wishlist("tee")
    client.add_to_wishlist("mug")
    listed = [item.slug for item in client.iter_wishlist()]
    client.remove_from_wishlist("tee")

    assert (added.slug, added.price) == ("tee", Decimal("19.99"))
    assert added.added_at is not None
    assert sorted(listed) == ["mug", "tee"]
    assert [item.slug for item in client.get_wishlist()] == ["mug"]


def test_reviews_of_a_bought_product(base_url, user, catalog):
    require("/api/v1/products/tee/reviews/")
    from shop.tests.factories import ProductPurchaseFactory

    flag_on("reviews")
    ProductPurchaseFactory(user=user, product=catalog["tee"])
    client = client_for(base_url, user)

    review = client.create_review("tee", rating=4, title="Nice", body="Soft cotton.")
    changed = client.update_review("tee", review.id, rating=5)
    page = client.get_reviews("tee")
    with pytest.raises(Conflict) as duplicate:
        client.create_review("tee", rating=3)
    client.delete_review("tee", review.id)

    assert (review.rating, review.title, review.is_mine) == (4, "Nice", True)
    assert changed.rating == 5
    assert duplicate.value.code == "review_already_exists"
    assert [(r.id, r.rating) for r in page] == [(review.id, 5)]
    assert client.get_reviews("tee").count == 0


# --- cart, checkout, payment ----------------------------------------------------------------------


def test_anonymous_cart_is_remembered_and_merged_at_login(sdk_client, user, catalog):
    require("/api/v1/cart/", "/api/v1/cart/items/", "/api/v1/authentication/login/")
    variant_id = catalog["tee_small"].id

    created = sdk_client.add_cart_item(variant_id, 2)
    token = sdk_client.cart_token
    again = sdk_client.get_cart()
    sdk_client.login(user.email, PASSWORD)
    merged = sdk_client.get_cart()

    assert isinstance(created, Cart)
    assert token == created.id
    assert again.id == created.id
    assert [(line.variant.sku, line.quantity, line.unit_price, line.line_total) for line in again.items] == [
        ("TEE-S", 2, Decimal("19.99"), Decimal("39.98"))
    ]
    assert merged.id != created.id
    assert sdk_client.cart_token == merged.id
    assert [(line.variant.sku, line.quantity) for line in merged.items] == [("TEE-S", 2)]


def test_cart_lines_and_stock_errors(base_url, user, catalog):
    require("/api/v1/cart/", "/api/v1/cart/items/")
    client = client_for(base_url, user)

    cart = client.add_cart_item(catalog["tee_small"].id, 1)
    line_id = cart.items[0].id
    with pytest.raises(Conflict) as caught:
        client.update_cart_item(line_id, 6)
    bigger = client.update_cart_item(line_id, 5)
    emptier = client.remove_cart_item(line_id)

    assert caught.value.code == "insufficient_stock"
    assert (caught.value.attr, caught.value.errors[0].extra) == (
        "quantity",
        {"variant_id": catalog["tee_small"].id, "available_quantity": 5, "requested": 6},
    )
    assert (bigger.items[0].quantity, bigger.subtotal) == (5, Decimal("99.95"))
    assert (emptier.items, emptier.subtotal) == ([], Decimal("0.00"))


def test_coupons_on_the_cart(base_url, user, catalog):
    require("/api/v1/cart/coupon/")
    from coupons.tests.factories import CouponFactory

    CouponFactory(code="WELCOME10", value=Decimal("10"))
    client = client_for(base_url, user)
    client.add_cart_item(catalog["tee_small"].id, 2)

    with pytest.raises(BadRequest) as unknown:
        client.apply_coupon("NOPE")
    discounted = client.apply_coupon("welcome10")
    plain = client.remove_coupon()

    assert (unknown.value.code, unknown.value.attr) == ("coupon_not_found", "code")
    assert (discounted.coupon_code, discounted.subtotal, discounted.discount_total) == (
        "WELCOME10",
        Decimal("39.98"),
        Decimal("4.00"),
    )
    assert (plain.coupon_code, plain.discount_total) == (None, Decimal("0.00"))


def test_checkout_pay_and_follow_the_order(base_url, user, catalog, us_shipping):
    require("/api/v1/orders/", "/api/v1/payments/", "/api/v1/shipping/methods/", "/api/v1/account/addresses/")
    client = client_for(base_url, user)
    address = client.create_address(**US_ADDRESS)
    client.add_cart_item(catalog["tee_small"].id, 2)

    methods = client.get_shipping_methods("US")
    priced = client.update_cart(country="US", shipping_method_id=methods[0].id)
    with pytest.raises(Conflict) as mismatch:
        client.create_order(shipping_address_id=address.id, shipping_method_id=methods[0].id, expected_total="1.00")
    order = client.create_order(
        shipping_address_id=address.id, shipping_method_id=methods[0].id, expected_total=priced.total
    )
    payment = client.create_payment(order.id)
    fetched_payment = client.get_payment(payment.id)
    paid = client.get_order(order.id)
    events = client.get_order_events(order.id)
    mine = list(client.iter_orders())

    assert [(m.name, m.price) for m in methods] == [("Standard", Decimal("5.00"))]
    assert (priced.shipping_method.name, priced.shipping_total, priced.total) == (
        "Standard",
        Decimal("5.00"),
        Decimal("44.98"),
    )
    assert mismatch.value.code == "total_mismatch"
    assert mismatch.value.errors[0].extra["total"] == "44.98"
    assert isinstance(order, Order)
    assert (order.status, order.subtotal, order.shipping_total, order.total) == (
        "pending_payment",
        Decimal("39.98"),
        Decimal("5.00"),
        Decimal("44.98"),
    )
    assert [(line.sku, line.quantity, line.unit_price, line.line_total) for line in order.lines] == [
        ("TEE-S", 2, Decimal("19.99"), Decimal("39.98"))
    ]
    assert order.shipping_address.city == "Springfield"
    assert (payment.order_id, payment.amount, payment.currency) == (order.id, Decimal("44.98"), "USD")
    assert payment.status == fetched_payment.status == "succeeded"
    assert (paid.amount_paid, paid.paid_at is not None) == (Decimal("44.98"), True)
    assert paid.status == "paid"
    assert [e.to_status for e in events if e.to_status][-1] == "paid"
    assert [o.id for o in mine] == [order.id]
    assert client.get_cart().items == []


def test_checkout_with_the_same_idempotency_key_places_one_order(base_url, user, catalog, us_shipping):
    require("/api/v1/orders/")
    from orders.models import Order as OrderRow

    client = client_for(base_url, user)
    client.add_cart_item(catalog["tee_small"].id, 1)

    first = client.create_order(shipping_address=US_ADDRESS, shipping_method_id=us_shipping.id, idempotency_key="k-1")
    replay = client.create_order(shipping_address=US_ADDRESS, shipping_method_id=us_shipping.id, idempotency_key="k-1")

    assert replay.id == first.id
    assert OrderRow.objects.filter(user=user).count() == 1


def test_cancel_an_unpaid_order(base_url, user, catalog, us_shipping):
    require("/api/v1/orders/")
    client = client_for(base_url, user)
    client.add_cart_item(catalog["tee_small"].id, 1)
    order = client.create_order(shipping_address=US_ADDRESS, shipping_method_id=us_shipping.id)

    cancelled = client.cancel_order(order.id, reason="Changed my mind")
    with pytest.raises(Conflict) as again:
        client.cancel_order(order.id)

    assert cancelled.status == "cancelled"
    assert again.value.code == "invalid_transition"
    catalog["tee_small"].refresh_from_db()
    assert catalog["tee_small"].quantity_allocated == 0


def test_someone_elses_order_is_not_found(base_url, user, other_user, catalog, us_shipping):
    require("/api/v1/orders/")
    client = client_for(base_url, user)
    client.add_cart_item(catalog["tee_small"].id, 1)
    order = client.create_order(shipping_address=US_ADDRESS, shipping_method_id=us_shipping.id)

    with pytest.raises(NotFound):
        client_for(base_url, other_user).get_order(order.id)


# --- support chat ---------------------------------------------------------------------------------


def test_chat_conversation_messages_and_history(base_url, user):
    require("/api/v1/chat/conversations/")
    flag_on("support_chat")
    client = client_for(base_url, user)

    conversation = client.create_conversation("Where is my parcel?", subject="Delivery")
    second = client.send_message(conversation.id, "It was due yesterday.")
    third = client.send_message(conversation.id, "Order 100001.")
    history = list(client.iter_messages(conversation.id, page_size=2))
    listed = client.list_conversations()

    assert (conversation.subject, conversation.status) == ("Delivery", "open")
    assert conversation.customer.id == str(user.id)
    assert [m.body for m in history] == ["Order 100001.", "It was due yesterday.", "Where is my parcel?"]
    assert [m.id for m in history[:2]] == [third.id, second.id]
    assert history[0].sender.role == "customer"
    assert [c.id for c in listed] == [conversation.id]
    assert client.get_conversation(conversation.id).id == conversation.id


def test_someone_elses_conversation_is_not_found(base_url, user, other_user):
    require("/api/v1/chat/conversations/")
    flag_on("support_chat")
    mine = client_for(base_url, user).create_conversation("Hello")

    with pytest.raises(NotFound):
        client_for(base_url, other_user).get_messages(mine.id)
