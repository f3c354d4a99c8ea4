"""Shipping methods priced for the cart, the cart's destination and method, and tax: exact amounts."""

import uuid
from decimal import Decimal

import pytest

from cart.models import Cart
from cart.tests.factories import CartFactory, CartLineFactory
from cart.tests.helpers import CART_URL, METHODS_URL, token_headers
from coupons.tests.factories import CouponFactory, VariantFactory
from shipping.models import ShippingMethod
from shipping.tests.factories import ShippingMethodFactory, ShippingZoneFactory, TaxRateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def methods():
    europe = ShippingZoneFactory(name="Europe", countries=["DE", "FR"])
    germany = ShippingZoneFactory(name="Germany", countries=["DE"])
    america = ShippingZoneFactory(name="United States", countries=["US"])
    made = {
        "standard": ShippingMethodFactory(
            zone=europe, name="Standard", flat_price=Decimal("4.90"), free_over=Decimal("60.00")
        ),
        "weight": ShippingMethodFactory(
            zone=europe,
            name="By weight",
            rate_type="weight",
            flat_price=None,
            bands=[("0", "1", "3.50"), ("1", "5", "7.00")],
        ),
        "value": ShippingMethodFactory(
            zone=europe,
            name="By value",
            rate_type="price",
            flat_price=None,
            bands=[("0", "50", "6.00"), ("50", None, "2.00")],
        ),
        "inactive": ShippingMethodFactory(zone=europe, name="Retired", flat_price=Decimal("1.00"), is_active=False),
        "express": ShippingMethodFactory(
            zone=germany, name="Germany express", flat_price=Decimal("12.00"), min_delivery_days=1, max_delivery_days=1
        ),
        "ground": ShippingMethodFactory(zone=america, name="Ground", flat_price=Decimal("8.00")),
    }
    TaxRateFactory(country="DE", rate=Decimal("19"))
    TaxRateFactory(country="FR", rate=Decimal("20"))
    TaxRateFactory(country="US", rate=Decimal("0"), name="No federal sales tax")
    TaxRateFactory(country="US", region="CA", rate=Decimal("7.25"), name="California")
    return made


@pytest.fixture
def shirt():
    return VariantFactory(sku="SHIRT", price=Decimal("19.99"), weight=Decimal("0.400"), quantity_on_hand=20)


@pytest.fixture
def cart(shirt):
    """2 x 19.99 = 39.98, 0.8 kg."""
    cart = CartFactory()
    CartLineFactory(cart=cart, variant=shirt, quantity=2)
    return cart


def prices(response) -> dict[str, str]:
    assert response.status_code == 200, response.content
    return {option["name"]: option["price"] for option in response.json()["results"]}


def patch(client, cart, **data):
    return client.patch(CART_URL, data, format="json", **token_headers(cart.pk))


def error_code(response) -> str:
    return response.json()["errors"][0]["code"]


# --- GET shipping/methods/ -----------------------------------------------------------------------


def test_methods_for_a_country_are_priced_for_the_cart(api_client, methods, cart):
    response = api_client.get(METHODS_URL, {"country": "de"}, **token_headers(cart.pk))

    assert prices(response) == {"By value": "6.00", "By weight": "3.50", "Germany express": "12.00", "Standard": "4.90"}
    standard = next(option for option in response.json()["results"] if option["name"] == "Standard")
    assert standard == {
        "id": str(methods["standard"].pk),
        "name": "Standard",
        "description": "",
        "zone": "Europe",
        "rate_type": "flat",
        "price": "4.90",
        "currency": "USD",
        "free_over": "60.00",
        "min_delivery_days": 2,
        "max_delivery_days": 5,
    }
    assert response.json()["count"] == 4


def test_each_country_sees_only_its_zones_methods(api_client, methods, cart):
    assert prices(api_client.get(METHODS_URL, {"country": "FR"}, **token_headers(cart.pk))) == {
        "By value": "6.00",
        "By weight": "3.50",
        "Standard": "4.90",
    }
    assert prices(api_client.get(METHODS_URL, {"country": "US"}, **token_headers(cart.pk))) == {"Ground": "8.00"}


def test_a_valid_country_without_a_zone_has_no_methods(api_client, methods, cart):
    assert prices(api_client.get(METHODS_URL, {"country": "JP"}, **token_headers(cart.pk))) == {}


@pytest.mark.parametrize("country", ["XX", "DEU", "D", "", "12"])
def test_unknown_or_malformed_country_is_400(api_client, methods, country):
    response = api_client.get(METHODS_URL, {"country": country})

    assert response.status_code == 400
    assert error_code(response) == "invalid_country"
    assert response.json()["errors"][0]["attr"] == "country"


