"""A product hidden from the catalog by an inactive category or ancestor is not for sale in the
cart either: it cannot be added or changed, shows as unavailable and is dropped by the merge."""

import pytest

from cart.models import Cart, CartLine
from cart.tests.factories import CartFactory, CartLineFactory
from cart.tests.helpers import CART_URL, ITEMS_URL, item_url, token_headers
from coupons.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from shop.services import category_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def branch():
    """Clothing > Shirts > a shirt variant; every category active for now."""
    clothing = CategoryFactory(name="Clothing")
    shirts = CategoryFactory(name="Shirts", parent=clothing)
    variant = VariantFactory(product=ProductFactory(category=shirts), quantity_on_hand=10)
    return clothing, variant


def add(client, variant, quantity=1, token=None):
    headers = token_headers(token) if token else {}
    return client.post(ITEMS_URL, {"variant_id": variant.pk, "quantity": quantity}, format="json", **headers)


def test_a_product_under_an_inactive_ancestor_cannot_be_added(api_client, branch):
    clothing, variant = branch
    category_update(category=clothing, is_active=False)

    response = add(api_client, variant)

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "variant_unavailable"
    assert Cart.objects.count() == 0


def test_a_line_hidden_later_is_flagged_and_cannot_be_changed(api_client, branch):
    clothing, variant = branch
    created = add(api_client, variant)
    token, line_id = created.headers["X-Cart-Token"], created.json()["items"][0]["id"]
    category_update(category=clothing, is_active=False)

    item = api_client.get(CART_URL, **token_headers(token)).json()["items"][0]
    changed = api_client.patch(item_url(line_id), {"quantity": 3}, format="json", **token_headers(token))

    assert item["is_available"] is False
    assert changed.status_code == 409
    assert changed.json()["errors"][0]["code"] == "variant_unavailable"
    assert CartLine.objects.get().quantity == 1


def test_the_merge_drops_lines_of_hidden_products(auth_client, user, branch):
    clothing, variant = branch
    kept = VariantFactory(sku="KEPT")
    anonymous = CartFactory()
    CartLineFactory(cart=anonymous, variant=variant, quantity=1)
    CartLineFactory(cart=anonymous, variant=kept, quantity=2)
    category_update(category=clothing, is_active=False)

    response = auth_client.get(CART_URL, **token_headers(anonymous.pk))

    assert response.status_code == 200
    assert [(item["variant"]["sku"], item["quantity"]) for item in response.json()["items"]] == [("KEPT", 2)]
