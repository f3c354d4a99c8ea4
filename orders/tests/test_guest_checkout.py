"""Guest checkout: an anonymous cart, an email and a typed address become an order with no user,
opened and paid with its secret `order_token`; the order joins the account that proves the email."""

import hashlib
import re
import uuid
from decimal import Decimal

import pytest
from django.core import mail
from rest_framework.test import APIClient

from account.models import User
from account.services import user_email_verify
from account.tokens import email_verification_token
from cart.models import Cart, CartLine
from core.models import IdempotencyKey
from coupons.models import Coupon, CouponRedemption
from orders.models import Order, OrderEvent, OrderLine
from orders.services import guest_orders_claim, order_place
from payment.models import Payment
from shop.models import ProductImage, ProductPurchase, ProductVariant

from .factories import CartFactory, CartLineFactory, CouponFactory
from .fixtures import ORDERS_URL, new_key, order_url

pytestmark = pytest.mark.django_db

PAYMENTS_URL = "/api/v1/payments/"
GUEST_EMAIL = "Guest.Buyer@Example.com"
ADDRESS = {
    "first_name": "Gus",
    "last_name": "Guest",
    "company": "",
    "line1": "2 Mission Street",
    "line2": "",
    "city": "San Francisco",
    "region": "CA",
    "postal_code": "94105",
    "country": "US",
    "phone": "",
}


def guest_cart(shop, items=None, coupon=None) -> Cart:
    cart = CartFactory(user=None, coupon=coupon)
    for variant, quantity in items if items is not None else [(shop.shirt, 2), (shop.socks, 1)]:
        CartLineFactory(cart=cart, variant=variant, quantity=quantity)
    return cart


def guest_body(shop, **overrides) -> dict:
    return {"email": GUEST_EMAIL, "shipping_address": ADDRESS, "shipping_method_id": str(shop.method.pk), **overrides}


def guest_post(client, cart, body, key=None):
    return client.post(
        ORDERS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key or new_key(), HTTP_X_CART_TOKEN=str(cart.pk)
    )


def guest_place(shop, email=GUEST_EMAIL, items=None, coupon=None) -> Order:
    cart = guest_cart(shop, items, coupon)
    return order_place(
        user=None, cart_id=cart.pk, email=email, shipping_address=ADDRESS, shipping_method_id=shop.method.pk
    )


def _stock(variant) -> tuple[int, int]:
    variant.refresh_from_db()
    return variant.quantity_on_hand, variant.quantity_allocated


# --- placing ------------------------------------------------------------------------------------


def test_guest_places_reads_follows_and_pays_an_order(api_client, shop, django_capture_on_commit_callbacks):
    cart = guest_cart(shop)

    with django_capture_on_commit_callbacks(execute=True):
        response = guest_post(api_client, cart, guest_body(shop, expected_total="32.45"))

    assert response.status_code == 201, response.json()
    body = response.json()
    order = Order.objects.get()
    token = body["order_token"]
    assert len(token) >= 43 and re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert (order.user, order.guest_email, order.email) == (None, "guest.buyer@example.com", "guest.buyer@example.com")
    assert order.guest_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Order.objects.filter(pk=order.pk).values().get())
    assert (body["id"], body["status"], body["total"]) == (str(order.pk), "pending_payment", "32.45")
    assert body["shipping_address"] == ADDRESS and body["billing_address"] == ADDRESS
    assert _stock(shop.shirt) == (10, 2) and _stock(shop.socks) == (7, 1)
    assert CartLine.objects.filter(cart=cart).count() == 0
    event = OrderEvent.objects.get(order=order)
    assert (event.kind, event.actor, event.actor_role) == ("placed", None, "customer")

    read = api_client.get(order_url(order.pk), {"order_token": token})
    assert read.status_code == 200
    assert read.json()["number"] == order.number
    assert "order_token" not in read.json()
    events = api_client.get(order_url(order.pk, "events/"), {"order_token": token})
    assert events.status_code == 200
    assert [row["kind"] for row in events.json()["results"]] == ["placed"]

    paid = api_client.post(
        PAYMENTS_URL, {"order_id": str(order.pk), "order_token": token}, format="json", HTTP_IDEMPOTENCY_KEY=new_key()
    )
    assert paid.status_code == 201, paid.json()
    assert paid.json()["status"] == "succeeded"
    order.refresh_from_db()
    assert order.status == "paid"
    assert Payment.objects.get().user is None
    assert ProductPurchase.objects.count() == 0  # nobody to remember until the order joins an account