def test_missing_country_is_400(api_client, methods):
    response = api_client.get(METHODS_URL)

    assert response.status_code == 400
    assert error_code(response) == "invalid_country"


def test_weight_and_value_bands_follow_the_cart(api_client, methods, shirt):
    cart = CartFactory()
    CartLineFactory(cart=cart, variant=shirt, quantity=3)  # 59.97, 1.2 kg

    assert prices(api_client.get(METHODS_URL, {"country": "FR"}, **token_headers(cart.pk))) == {
        "By value": "2.00",
        "By weight": "7.00",
        "Standard": "4.90",
    }


def test_free_over_threshold(api_client, methods, shirt):
    cart = CartFactory()
    CartLineFactory(cart=cart, variant=shirt, quantity=4)  # 79.96

    assert prices(api_client.get(METHODS_URL, {"country": "FR"}, **token_headers(cart.pk)))["Standard"] == "0.00"


def test_methods_that_cannot_carry_the_cart_are_left_out(api_client, methods, cart):
    CartLineFactory(cart=cart, variant=VariantFactory(weight=Decimal("4.500")))  # 5.3 kg in all

    assert "By weight" not in prices(api_client.get(METHODS_URL, {"country": "FR"}, **token_headers(cart.pk)))


def test_free_shipping_coupon_prices_every_method_at_zero(api_client, methods, cart):
    cart.coupon = CouponFactory(code="FREESHIP", kind="free_shipping", value=Decimal("0"))
    cart.save()

    assert set(prices(api_client.get(METHODS_URL, {"country": "FR"}, **token_headers(cart.pk))).values()) == {"0.00"}


def test_without_a_cart_methods_show_their_starting_price(api_client, methods):
    assert prices(api_client.get(METHODS_URL, {"country": "FR"})) == {
        "By value": "6.00",
        "By weight": "3.50",
        "Standard": "4.90",
    }


def test_methods_list_uses_the_customers_cart(auth_client, user, methods, shirt):
    cart = CartFactory(user=user)
    CartLineFactory(cart=cart, variant=shirt, quantity=4)

    assert prices(auth_client.get(METHODS_URL, {"country": "FR"}))["Standard"] == "0.00"


def test_methods_list_with_a_foreign_cart_token_is_404(auth_client, other_user, methods):
    foreign = CartFactory(user=other_user)

    response = auth_client.get(METHODS_URL, {"country": "FR"}, **token_headers(foreign.pk))

    assert response.status_code == 404


# --- PATCH cart/: destination and method ---------------------------------------------------------


def test_choosing_destination_and_method_prices_shipping_and_tax(api_client, methods, cart):
    response = patch(api_client, cart, country="de", shipping_method_id=str(methods["standard"].pk))

    assert response.status_code == 200
    body = response.json()
    assert body["shipping_country"] == "DE"
    assert body["shipping_method"] == {
        "id": str(methods["standard"].pk),
        "name": "Standard",
        "min_delivery_days": 2,
        "max_delivery_days": 5,
    }
    assert body["subtotal"] == "39.98"
    assert body["shipping_total"] == "4.90"
    assert body["tax_rate"] == "19.0000"
    # 39.98 * 19 % = 7.5962 -> 7.60; 4.90 * 19 % = 0.931 -> 0.93.
    assert body["tax_total"] == "8.53"
    assert body["total"] == "53.41"
    assert body["shipping_issue"] is None


def test_tax_is_on_the_discounted_subtotal_plus_shipping(api_client, methods, cart):
    cart.coupon = CouponFactory(code="TEN", value=Decimal("10"))
    cart.save()

    body = patch(api_client, cart, country="DE", shipping_method_id=str(methods["standard"].pk)).json()

    # 39.98 - 4.00 = 35.98; tax 35.98 * 19 % = 6.8362 -> 6.84, plus 0.93 on shipping.
    assert body["discount_total"] == "4.00"
    assert body["tax_total"] == "7.77"
    assert body["total"] == "48.65"


def test_a_regional_rate_beats_the_country_rate(api_client, methods, cart):
    body = patch(api_client, cart, country="US", region="ca", shipping_method_id=str(methods["ground"].pk)).json()

    assert body["shipping_region"] == "CA"
    assert body["tax_rate"] == "7.2500"
    # 39.98 * 7.25 % = 2.89855 -> 2.90; 8.00 * 7.25 % = 0.58.
    assert body["tax_total"] == "3.48"
    assert body["total"] == "51.46"


def test_a_region_without_its_own_rate_uses_the_country_rate(api_client, methods, cart):
    body = patch(api_client, cart, country="US", region="NY").json()

    assert body["tax_rate"] == "0.0000"
    assert body["tax_total"] == "0.00"


