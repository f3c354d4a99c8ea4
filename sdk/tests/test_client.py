"""Methods, typed results and pagination against a faked HTTP boundary."""

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from responses import matchers

from sdk import (
    Address,
    Cart,
    CartLine,
    Category,
    ECommerceClient,
    Message,
    NotFound,
    Order,
    Page,
    Product,
    ProductDetail,
    Tokens,
    User,
)

from .conftest import API, BASE

UTC = timezone(timedelta(0))


def page_of(results, *, count=None, next=None, previous=None) -> dict:
    return {"count": len(results) if count is None else count, "next": next, "previous": previous, "results": results}


# --- typed results --------------------------------------------------------------------------------


CART_ID = "c0ffee00-0000-4000-8000-000000000001"
LINE_ID = "5e1f0000-0000-4000-8000-000000000011"


def cart_body(**overrides) -> dict:
    """The cart shape of cart/api/serializers.py."""
    body = {
        "id": CART_ID,
        "currency": "USD",
        "items": [
            {
                "id": LINE_ID,
                "variant": {"id": 3, "sku": "TEE-S", "name": "Small", "options": {"size": "S"}},
                "product": {"slug": "tee", "name": "Tee", "image": None},
                "quantity": 3,
                "unit_price": "19.99",
                "line_total": "59.97",
                "discount": "6.00",
                "previous_unit_price": "17.99",
                "available_quantity": 2,
                "is_available": True,
                "price_changed": True,
                "insufficient_stock": True,
            }
        ],
        "item_count": 3,
        "subtotal": "59.97",
        "discount_total": "6.00",
        "shipping_total": "4.90",
        "tax_total": "0.00",
        "total": "58.87",
        "tax_rate": "0.0000",
        "weight": "0.600",
        "coupon_code": "WELCOME10",
        "coupon_issue": None,
        "shipping_country": "US",
        "shipping_region": None,
        "shipping_method": {
            "id": "9d0c0000-0000-4000-8000-000000000001",
            "name": "Standard",
            "min_delivery_days": 2,
            "max_delivery_days": 5,
        },
        "shipping_issue": None,
        "updated_at": "2025-03-01T10:20:30Z",
    }
    return {**body, **overrides}


def test_amounts_are_decimals_and_nested_objects_are_typed(mocked, client):
    mocked.get(f"{API}cart/", json=cart_body())

    cart = client.get_cart()

    line = cart.items[0]
    assert isinstance(cart, Cart)
    assert isinstance(line, CartLine)
    assert (line.variant.sku, line.variant.options, line.product.slug) == ("TEE-S", {"size": "S"}, "tee")
    assert (line.unit_price, line.line_total, line.previous_unit_price) == (
        Decimal("19.99"),
        Decimal("59.97"),
        Decimal("17.99"),
    )
    assert cart.subtotal - cart.discount_total + cart.shipping_total + cart.tax_total == cart.total
    assert str(cart.total) == "58.87"
    assert cart.weight == Decimal("0.600")
    assert cart.shipping_method.name == "Standard"
    assert cart.has_stock_issues is True


def test_unknown_fields_are_kept_and_missing_fields_are_empty():
    product = ProductDetail.from_dict(
        {
            "id": 5,
            "slug": "tee",
            "price": "19.99",
            "category": {"slug": "shirts", "name": "Shirts", "icon": "shirt.svg"},
            "variants": [{"id": 9, "sku": "TEE-S", "price": "19.99", "options": {"size": "S"}, "barcode": "0042"}],
            "sustainability_score": 7,
        }
    )

    assert product.extra == {"sustainability_score": 7}
    assert product.get("sustainability_score") == 7
    assert product.get("price") == Decimal("19.99")
    assert product.category.raw["icon"] == "shirt.svg"
    assert product.variants[0].options == {"size": "S"}
    assert product.variants[0].extra == {"barcode": "0042"}
    assert product.images == []
    assert product.name is None
    assert product.to_dict()["sustainability_score"] == 7