def test_the_confirmation_email_goes_to_the_guest_with_the_guest_link(
    api_client, shop, settings, django_capture_on_commit_callbacks
):
    settings.FRONTEND_URL = "https://shop.example.com"
    settings.FRONTEND_PATHS = {**settings.FRONTEND_PATHS, "guest_order": "/orders/{order_id}?order_token={order_token}"}
    with django_capture_on_commit_callbacks(execute=True):
        body = guest_post(api_client, guest_cart(shop), guest_body(shop)).json()

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["guest.buyer@example.com"]
    link = f"https://shop.example.com/orders/{body['id']}?order_token={body['order_token']}"
    assert f"View your order: {link}" in email.body
    assert "Hello," in email.body and "Gus" not in email.body  # a typed name is not the shop's text
    assert "Keep this email" in email.body
    assert f'href="{link}"' in email.alternatives[0][0]


def test_later_emails_to_a_guest_point_back_to_the_confirmation(shop, staff_user, django_capture_on_commit_callbacks):
    order = guest_place(shop)
    from orders.services import order_ship
    from payment.services import payment_create

    payment_create(user=None, order_id=order.pk, order_token=order.order_token)
    with django_capture_on_commit_callbacks(execute=True):
        order_ship(order_id=order.pk, actor=staff_user, carrier="UPS", tracking_number="1Z")

    shipped = mail.outbox[-1]
    assert shipped.to == ["guest.buyer@example.com"]
    assert "Open your order with the link in your order confirmation email." in shipped.body
    assert order.order_token not in shipped.body
    assert "order_token" not in shipped.body


def test_a_registered_customer_email_links_to_the_order_page(user, shop, settings, django_capture_on_commit_callbacks):
    settings.FRONTEND_URL = "https://shop.example.com"
    settings.FRONTEND_PATHS = {**settings.FRONTEND_PATHS, "order": "/orders/{order_id}"}
    with django_capture_on_commit_callbacks(execute=True):
        order = shop.place(user)

    assert f"View your order: https://shop.example.com/orders/{order.pk}" in mail.outbox[0].body


def test_guest_checkout_needs_the_cart_token_email_and_an_inline_address(api_client, shop):
    cart = guest_cart(shop)
    no_token = api_client.post(ORDERS_URL, guest_body(shop), format="json", HTTP_IDEMPOTENCY_KEY=new_key())
    no_email = guest_post(api_client, cart, {k: v for k, v in guest_body(shop).items() if k != "email"})
    book = guest_post(api_client, cart, guest_body(shop, shipping_address_id=str(uuid.uuid4())))
    no_address = guest_post(api_client, cart, {"email": GUEST_EMAIL, "shipping_method_id": str(shop.method.pk)})
    unknown_cart = api_client.post(
        ORDERS_URL, guest_body(shop), format="json", HTTP_IDEMPOTENCY_KEY=new_key(), HTTP_X_CART_TOKEN=str(uuid.uuid4())
    )

    assert no_token.status_code == 401
    assert (no_email.status_code, no_email.json()["errors"][0]["attr"]) == (400, "email")
    assert (book.status_code, book.json()["errors"][0]["attr"]) == (400, "shipping_address_id")
    assert (no_address.status_code, no_address.json()["errors"][0]["attr"]) == (400, "shipping_address")
    assert unknown_cart.status_code == 404
    assert Order.objects.count() == 0
    assert _stock(shop.shirt) == (10, 0)


