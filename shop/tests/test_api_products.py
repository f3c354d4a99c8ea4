import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shop.models import Product
from shop.services import product_purchases_record
from shop.tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    ProductVariantFactory,
    ReviewFactory,
)

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def slugs(response) -> list[str]:
    return [item["slug"] for item in response.json()["results"]]


@pytest.fixture
def tree():
    clothing = CategoryFactory(name="Clothing", slug="clothing")
    hoodies = CategoryFactory(name="Hoodies", slug="hoodies", parent=clothing)
    zip_hoodies = CategoryFactory(name="Zip hoodies", slug="zip-hoodies", parent=hoodies)
    shoes = CategoryFactory(name="Shoes", slug="shoes")
    return {"clothing": clothing, "hoodies": hoodies, "zip": zip_hoodies, "shoes": shoes}


def test_list_item_has_the_contract_fields(api_client, tree):
    product = ProductFactory(
        name="Cotton Hoodie",
        slug="cotton-hoodie",
        category=tree["hoodies"],
        variants=0,
    )
    ProductVariantFactory(product=product, price=Decimal("49.00"), compare_at_price=Decimal("59.00"))
    ProductVariantFactory(product=product, price=Decimal("39.50"), compare_at_price=Decimal("45.00"))
    image = ProductImageFactory(product=product, sort_order=0)
    ProductImageFactory(product=product, sort_order=1)

    response = api_client.get(PRODUCTS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    assert body["results"] == [
        {
            "id": product.pk,
            "slug": "cotton-hoodie",
            "name": "Cotton Hoodie",
            "brand": "Acme",
            "price": "39.50",
            "compare_at_price": "45.00",
            "currency": "USD",
            "image": f"http://127.0.0.1:8000/media/{image.image.name}",
            "rating_average": "0.00",
            "rating_count": 0,
            "in_stock": True,
            "category": {"slug": "hoodies", "name": "Hoodies"},
        }
    ]


def test_inactive_products_and_products_of_inactive_categories_are_invisible(api_client, tree, staff_client):
    ProductFactory(slug="visible", category=tree["hoodies"])
    ProductFactory(slug="switched-off", category=tree["hoodies"], is_active=False)
    hidden_category = CategoryFactory(slug="hidden", is_active=False)
    ProductFactory(slug="in-hidden-category", category=hidden_category)

    assert slugs(api_client.get(PRODUCTS)) == ["visible"]
    assert api_client.get(f"{PRODUCTS}switched-off/").status_code == 404
    assert api_client.get(f"{PRODUCTS}in-hidden-category/").status_code == 404
    # Staff reach an inactive product by slug to edit it.
    assert staff_client.get(f"{PRODUCTS}switched-off/").json()["is_active"] is False


def test_category_filter_includes_every_level_below(api_client, tree):
    ProductFactory(slug="top", category=tree["clothing"])
    ProductFactory(slug="mid", category=tree["hoodies"])
    ProductFactory(slug="deep", category=tree["zip"])
    ProductFactory(slug="other", category=tree["shoes"])

    assert set(slugs(api_client.get(PRODUCTS, {"category": "clothing"}))) == {"top", "mid", "deep"}
    assert set(slugs(api_client.get(PRODUCTS, {"category": "hoodies"}))) == {"mid", "deep"}
    assert slugs(api_client.get(PRODUCTS, {"category": "zip-hoodies"})) == ["deep"]
    assert slugs(api_client.get(PRODUCTS, {"category": "no-such-category"})) == []


@pytest.fixture
def priced(tree):
    cheap = ProductFactory(slug="cheap", name="Beta", category=tree["hoodies"], variants__price=Decimal("10.00"))
    mid = ProductFactory(slug="mid", name="Alpha", category=tree["hoodies"], variants__price=Decimal("25.00"))
    dear = ProductFactory(slug="dear", name="Gamma", category=tree["shoes"], variants__price=Decimal("99.99"))
    return cheap, mid, dear


def test_price_filters_use_the_lowest_variant_price(api_client, priced):
    _, mid, _ = priced
    ProductVariantFactory(product=mid, price=Decimal("5.00"))  # mid now starts at 5.00

    assert set(slugs(api_client.get(PRODUCTS, {"min_price": "10"}))) == {"cheap", "dear"}
    assert set(slugs(api_client.get(PRODUCTS, {"max_price": "10.00"}))) == {"cheap", "mid"}
    assert slugs(api_client.get(PRODUCTS, {"min_price": "20", "max_price": "100"})) == ["dear"]


def test_in_stock_filter(api_client, tree):
    ProductFactory(slug="available", category=tree["hoodies"], variants__quantity_on_hand=3)
    fully_held = ProductFactory(slug="fully-held", category=tree["hoodies"], variants__quantity_on_hand=2)
    fully_held.variants.update(quantity_allocated=2)
    ProductFactory(slug="empty", category=tree["hoodies"], variants__quantity_on_hand=0)
    ProductFactory(slug="inactive-variant", category=tree["hoodies"], variants__is_active=False)

    assert slugs(api_client.get(PRODUCTS, {"in_stock": "true"})) == ["available"]
    assert set(slugs(api_client.get(PRODUCTS, {"in_stock": "false"}))) == {"fully-held", "empty", "inactive-variant"}
    items = {item["slug"]: item["in_stock"] for item in api_client.get(PRODUCTS).json()["results"]}
    assert items == {"available": True, "fully-held": False, "empty": False, "inactive-variant": False}


def test_rating_min_filter(api_client, tree):
    good = ProductFactory(slug="good", category=tree["hoodies"])
    poor = ProductFactory(slug="poor", category=tree["hoodies"])
    ProductFactory(slug="unrated", category=tree["hoodies"])
    Product.objects.filter(pk=good.pk).update(rating_average=Decimal("4.50"), rating_count=2)
    Product.objects.filter(pk=poor.pk).update(rating_average=Decimal("2.00"), rating_count=1)

    assert slugs(api_client.get(PRODUCTS, {"rating_min": "4"})) == ["good"]
    assert set(slugs(api_client.get(PRODUCTS, {"rating_min": "2"}))) == {"good", "poor"}


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("price", ["cheap", "mid", "dear"]),
        ("-price", ["dear", "mid", "cheap"]),
        ("name", ["mid", "cheap", "dear"]),  # Alpha, Beta, Gamma
        ("-created_at", ["dear", "mid", "cheap"]),
    ],
)
def test_orderings(api_client, priced, ordering, expected):
    now = timezone.now()
    for age, slug in enumerate(["dear", "mid", "cheap"]):
        Product.objects.filter(slug=slug).update(created_at=now - timedelta(days=age))

    assert slugs(api_client.get(PRODUCTS, {"ordering": ordering})) == expected