def test_timestamps_are_aware_datetimes():
    order = Order.from_dict(
        {"created_at": "2025-03-01T10:20:30.123456Z", "payment_due_by": "2025-03-01T10:50:30+02:00", "total": 12}
    )

    assert order.created_at == datetime(2025, 3, 1, 10, 20, 30, 123456, tzinfo=UTC)
    assert order.payment_due_by.utcoffset() == timedelta(hours=2)
    assert order.total == Decimal("12")


def test_nulls_do_not_break_parsing():
    product = Product.from_dict({"id": 1, "compare_at_price": None, "category": None, "price": "not-a-number"})

    assert (product.compare_at_price, product.category, product.price) == (None, None, None)


# --- pagination -----------------------------------------------------------------------------------


def test_get_products_sends_filters_and_returns_a_typed_page(mocked, anon_client):
    expected_query = {
        "category": "shoes",
        "q": "runner",
        "min_price": "10.00",
        "max_price": "99.50",
        "in_stock": "true",
        "rating_min": "4",
        "ordering": "-price",
        "page": "2",
        "page_size": "5",
    }
    mocked.get(
        f"{API}products/",
        json=page_of([{"id": 1, "slug": "runner", "price": "49.00"}], count=6, previous=f"{API}products/?page=1"),
        match=[matchers.query_param_matcher(expected_query)],
    )

    page = anon_client.get_products(
        category="shoes",
        q="runner",
        min_price=Decimal("10.00"),
        max_price="99.50",
        in_stock=True,
        rating_min=4,
        ordering="-price",
        page=2,
        page_size=5,
    )

    assert isinstance(page, Page)
    assert (page.count, page.has_next, len(page)) == (6, False, 1)
    assert [p.slug for p in page] == ["runner"]
    assert page[0].price == Decimal("49.00")


def test_float_prices_are_refused_before_any_request(anon_client):
    with pytest.raises(TypeError):
        anon_client.get_products(min_price=9.99)


def test_iter_products_follows_next_links_until_the_end(mocked, anon_client):
    mocked.get(
        f"{API}products/?in_stock=true&page_size=2",
        json=page_of([{"slug": "a"}, {"slug": "b"}], count=5, next=f"{API}products/?in_stock=true&page=2&page_size=2"),
        match=[matchers.query_param_matcher({"in_stock": "true", "page_size": "2"})],
    )
    mocked.get(
        f"{API}products/?in_stock=true&page=2&page_size=2",
        json=page_of([{"slug": "c"}, {"slug": "d"}], count=5, next=f"{API}products/?in_stock=true&page=3&page_size=2"),
        match=[matchers.query_param_matcher({"in_stock": "true", "page": "2", "page_size": "2"})],
    )
    mocked.get(
        f"{API}products/?in_stock=true&page=3&page_size=2",
        json=page_of([{"slug": "e"}], count=5),
        match=[matchers.query_param_matcher({"in_stock": "true", "page": "3", "page_size": "2"})],
    )

    slugs = [product.slug for product in anon_client.iter_products(in_stock=True, page_size=2)]

    assert slugs == ["a", "b", "c", "d", "e"]
    assert len(mocked.calls) == 3


def test_iteration_is_lazy(mocked, anon_client):
    mocked.get(f"{API}orders/", json=page_of([{"id": "o1"}], count=2, next=f"{API}orders/?page=2"))

    first = next(anon_client.iter_orders())

    assert first.id == "o1"
    assert len(mocked.calls) == 1


def test_next_link_on_another_host_is_followed_on_our_origin_only(mocked, client):
    mocked.get(
        f"{API}orders/", json=page_of([{"id": "o1"}], count=2, next="http://internal:8000/api/v1/orders/?page=2")
    )
    mocked.get(
        f"{API}orders/?page=2",
        json=page_of([{"id": "o2"}], count=2),
        match=[matchers.header_matcher({"Authorization": "Bearer access-1"})],
    )

    ids = [order.id for order in client.iter_orders()]

    assert ids == ["o1", "o2"]
    assert mocked.calls[1].request.url.startswith(f"{BASE}/")