def test_a_customers_cart_cannot_be_checked_out_as_a_guest(api_client, user, shop):
    cart = shop.fill_cart(user)

    response = guest_post(api_client, cart, guest_body(shop))

    assert response.status_code == 404
    assert Order.objects.count() == 0
    assert CartLine.objects.filter(cart=cart).count() == 2


def test_an_email_longer_than_the_orders_column_is_a_400(api_client, shop):
    too_long = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".com"  # 312 characters: valid, but over 254

    response = guest_post(api_client, guest_cart(shop), guest_body(shop, email=too_long))

    assert (response.status_code, response.json()["errors"][0]["attr"]) == (400, "email")
    assert Order.objects.count() == 0


def test_guest_checkout_keeps_the_stock_guarantee(api_client, shop):
    ProductVariant.objects.filter(pk=shop.socks.pk).update(quantity_on_hand=0)
    cart = guest_cart(shop)

    response = guest_post(api_client, cart, guest_body(shop))

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "insufficient_stock"
    assert Order.objects.count() == 0
    assert _stock(shop.shirt) == (10, 0)
    assert CartLine.objects.filter(cart=cart).count() == 2


def test_a_guest_replay_answers_the_same_order_without_the_token(api_client, shop):
    cart = guest_cart(shop)
    body = guest_body(shop)

    first = guest_post(api_client, cart, body, key="guest-key")
    replay = guest_post(api_client, cart, body, key="guest-key")
    reused = guest_post(api_client, cart, guest_body(shop, expected_total="1.00"), key="guest-key")

    assert first.status_code == replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]
    assert "order_token" in first.json() and "order_token" not in replay.json()
    assert reused.status_code == 422
    assert Order.objects.count() == 1
    record = IdempotencyKey.objects.get(key="guest-key")
    assert (record.user, record.scope) == (None, f"orders.create:cart:{cart.pk}")
    assert first.json()["order_token"] not in str(record.response_body)


def test_the_same_key_on_another_cart_is_another_checkout(api_client, shop):
    first = guest_post(api_client, guest_cart(shop, [(shop.shirt, 1)]), guest_body(shop), key="shared")
    second = guest_post(api_client, guest_cart(shop, [(shop.shirt, 1)]), guest_body(shop), key="shared")

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert "Idempotent-Replayed" not in second


def test_guest_checkout_is_throttled_per_ip(api_client, shop, throttle_rates):
    throttle_rates(guest_checkout="2/hour")
    codes = [
        guest_post(api_client, guest_cart(shop, [(shop.shirt, 1)]), guest_body(shop)).status_code for _ in range(3)
    ]

    assert codes == [201, 201, 429]
    assert Order.objects.count() == 2


# --- reading and paying with the token ------------------------------------------------------------


def test_a_wrong_or_missing_token_is_a_404(api_client, auth_client, shop):
    order = guest_place(shop)
    other = guest_place(shop, items=[(shop.shirt, 1)])

    for client in (api_client, auth_client):
        assert client.get(order_url(order.pk), {"order_token": "nope"}).status_code == 404
        assert client.get(order_url(order.pk), {"order_token": other.order_token}).status_code == 404
        assert client.get(order_url(order.pk, "events/"), {"order_token": "nope"}).status_code == 404
    assert api_client.get(order_url(order.pk)).status_code == 404
    assert api_client.get(order_url(order.pk, "events/")).status_code == 404
    assert auth_client.get(order_url(order.pk)).status_code == 404  # not the logged-in customer's
    assert api_client.get(order_url("not-a-uuid"), {"order_token": order.order_token}).status_code == 404
    assert api_client.get(order_url(uuid.uuid4()), {"order_token": order.order_token}).status_code == 404


