"""PostgreSQL full-text search: weights, typo tolerance, and a vector the database keeps current."""

import pytest
from django.db import connection

from shop import services
from shop.tests.factories import CategoryFactory, ProductFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

PRODUCTS = "/api/v1/products/"


def slugs(client, **params):
    return [item["slug"] for item in client.get(PRODUCTS, params).json()["results"]]


@pytest.fixture
def catalog():
    clothing = CategoryFactory(name="Clothing", slug="clothing")
    sweats = CategoryFactory(name="Sweatshirts", slug="sweatshirts", parent=clothing)
    shoes = CategoryFactory(name="Shoes", slug="shoes")
    ProductFactory(slug="hoodie", name="Cotton Hoodie", brand="Northwind", category=sweats)
    ProductFactory(
        slug="jacket", name="Rain Jacket", brand="Kestrel", category=clothing, description="Goes over a hoodie"
    )
    ProductFactory(slug="boot", name="Leather Boot", brand="Northwind", category=shoes, description="Waterproof")
    ProductFactory(slug="sneaker", name="Canvas Sneaker", brand="Acme", category=shoes)
    return {"clothing": clothing, "sweats": sweats, "shoes": shoes}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("hoodei", ["hoodie", "jacket"]),  # a typo, ranked: name (A) above description (D)
        ("hodie", ["hoodie", "jacket"]),
        ("lether", ["boot"]),
        ("snekaer", ["sneaker"]),
        ("northwnd boot", ["boot"]),  # a typo in the brand, every word must match
    ],
)
def test_typos_still_find_the_product(api_client, catalog, query, expected):
    assert slugs(api_client, q=query) == expected


def test_prefixes_and_stems_match(api_client, catalog):
    assert slugs(api_client, q="hood") == ["hoodie", "jacket"]
    assert slugs(api_client, q="boots") == ["boot"]
    assert slugs(api_client, q="sweatshirt") == ["hoodie"]  # category weight C
    assert set(slugs(api_client, q="clothing")) == {"hoodie", "jacket"}  # the hoodie through an ancestor


def test_brand_outranks_description(api_client):
    category = CategoryFactory(slug="misc")
    ProductFactory(slug="mentions", name="Bag", description="Fits a kestrel jacket", category=category)
    ProductFactory(slug="made-by", name="Cap", brand="Kestrel", category=category)

    assert slugs(api_client, q="kestrel") == ["made-by", "mentions"]


def test_explicit_ordering_overrides_relevance(api_client, catalog):
    assert slugs(api_client, q="northwind", ordering="name") == ["hoodie", "boot"]
    assert slugs(api_client, q="northwind", ordering="-created_at") == ["boot", "hoodie"]


def test_vector_follows_product_and_category_changes(api_client, catalog):
    assert slugs(api_client, q="fleece") == []

    services.product_update(product=catalog["sweats"].products.get(), name="Fleece Hoodie")
    assert slugs(api_client, q="fleece") == ["hoodie"]

    # Renaming an ancestor reaches products two levels down.
    services.category_update(category=catalog["clothing"], name="Apparel")
    assert set(slugs(api_client, q="apparel")) == {"hoodie", "jacket"}
    assert slugs(api_client, q="clothing") == []

    services.category_update(category=catalog["sweats"], parent=catalog["shoes"])  # new ancestors
    assert slugs(api_client, q="shoes hoodie") == ["hoodie"]


def test_search_uses_the_indexes(catalog):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename IN ('shop_product', 'shop_search_word')")
        indexes = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'shop_%'")
        triggers = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT word FROM shop_search_word WHERE word IN ('hoodie', 'northwind', 'sweatshirts')")
        words = {row[0] for row in cursor.fetchall()}

    assert {"shop_product_search_vector_gin", "shop_product_name_trgm", "shop_search_word_trgm"} <= indexes
    assert triggers == {"shop_product_search_vector_trigger", "shop_category_search_trigger"}
    assert words == {"hoodie", "northwind", "sweatshirts"}


def test_suggest_tolerates_typos(api_client, catalog):
    response = api_client.get(f"{PRODUCTS}suggest/", {"q": "hoodei"})

    assert [item["slug"] for item in response.json()["products"]] == ["hoodie", "jacket"]


def test_facets_count_search_results(api_client, catalog):
    body = api_client.get(f"{PRODUCTS}facets/", {"q": "northwind"}).json()

    assert body["count"] == 2
    assert {row["slug"]: row["count"] for row in body["categories"]} == {"sweatshirts": 1, "shoes": 1}


def test_hostile_queries_are_plain_words(api_client, catalog):
    for query in ["'); DROP TABLE shop_product; --", "hoodie & | ! :* <->", "\\", "a" * 300]:
        response = api_client.get(PRODUCTS, {"q": query[:200]})
        assert response.status_code == 200
    assert slugs(api_client, q="hoodie & | ! :*") == ["hoodie", "jacket"]


def test_the_price_descending_list_has_its_index():
    """Migration 0005 makes it on PostgreSQL only (SQLite refuses NULLS LAST in an index)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'shop_product_price_desc_idx'")
        (definition,) = cursor.fetchone()

    assert "lowest_price DESC NULLS LAST, id DESC" in definition