def test_bare_list_answer_is_a_single_page(mocked, client):
    mocked.get(f"{API}categories/", json=[{"slug": "a", "name": "A", "children": []}])

    categories = client.get_categories()

    assert [(c.slug, c.name) for c in categories] == [("a", "A")]


def test_shipping_methods_are_collected_from_every_page(mocked, client):
    mocked.get(
        f"{API}shipping/methods/",
        json=page_of(
            [{"id": "m1", "name": "Standard", "price": "4.90", "currency": "USD"}],
            count=2,
            next=f"{API}shipping/methods/?country=US&page=2",
        ),
        match=[matchers.query_param_matcher({"country": "US"})],
    )
    mocked.get(
        f"{API}shipping/methods/",
        json=page_of(
            [{"id": "m2", "name": "Express", "price": "12.00", "currency": "USD", "free_over": None}], count=2
        ),
        match=[matchers.query_param_matcher({"country": "US", "page": "2"})],
    )

    methods = client.get_shipping_methods("US")

    assert [(m.name, m.price) for m in methods] == [("Standard", Decimal("4.90")), ("Express", Decimal("12.00"))]


def test_chat_history_uses_cursor_pagination(mocked, client):
    history = f"{API}chat/conversations/c1/messages/"
    mocked.get(
        history,
        json={"next": f"{history}?cursor=cD0y&page_size=100", "previous": None, "results": [{"id": "m3", "body": "3"}]},
        match=[matchers.query_param_matcher({"page_size": "100"})],
    )
    mocked.get(
        history,
        json={"next": None, "previous": f"{history}?cursor=r1", "results": [{"id": "m2"}, {"id": "m1"}]},
        match=[matchers.query_param_matcher({"cursor": "cD0y", "page_size": "100"})],
    )

    ids = [message.id for message in client.iter_messages("c1")]

    assert ids == ["m3", "m2", "m1"]


def test_get_messages_exposes_the_next_cursor(mocked, client):
    history = f"{API}chat/conversations/c1/messages/"
    mocked.get(history, json={"next": f"{history}?cursor=abc%3D", "previous": None, "results": [{"id": "m9"}]})
    mocked.get(
        history,
        json={"next": None, "previous": None, "results": []},
        match=[matchers.query_param_matcher({"cursor": "abc="})],
    )

    page = client.get_messages("c1")
    older = client.get_messages("c1", cursor=page.next_cursor)

    assert page.next_cursor == "abc="
    assert isinstance(page.results[0], Message)
    assert older.results == []


# --- auth methods ---------------------------------------------------------------------------------


def test_login_stores_tokens_and_reports_them(mocked, anon_client):
    events = []
    anon_client.http.on_tokens = events.append
    mocked.post(
        f"{API}authentication/login/",
        json={"user": {"id": "u1", "email": "cam@example.com"}, "tokens": {"access": "a1", "refresh": "r1"}},
        match=[matchers.json_params_matcher({"email": "cam@example.com", "password": "pw"})],
    )

    result = anon_client.login("cam@example.com", "pw")

    assert isinstance(result.user, User)
    assert (result.user.email, result.tokens.access) == ("cam@example.com", "a1")
    assert (anon_client.token, anon_client.refresh_token) == ("a1", "r1")
    assert events == [Tokens(access="a1", refresh="r1")]


def test_otp_and_social_login_store_tokens(mocked, anon_client):
    login_shape = {"user": {"id": "u1"}, "tokens": {"access": "a-otp", "refresh": "r-otp"}}
    mocked.post(f"{API}authentication/otp/request/", status=202, json={"detail": "Code sent."})
    mocked.post(
        f"{API}authentication/otp/verify/",
        json=login_shape,
        match=[matchers.json_params_matcher({"phone": "+14155550123", "code": "123456"})],
    )
    mocked.post(
        f"{API}authentication/social/google-oauth2/",
        json={**login_shape, "tokens": {"access": "a-soc", "refresh": "r-soc"}},
        match=[matchers.json_params_matcher({"access_token": "goog"})],
    )

    anon_client.request_otp("+14155550123")
    anon_client.verify_otp("+14155550123", "123456")
    assert anon_client.token == "a-otp"
    anon_client.social_login("google-oauth2", "goog")
    assert (anon_client.token, anon_client.refresh_token) == ("a-soc", "r-soc")