def test_a_registered_customers_order_has_no_token(api_client, user, shop):
    order = shop.place(user)

    assert order.order_token is None
    assert api_client.get(order_url(order.pk), {"order_token": ""}).status_code == 404


def test_a_logged_in_caller_may_open_a_guest_order_with_its_token(other_client, shop):
    order = guest_place(shop)

    assert other_client.get(order_url(order.pk), {"order_token": order.order_token}).status_code == 200


def test_guests_cannot_list_orders(api_client, shop):
    guest_place(shop)

    assert api_client.get(ORDERS_URL).status_code == 401
    assert api_client.get(ORDERS_URL, {"order_token": "x"}).status_code == 401


def test_paying_with_a_wrong_token_is_a_404_and_changes_nothing(api_client, shop):
    order = guest_place(shop)

    wrong = api_client.post(
        PAYMENTS_URL, {"order_id": str(order.pk), "order_token": "wrong"}, format="json", HTTP_IDEMPOTENCY_KEY=new_key()
    )
    missing = api_client.post(PAYMENTS_URL, {"order_id": str(order.pk)}, format="json", HTTP_IDEMPOTENCY_KEY=new_key())

    assert wrong.status_code == 404
    assert missing.status_code == 401
    assert Payment.objects.count() == 0
    order.refresh_from_db()
    assert order.status == "pending_payment"


def test_token_reads_are_throttled(api_client, shop, throttle_rates):
    throttle_rates(guest_order="2/hour")
    order = guest_place(shop)

    codes = [api_client.get(order_url(order.pk), {"order_token": order.order_token}).status_code for _ in range(3)]

    assert codes == [200, 200, 429]


def test_a_guest_read_costs_two_queries(api_client, shop, django_assert_num_queries):
    order = guest_place(shop)

    with django_assert_num_queries(2):  # order, lines
        assert api_client.get(order_url(order.pk), {"order_token": order.order_token}).status_code == 200


# --- coupons limited per customer -------------------------------------------------------------------


def test_a_guest_may_use_a_per_customer_coupon_once_per_email(api_client, shop):
    coupon = CouponFactory(code="ONCE", usage_limit_per_customer=1)
    first = guest_post(api_client, guest_cart(shop, [(shop.shirt, 1)], coupon), guest_body(shop))
    again = guest_post(
        api_client, guest_cart(shop, [(shop.shirt, 1)], coupon), guest_body(shop, email="GUEST.buyer@example.COM")
    )

    assert first.status_code == 201, first.json()
    assert first.json()["coupon_code"] == "ONCE"
    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "coupon_usage_limit_reached"
    assert CouponRedemption.objects.get().email == "guest.buyer@example.com"
    assert Coupon.objects.get(pk=coupon.pk).times_used == 1
    assert Order.objects.count() == 1


