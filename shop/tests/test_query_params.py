"""Unknown query parameters on catalog lists are a 400 naming them; `search` is `q`; a product is
reachable by its id as well as its slug."""

from decimal import Decimal

import pytest

from shop.tests.factories import CategoryFactory, ProductFactory, ProductVariantFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
FACETS = "/api/v1/products/facets/"


@pytest.fixture
def catalog():
    hoodies = CategoryFactory(slug="hoodies", name="Hoodies")
    boots = CategoryFactory(slug="boots", name="Boots")
    hoodie = ProductFactory(slug="wool-hoodie", name="Wool Hoodie", category=hoodies, variants=0)
    ProductVariantFactory(product=hoodie, price=Decimal("40.00"))
    boot = ProductFactory(slug="hiking-boot", name="Hiking Boot", category=boots, variants=0)
    ProductVariantFactory(product=boot, price=Decimal("90.00"))
    return {"hoodie": hoodie, "boot": boot}


def _slugs(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [item["slug"] for item in response.json()["results"]]


@pytest.mark.parametrize("url", [PRODUCTS, FACETS])
def test_an_unknown_parameter_is_a_400_that_names_it(api_client, catalog, url):
    response = api_client.get(url, {"serach": "hoodie", "categroy": "boots", "q": "hoodie"})

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert [(error["code"], error["attr"]) for error in body["errors"]] == [
        ("unknown_parameter", "serach"),
        ("unknown_parameter", "categroy"),
    ]
    assert "Accepted: category, in_stock, max_price" in body["errors"][0]["detail"]


def test_documented_parameters_are_accepted(api_client, catalog):
    params = {
        "category": "hoodies",
        "q": "hoodie",
        "min_price": "1",
        "max_price": "100",
        "in_stock": "true",
        "rating_min": "0",
        "ordering": "price",
        "page": "1",
        "page_size": "10",
        "format": "json",
    }

    assert _slugs(api_client.get(PRODUCTS, params)) == ["wool-hoodie"]


def test_facets_accept_the_lists_own_query_string(api_client, catalog):
    response = api_client.get(FACETS, {"category": "boots", "ordering": "-price", "page": "2", "page_size": "24"})

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_search_is_another_name_of_q(api_client, catalog):
    assert _slugs(api_client.get(PRODUCTS, {"search": "hoodie"})) == ["wool-hoodie"]
    assert _slugs(api_client.get(PRODUCTS, {"search": "boot", "q": "boot"})) == ["hiking-boot"]
    # Relevance needs a query: `search` counts as one.
    assert _slugs(api_client.get(PRODUCTS, {"search": "boot", "ordering": "relevance"})) == ["hiking-boot"]
    assert api_client.get(FACETS, {"search": "boot"}).json()["count"] == 1


def test_search_and_q_with_different_values_is_a_400(api_client, catalog):
    response = api_client.get(PRODUCTS, {"search": "boot", "q": "hoodie"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "conflicting_parameters"
    assert response.json()["errors"][0]["attr"] == "search"


def test_a_rejected_query_is_not_cached_as_the_unfiltered_list(api_client, catalog):
    assert api_client.get(PRODUCTS, {"categroy": "boots"}).status_code == 400
    assert api_client.get(PRODUCTS, {"categroy": "boots"}).status_code == 400
    assert _slugs(api_client.get(PRODUCTS, {"category": "boots"})) == ["hiking-boot"]


def test_a_product_by_id_answers_the_same_body_as_by_slug(api_client, catalog):
    boot = catalog["boot"]

    by_slug = api_client.get(f"{PRODUCTS}hiking-boot/")
    by_id = api_client.get(f"{PRODUCTS}{boot.pk}/")

    assert by_slug.status_code == by_id.status_code == 200
    assert by_id.json() == by_slug.json()
    assert by_id.json()["slug"] == "hiking-boot" and by_id.json()["id"] == boot.pk


def test_an_all_digit_slug_wins_over_an_id(api_client, catalog):
    boot = catalog["boot"]
    numeric = ProductFactory(slug=str(boot.pk), name="Model Number")

    body = api_client.get(f"{PRODUCTS}{boot.pk}/").json()

    assert body["id"] == numeric.pk and body["slug"] == str(boot.pk)


def test_unknown_and_hidden_ids_are_404(api_client, staff_client, catalog):
    hidden = ProductFactory(slug="hidden", is_active=False)

    assert api_client.get(f"{PRODUCTS}987654321/").status_code == 404
    assert api_client.get(f"{PRODUCTS}99999999999999999999999/").status_code == 404
    assert api_client.get(f"{PRODUCTS}{hidden.pk}/").status_code == 404
    assert api_client.get(f"{PRODUCTS}{hidden.pk}/").json()["errors"][0]["code"] == "product_not_found"
    assert staff_client.get(f"{PRODUCTS}{hidden.pk}/").json()["slug"] == "hidden"