@pytest.mark.parametrize(
    ("kwargs", "sent"),
    [
        ({"id_token": "eyJ.id.token"}, {"id_token": "eyJ.id.token"}),
        (
            {"code": "4/c", "redirect_uri": "https://shop.test/cb", "code_verifier": "v" * 43},
            {"code": "4/c", "redirect_uri": "https://shop.test/cb", "code_verifier": "v" * 43},
        ),
        ({"code": "4/c", "redirect_uri": "postmessage"}, {"code": "4/c", "redirect_uri": "postmessage"}),
    ],
    ids=["id-token", "code-with-pkce", "code"],
)
def test_social_login_sends_only_the_given_credential_form(mocked, anon_client, kwargs, sent):
    mocked.post(
        f"{API}authentication/social/google-oauth2/",
        json={"user": {"id": "u1"}, "tokens": {"access": "a-g", "refresh": "r-g"}},
        match=[matchers.json_params_matcher(sent, strict_match=True)],
    )

    result = anon_client.social_login("google-oauth2", **kwargs)

    assert result.tokens.access == "a-g"
    assert (anon_client.token, anon_client.refresh_token) == ("a-g", "r-g")


def test_delete_me_sends_the_password_and_forgets_tokens(mocked, client):
    mocked.delete(f"{API}account/me/", status=204, match=[matchers.json_params_matcher({"password": "pw"})])

    client.delete_me("pw")

    assert client.tokens is None


def test_path_segments_are_escaped(mocked, anon_client):
    mocked.get(f"{API}products/a%2F..%2Fadmin/", json={"slug": "x"})

    anon_client.get_product("a/../admin")

    assert mocked.calls[0].request.url == f"{API}products/a%2F..%2Fadmin/"


# --- checkout -------------------------------------------------------------------------------------


def test_create_order_needs_exactly_one_shipping_address(client):
    with pytest.raises(ValueError):
        client.create_order(shipping_method_id=1)
    with pytest.raises(ValueError):
        client.create_order(shipping_method_id=1, shipping_address_id=1, shipping_address={"city": "Oslo"})


def test_create_order_with_an_inline_address(mocked, client):
    address = {"first_name": "Ada", "last_name": "L", "line1": "1 Main St", "city": "Oslo", "country": "NO"}
    method_id = "9d0c0000-0000-4000-8000-000000000001"
    mocked.post(
        f"{API}orders/",
        status=201,
        json={
            "id": "0b5c0000-0000-4000-8000-000000000001",
            "status": "pending_payment",
            "shipping_address": {**address, "company": "", "line2": "", "region": "", "postal_code": "", "phone": ""},
            "shipping_method": {"id": method_id, "name": "Standard", "price": "4.90", "currency": "USD"},
            "lines": [{"sku": "TEE-S", "unit_price": "19.99", "quantity": 1, "line_total": "19.99", "tax": "0.00"}],
        },
    )

    order = client.create_order(shipping_address=address, shipping_method_id=method_id)

    assert json.loads(mocked.calls[0].request.body) == {"shipping_address": address, "shipping_method_id": method_id}
    assert (order.shipping_address.city, order.shipping_address.id) == ("Oslo", None)
    assert order.shipping_method.price == Decimal("4.90")
    assert order.lines[0].unit_price == Decimal("19.99")


def test_create_order_accepts_an_address_object(mocked, client):
    mocked.post(f"{API}orders/", status=201, json={"id": "o1"})
    saved = Address.from_dict(
        {
            "id": "a1",
            "first_name": "Ada",
            "last_name": "L",
            "line1": "1 Main St",
            "city": "Oslo",
            "country": "NO",
            "is_default_shipping": True,
        }
    )

    client.create_order(shipping_address=saved, shipping_method_id="m1")

    assert json.loads(mocked.calls[0].request.body)["shipping_address"] == {
        "first_name": "Ada",
        "last_name": "L",
        "line1": "1 Main St",
        "city": "Oslo",
        "country": "NO",
    }