def test_a_customers_uses_count_for_a_guest_with_their_email(api_client, user, shop):
    coupon = CouponFactory(code="ONCE", usage_limit_per_customer=1)
    shop.place(user, items=[(shop.shirt, 1)], coupon=coupon)

    response = guest_post(
        api_client, guest_cart(shop, [(shop.shirt, 1)], coupon), guest_body(shop, email="Customer@Example.com")
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "coupon_usage_limit_reached"
    assert Order.objects.count() == 1
    assert _stock(shop.shirt) == (10, 1)


def test_a_guests_uses_count_for_the_customer_with_that_email(user, shop):
    coupon = CouponFactory(code="ONCE", usage_limit_per_customer=1)
    guest_place(shop, email="CUSTOMER@example.com", items=[(shop.shirt, 1)], coupon=coupon)

    from coupons.errors import CouponUsageLimitReached

    with pytest.raises(CouponUsageLimitReached):
        shop.place(user, items=[(shop.shirt, 1)], coupon=coupon)
    assert Order.objects.filter(user=user).count() == 0
    assert Coupon.objects.get(pk=coupon.pk).times_used == 1


def test_a_cancelled_guest_order_gives_its_coupon_use_back(shop):
    from orders.services import order_cancel

    coupon = CouponFactory(code="ONCE", usage_limit_per_customer=1)
    order = guest_place(shop, items=[(shop.shirt, 1)], coupon=coupon)
    order_cancel(order_id=order.pk, actor=None)

    assert CouponRedemption.objects.count() == 0
    guest_place(shop, items=[(shop.shirt, 1)], coupon=coupon)  # usable again
    assert Coupon.objects.get(pk=coupon.pk).times_used == 1


# --- claiming guest orders ----------------------------------------------------------------------


def test_verifying_the_email_claims_the_guest_orders(shop, django_user_model):
    order = guest_place(shop, email="New.Customer@example.com")
    unrelated = guest_place(shop, email="someone@example.com", items=[(shop.shirt, 1)])
    user = django_user_model.objects.create_user(email="new.customer@example.com", password="a-long-passphrase-1")
    assert Order.objects.filter(user=user).count() == 0  # unverified: nothing yet

    user_email_verify(token=email_verification_token(user_id=user.pk, email=user.email))

    order.refresh_from_db()
    unrelated.refresh_from_db()
    assert order.user == user
    assert order.guest_email == "new.customer@example.com"
    assert unrelated.user is None


def test_the_verify_email_endpoint_claims_and_the_order_shows_in_the_history(api_client, shop, django_user_model):
    order = guest_place(shop, email="new@example.com")
    user = django_user_model.objects.create_user(email="new@example.com", password="a-long-passphrase-1")
    token = email_verification_token(user_id=user.pk, email=user.email)

    assert api_client.get(f"/api/v1/authentication/verify-email/{token}/").status_code == 200

    client = APIClient()
    login = client.post(
        "/api/v1/authentication/login/", {"email": "new@example.com", "password": "a-long-passphrase-1"}
    )
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['tokens']['access']}")
    history = client.get(ORDERS_URL).json()
    assert [row["id"] for row in history["results"]] == [str(order.pk)]


def test_logging_in_with_a_verified_email_claims_orders_placed_since(api_client, user, shop):
    order = guest_place(shop, email="customer@example.com")

    response = api_client.post(
        "/api/v1/authentication/login/", {"email": "customer@example.com", "password": "correct-horse-battery"}
    )

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.user == user


def test_erasing_the_account_scrubs_the_email_a_claimed_order_was_placed_with(api_client, user, shop):
    from orders.gdpr import orders_anonymize_for_user
    from orders.services import order_cancel

    order = guest_place(shop, email="customer@example.com")
    api_client.post(
        "/api/v1/authentication/login/", {"email": "customer@example.com", "password": "correct-horse-battery"}
    )
    order_cancel(order_id=order.pk, actor=user)

    orders_anonymize_for_user(user)

    order.refresh_from_db()
    assert (order.user_id, order.email, order.guest_email) == (user.pk, "", "")


def test_an_unverified_account_claims_nothing(api_client, shop, django_user_model):
    order = guest_place(shop, email="squatter@example.com")
    squatter = django_user_model.objects.create_user(email="squatter@example.com", password="a-long-passphrase-1")

    login = api_client.post(
        "/api/v1/authentication/login/", {"email": "squatter@example.com", "password": "a-long-passphrase-1"}
    )

    assert login.status_code in (400, 401, 403)
    assert guest_orders_claim(user=squatter) == 0
    order.refresh_from_db()
    assert order.user is None


def test_a_claimed_paid_order_records_the_purchase_and_keeps_its_coupon_use(user, shop):
    from payment.services import payment_create

    coupon = CouponFactory(code="TEN")
    order = guest_place(shop, email="customer@example.com", coupon=coupon)
    payment_create(user=None, order_id=order.pk, order_token=order.order_token)

    assert guest_orders_claim(user=user) == 1

    assert ProductPurchase.objects.filter(user=user, order_id=order.pk).count() == 2
    assert CouponRedemption.objects.get().user == user
    assert guest_orders_claim(user=user) == 0  # once