def test_default_ordering_is_newest_first(api_client, priced):
    now = timezone.now()
    for age, slug in enumerate(["mid", "dear", "cheap"]):
        Product.objects.filter(slug=slug).update(created_at=now - timedelta(days=age))

    assert slugs(api_client.get(PRODUCTS)) == ["mid", "dear", "cheap"]


def test_rating_ordering_breaks_ties_by_review_count(api_client, priced):
    Product.objects.filter(slug="cheap").update(rating_average=Decimal("4.00"), rating_count=10)
    Product.objects.filter(slug="mid").update(rating_average=Decimal("4.00"), rating_count=3)
    Product.objects.filter(slug="dear").update(rating_average=Decimal("4.90"), rating_count=1)

    assert slugs(api_client.get(PRODUCTS, {"ordering": "-rating"})) == ["dear", "cheap", "mid"]


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"min_price": "-1"}, "min_price"),
        ({"min_price": "cheap"}, "min_price"),
        ({"max_price": "-0.01"}, "max_price"),
        ({"max_price": "NaN"}, "max_price"),
        ({"max_price": "1e400"}, "max_price"),
        ({"min_price": "50", "max_price": "10"}, "max_price"),
        ({"rating_min": "6"}, "rating_min"),
        ({"rating_min": "x"}, "rating_min"),
        ({"in_stock": "maybe"}, "in_stock"),
        ({"ordering": "popularity"}, "ordering"),
        ({"ordering": "relevance"}, "ordering"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_bad_filter_values_are_400_in_the_error_shape(api_client, priced, params, attr):
    response = api_client.get(PRODUCTS, params)

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert {error["attr"] for error in body["errors"]} == {attr}
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", error["code"] or "") for error in body["errors"]), body


def test_page_size_up_to_100_is_accepted(api_client, priced):
    response = api_client.get(PRODUCTS, {"page_size": "100"})

    assert response.status_code == 200
    assert response.json()["count"] == 3


def test_search_on_any_database_matches_name_brand_description_and_category(api_client, tree):
    ProductFactory(slug="hoodie", name="Cotton Hoodie", category=tree["hoodies"], brand="Northwind")
    ProductFactory(slug="boot", name="Leather Boot", category=tree["shoes"], description="Waterproof leather")
    ProductFactory(slug="runner", name="Trail Runner", category=tree["shoes"], brand="Kestrel")

    assert slugs(api_client.get(PRODUCTS, {"q": "hoodie"})) == ["hoodie"]
    assert slugs(api_client.get(PRODUCTS, {"q": "waterproof"})) == ["boot"]
    assert slugs(api_client.get(PRODUCTS, {"q": "kestrel"})) == ["runner"]
    assert slugs(api_client.get(PRODUCTS, {"q": "clothing"})) == ["hoodie"]  # an ancestor category
    assert slugs(api_client.get(PRODUCTS, {"q": "cotton hoodie"})) == ["hoodie"]
    assert slugs(api_client.get(PRODUCTS, {"q": "cotton boot"})) == []
    assert slugs(api_client.get(PRODUCTS, {"q": "!!!"})) == []


def test_search_ranks_name_matches_first_and_combines_with_filters(api_client, tree):
    ProductFactory(slug="mentions", name="Trail Runner", description="Pairs well with a hoodie", category=tree["shoes"])
    ProductFactory(slug="named", name="Hoodie Deluxe", category=tree["hoodies"], variants__price=Decimal("80.00"))

    assert slugs(api_client.get(PRODUCTS, {"q": "hoodie"})) == ["named", "mentions"]
    assert slugs(api_client.get(PRODUCTS, {"q": "hoodie", "ordering": "relevance"})) == ["named", "mentions"]
    assert slugs(api_client.get(PRODUCTS, {"q": "hoodie", "max_price": "50"})) == ["mentions"]
    assert slugs(api_client.get(PRODUCTS, {"q": "hoodie", "category": "shoes"})) == ["mentions"]


def test_detail_has_variants_images_attributes_and_rating_summary(api_client, tree, user, other_user):
    product = ProductFactory(
        slug="cotton-hoodie",
        name="Cotton Hoodie",
        category=tree["zip"],
        attributes={"material": "cotton"},
        variants=0,
    )
    medium = ProductVariantFactory(
        product=product, sku="HOOD-M", name="M", options={"size": "M"}, price=Decimal("40.00"), quantity_on_hand=5
    )
    medium.__class__.objects.filter(pk=medium.pk).update(quantity_allocated=2)
    large = ProductVariantFactory(
        product=product, sku="HOOD-L", name="L", options={"size": "L"}, price=Decimal("42.00"), quantity_on_hand=0
    )
    ProductVariantFactory(product=product, sku="HOOD-XL", is_active=False)
    image = ProductImageFactory(product=product, alt_text="Front")
    ReviewFactory(product=product, user=user, rating=5)
    ReviewFactory(product=product, user=other_user, rating=2)

    response = api_client.get(f"{PRODUCTS}cotton-hoodie/")

    assert response.status_code == 200
    body = response.json()
    assert body["variants"] == [
        {
            "id": medium.pk,
            "sku": "HOOD-M",
            "name": "M",
            "options": {"size": "M"},
            "price": "40.00",
            "compare_at_price": None,
            "currency": "USD",
            "weight": "0.000",
            "in_stock": True,
            "available_quantity": 3,
        },
        {
            "id": large.pk,
            "sku": "HOOD-L",
            "name": "L",
            "options": {"size": "L"},
            "price": "42.00",
            "compare_at_price": None,
            "currency": "USD",
            "weight": "0.000",
            "in_stock": False,
            "available_quantity": 0,
        },
    ]
    assert body["images"] == [
        {"id": image.pk, "url": f"http://127.0.0.1:8000/media/{image.image.name}", "alt_text": "Front", "sort_order": 0}
    ]
    assert body["attributes"] == {"material": "cotton"}
    assert body["price"] == "40.00"
    assert body["in_stock"] is True
    assert body["rating"] == {
        "average": "3.50",
        "count": 2,
        "distribution": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1},
    }
    assert body["breadcrumbs"] == [
        {"slug": "clothing", "name": "Clothing"},
        {"slug": "hoodies", "name": "Hoodies"},
        {"slug": "zip-hoodies", "name": "Zip hoodies"},
    ]