def test_guest_checkout_reads_and_pays_with_the_order_token(mocked, client):
    address = {"first_name": "Gus", "last_name": "G", "line1": "2 Main St", "city": "Oslo", "country": "NO"}
    order_id = "0b5c0000-0000-4000-8000-000000000002"
    client.cart_token = CART_ID
    mocked.post(
        f"{API}orders/",
        status=201,
        json={
            "id": order_id,
            "status": "pending_payment",
            "order_token": "s3cret-token",
            "lines": [{"sku": "TEE-S", "product_slug": "tee", "image": "https://cdn.example.com/tee.jpg"}],
        },
    )
    mocked.get(
        f"{API}orders/{order_id}/",
        json={"id": order_id, "status": "pending_payment"},
        match=[matchers.query_param_matcher({"order_token": "s3cret-token"})],
    )
    mocked.get(
        f"{API}orders/{order_id}/events/",
        json=page_of([{"id": 1, "kind": "placed"}]),
        match=[matchers.query_param_matcher({"order_token": "s3cret-token"})],
    )
    mocked.post(f"{API}payments/", status=201, json={"id": "p1", "order_id": order_id, "status": "succeeded"})

    order = client.create_order(email="gus@example.com", shipping_address=address, shipping_method_id="m1")
    fetched = client.get_order(order.id, order_token=order.order_token)
    events = client.get_order_events(order.id, order_token=order.order_token)
    payment = client.create_payment(order.id, order_token=order.order_token)

    placed = mocked.calls[0].request
    assert json.loads(placed.body) == {
        "email": "gus@example.com",
        "shipping_address": address,
        "shipping_method_id": "m1",
    }
    assert placed.headers["X-Cart-Token"] == CART_ID
    assert placed.headers["Idempotency-Key"]
    assert order.order_token == "s3cret-token"
    assert (order.lines[0].product_slug, order.lines[0].image) == ("tee", "https://cdn.example.com/tee.jpg")
    assert fetched.status == "pending_payment"
    assert [event.kind for event in events] == ["placed"]
    assert json.loads(mocked.calls[3].request.body) == {"order_id": order_id, "order_token": "s3cret-token"}
    assert payment.status == "succeeded"


def test_guest_checkout_takes_a_typed_address_only(client):
    with pytest.raises(ValueError):
        client.create_order(email="gus@example.com", shipping_address_id="a1", shipping_method_id="m1")


def test_clear_cart_answers_nothing(mocked, client):
    mocked.delete(f"{API}cart/", status=204)

    assert client.clear_cart() is None


def test_dead_cart_token_is_forgotten(mocked, anon_client):
    anon_client.cart_token = CART_ID
    mocked.get(
        f"{API}cart/",
        status=404,
        json={
            "type": "client_error",
            "errors": [{"code": "cart_not_found", "detail": "No cart matches this X-Cart-Token.", "attr": None}],
        },
    )
    mocked.get(f"{API}cart/", json=cart_body(id=None, items=[]))

    with pytest.raises(NotFound):
        anon_client.get_cart()
    cart = anon_client.get_cart()

    assert anon_client.cart_token is None
    assert "X-Cart-Token" not in mocked.calls[1].request.headers
    assert cart.id is None


def test_update_cart_sends_only_what_is_given_and_none_clears(mocked, client):
    mocked.patch(f"{API}cart/", json=cart_body())

    client.update_cart(country="US", shipping_method_id=None)

    assert json.loads(mocked.calls[0].request.body) == {"country": "US", "shipping_method_id": None}


def test_categories_tree(mocked, anon_client):
    mocked.get(
        f"{API}categories/",
        json=[
            {"slug": "clothing", "name": "Clothing", "children": [{"slug": "shirts", "name": "Shirts", "children": []}]}
        ],
    )

    tree = anon_client.get_categories()

    assert isinstance(tree[0].children[0], Category)
    assert tree[0].children[0].slug == "shirts"


def test_client_works_as_a_context_manager(mocked):
    mocked.get(f"{API}products/", json=page_of([]))

    with ECommerceClient(BASE) as client:
        assert client.get_products().results == []