def test_the_token_still_opens_a_claimed_order(api_client, user, shop):
    order = guest_place(shop, email="customer@example.com")
    guest_orders_claim(user=user)

    assert api_client.get(order_url(order.pk), {"order_token": order.order_token}).status_code == 200


def test_social_login_with_a_verified_email_claims(api_client, shop, settings):
    import responses
    from waffle.testutils import override_flag

    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = "google-client-id"
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = "google-secret"
    order = guest_place(shop, email="ann@example.com")
    profile = {"sub": "g-1", "email": "Ann@Example.com", "email_verified": True, "given_name": "Ann"}

    with override_flag("social_login", active=True), responses.RequestsMock() as provider:
        provider.get("https://www.googleapis.com/oauth2/v3/userinfo", json=profile)
        response = api_client.post("/api/v1/authentication/social/google-oauth2/", {"access_token": "ya29.x"})

    assert response.status_code == 200, response.json()
    order.refresh_from_db()
    assert order.user == User.objects.get(email="ann@example.com")


# --- line snapshots ------------------------------------------------------------------------------


def test_lines_snapshot_the_product_slug_and_an_absolute_image_url(api_client, shop, settings):
    settings.PUBLIC_URL = "https://api.example.com"
    ProductImage.objects.create(product=shop.shirt.product, image="products/shirt-back.jpg", sort_order=2)
    ProductImage.objects.create(product=shop.shirt.product, image="products/shirt-front.jpg", sort_order=1)

    body = guest_post(api_client, guest_cart(shop), guest_body(shop)).json()

    lines = {line["sku"]: line for line in body["lines"]}
    assert lines["SHIRT-M"]["product_slug"] == shop.shirt.product.slug
    assert lines["SHIRT-M"]["image"] == f"https://api.example.com{settings.MEDIA_URL}products/shirt-front.jpg"
    assert lines["SOCKS-1"]["product_slug"] == shop.socks.product.slug
    assert lines["SOCKS-1"]["image"] == ""
    # A snapshot: later catalog changes leave the order as it was.
    original_slug = shop.shirt.product.slug
    shop.shirt.product.slug = "renamed"
    shop.shirt.product.save()
    ProductImage.objects.all().delete()
    line = OrderLine.objects.get(sku="SHIRT-M")
    assert line.product_slug == original_slug
    assert line.image == f"https://api.example.com{settings.MEDIA_URL}products/shirt-front.jpg"


def test_line_snapshots_cost_no_extra_query(user, shop):
    """The image comes with the cart lines' query: the checkout budget stays the same."""
    ProductImage.objects.create(product=shop.shirt.product, image="products/a.jpg")
    order = shop.place(user)

    assert {line.sku: bool(line.image) for line in order.lines.all()} == {"SHIRT-M": True, "SOCKS-1": False}
    assert Decimal(order.total) == Decimal("32.45")


# --- admin ---------------------------------------------------------------------------------------


def test_admin_lists_and_searches_guest_orders_by_guest_email(user, shop, django_user_model):
    from django.test import Client

    admin = django_user_model.objects.create_superuser(email="admin@example.com", password="admin-password-1")
    client = Client()
    client.force_login(admin)
    guest = guest_place(shop, email="Guest.Only@example.com")
    customer = shop.place(user, items=[(shop.shirt, 1)])

    found = client.get("/admin/orders/order/", {"q": "guest.only@"})
    page = client.get(f"/admin/orders/order/{guest.pk}/change/")

    assert found.status_code == 200
    assert [order.pk for order in found.context["cl"].result_list] == [guest.pk]
    assert customer.number not in found.content.decode()
    assert "Guest email" in found.content.decode()
    assert "guest.only@example.com" in page.content.decode()
    assert guest.guest_token_hash not in page.content.decode()