def test_a_country_without_a_tax_rate_is_untaxed(api_client, methods, cart):
    body = patch(api_client, cart, country="JP").json()

    assert body["tax_total"] == "0.00"
    assert body["total"] == "39.98"


def test_method_of_another_zone_is_409_and_changes_nothing(api_client, methods, cart):
    response = patch(api_client, cart, country="US", shipping_method_id=str(methods["standard"].pk))

    assert response.status_code == 409
    assert error_code(response) == "shipping_method_unavailable"
    cart.refresh_from_db()
    assert (cart.shipping_country, cart.shipping_method) == ("", None)


@pytest.mark.parametrize("which", ["unknown", "inactive"])
def test_unknown_or_inactive_method_is_400(api_client, methods, cart, which):
    method_id = uuid.uuid4() if which == "unknown" else methods["inactive"].pk

    response = patch(api_client, cart, country="DE", shipping_method_id=str(method_id))

    assert response.status_code == 400
    assert error_code(response) == "shipping_method_not_found"
    assert Cart.objects.get(pk=cart.pk).shipping_method is None


def test_method_needs_a_country_first(api_client, methods, cart):
    response = patch(api_client, cart, shipping_method_id=str(methods["standard"].pk))

    assert response.status_code == 400
    assert error_code(response) == "country_required"


def test_invalid_country_is_400(api_client, methods, cart):
    response = patch(api_client, cart, country="ZZ")

    assert response.status_code == 400
    assert error_code(response) == "invalid_country"
    assert Cart.objects.get(pk=cart.pk).shipping_country == ""


def test_method_that_cannot_carry_the_cart_is_409(api_client, methods, cart):
    CartLineFactory(cart=cart, variant=VariantFactory(weight=Decimal("4.500")))

    response = patch(api_client, cart, country="DE", shipping_method_id=str(methods["weight"].pk))

    assert response.status_code == 409
    assert error_code(response) == "shipping_method_unavailable"


def test_changing_country_drops_a_method_that_does_not_serve_it(api_client, methods, cart):
    patch(api_client, cart, country="DE", shipping_method_id=str(methods["standard"].pk))

    kept = patch(api_client, cart, country="FR").json()
    dropped = patch(api_client, cart, country="US").json()

    assert kept["shipping_method"]["name"] == "Standard"
    assert dropped["shipping_method"] is None
    assert dropped["shipping_total"] == "0.00"


def test_null_clears_the_method(api_client, methods, cart):
    patch(api_client, cart, country="DE", shipping_method_id=str(methods["standard"].pk))

    body = patch(api_client, cart, shipping_method_id=None).json()

    assert body["shipping_method"] is None
    assert body["shipping_country"] == "DE"


def test_patch_without_a_cart_creates_one(api_client, methods):
    response = api_client.patch(CART_URL, {"country": "FR"}, format="json")

    assert response.status_code == 200
    assert response.headers["X-Cart-Token"] == response.json()["id"]
    assert Cart.objects.get().shipping_country == "FR"


def test_a_method_withdrawn_after_it_was_chosen_is_flagged(api_client, methods, cart):
    patch(api_client, cart, country="DE", shipping_method_id=str(methods["standard"].pk))
    ShippingMethod.objects.filter(pk=methods["standard"].pk).update(is_active=False)

    body = api_client.get(CART_URL, **token_headers(cart.pk)).json()

    assert body["shipping_issue"] == "shipping_method_unavailable"
    assert body["shipping_total"] == "0.00"


def test_free_over_and_free_shipping_coupon_in_the_cart_totals(api_client, methods, cart):
    cart.coupon = CouponFactory(code="FREESHIP", kind="free_shipping", value=Decimal("0"))
    cart.save()

    body = patch(api_client, cart, country="DE", shipping_method_id=str(methods["express"].pk)).json()

    assert body["shipping_total"] == "0.00"
    assert body["tax_total"] == "7.60"
    assert body["total"] == "47.58"


@pytest.mark.parametrize("count", [2, 12])
def test_methods_list_query_count_does_not_grow(api_client, cart, count, django_assert_max_num_queries):
    zone = ShippingZoneFactory(countries=["DE"])
    for index in range(count):
        ShippingMethodFactory(zone=zone, rate_type="weight", flat_price=None, bands=[("0", None, f"{index}.00")])
    cart.coupon = CouponFactory(code="TEN")
    cart.save()

    with django_assert_max_num_queries(6):
        response = api_client.get(METHODS_URL, {"country": "DE"}, **token_headers(cart.pk))

    assert response.json()["count"] == count