def test_unknown_product_is_404_in_the_error_shape(api_client):
    response = api_client.get(f"{PRODUCTS}nothing-here/")

    assert response.status_code == 404
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "product_not_found", "detail": "No such product.", "attr": None}],
    }


def test_facets_count_the_same_filters(api_client, tree):
    ProductFactory(slug="a", category=tree["hoodies"], variants__price=Decimal("20.00"))
    ProductFactory(slug="b", category=tree["hoodies"], variants__price=Decimal("35.00"), variants__quantity_on_hand=0)
    ProductFactory(slug="c", category=tree["zip"], variants__price=Decimal("60.00"))
    ProductFactory(slug="d", category=tree["shoes"], variants__price=Decimal("120.00"))
    ProductFactory(slug="off", category=tree["shoes"], is_active=False)

    everything = api_client.get(f"{PRODUCTS}facets/")
    clothing = api_client.get(f"{PRODUCTS}facets/", {"category": "clothing", "max_price": "50"})

    assert everything.status_code == 200
    assert everything.json() == {
        "count": 4,
        "in_stock": 3,
        "price": {"min": "20.00", "max": "120.00"},
        "categories": [
            {"slug": "hoodies", "name": "Hoodies", "count": 2},
            {"slug": "shoes", "name": "Shoes", "count": 1},
            {"slug": "zip-hoodies", "name": "Zip hoodies", "count": 1},
        ],
    }
    assert clothing.json() == {
        "count": 2,
        "in_stock": 1,
        "price": {"min": "20.00", "max": "35.00"},
        "categories": [{"slug": "hoodies", "name": "Hoodies", "count": 2}],
    }


def test_facets_of_nothing_and_bad_filters(api_client):
    assert api_client.get(f"{PRODUCTS}facets/").json() == {
        "count": 0,
        "in_stock": 0,
        "price": {"min": None, "max": None},
        "categories": [],
    }
    response = api_client.get(f"{PRODUCTS}facets/", {"min_price": "-5"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "min_price"


def test_suggest_returns_matching_products_and_categories(api_client, tree):
    ProductFactory(slug="cotton-hoodie", name="Cotton Hoodie", category=tree["hoodies"])
    ProductFactory(slug="hidden-hoodie", name="Hidden Hoodie", category=tree["hoodies"], is_active=False)
    ProductFactory(slug="boot", name="Boot", category=tree["shoes"])

    response = api_client.get(f"{PRODUCTS}suggest/", {"q": "hood"})

    assert response.status_code == 200
    assert response.json() == {
        "products": [{"slug": "cotton-hoodie", "name": "Cotton Hoodie", "image": None}],
        "categories": [{"slug": "hoodies", "name": "Hoodies"}, {"slug": "zip-hoodies", "name": "Zip hoodies"}],
    }


@pytest.mark.parametrize("params", [{}, {"q": "a"}, {"q": "x" * 101}])
def test_suggest_needs_a_query_of_two_to_100_characters(api_client, params):
    response = api_client.get(f"{PRODUCTS}suggest/", params)

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "q"


def test_related_lists_same_category_and_bought_together(api_client, tree, user, other_user):
    product = ProductFactory(slug="hoodie", category=tree["hoodies"])
    sibling_good = ProductFactory(slug="sibling-good", category=tree["hoodies"])
    ProductFactory(slug="sibling-ok", category=tree["hoodies"])
    ProductFactory(slug="sibling-off", category=tree["hoodies"], is_active=False)
    Product.objects.filter(pk=sibling_good.pk).update(rating_average=Decimal("4.80"), rating_count=4)
    boots = ProductFactory(slug="boots", category=tree["shoes"])
    socks = ProductFactory(slug="socks", category=tree["shoes"])
    hidden = ProductFactory(slug="hidden", category=tree["shoes"], is_active=False)
    product_purchases_record(
        user=user,
        order_id="00000000-0000-0000-0000-000000000001",
        product_ids=[product.pk, boots.pk, socks.pk, hidden.pk],
    )
    product_purchases_record(
        user=other_user, order_id="00000000-0000-0000-0000-000000000002", product_ids=[product.pk, boots.pk]
    )
    product_purchases_record(user=other_user, order_id="00000000-0000-0000-0000-000000000003", product_ids=[socks.pk])

    response = api_client.get(f"{PRODUCTS}hoodie/related/")

    assert response.status_code == 200
    body = response.json()
    assert [item["slug"] for item in body["same_category"]] == ["sibling-good", "sibling-ok"]
    assert [(item["slug"], item["times_bought_together"]) for item in body["bought_together"]] == [
        ("boots", 2),
        ("socks", 1),
    ]
    assert api_client.get(f"{PRODUCTS}hidden/related/").status_code == 404
