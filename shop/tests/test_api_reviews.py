import uuid
from decimal import Decimal

import pytest
from waffle.testutils import override_flag

from shop.models import Product, Review
from shop.services import product_purchases_record
from shop.tests.factories import ProductFactory, ReviewFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def reviews_on():
    with override_flag("reviews", active=True):
        yield


@pytest.fixture
def product():
    return ProductFactory(slug="hoodie")


def reviews_url(product, review=None, suffix=""):
    base = f"/api/v1/products/{product.slug}/reviews/"
    return f"{base}{review.public_id}/{suffix}" if review else base


def bought(user, product):
    product_purchases_record(user=user, order_id=uuid.uuid4(), product_ids=[product.pk])


def rating_of(product):
    product.refresh_from_db()
    return product.rating_average, product.rating_count


def test_a_buyer_reviews_and_the_product_rating_follows(auth_client, user, product):
    bought(user, product)

    response = auth_client.post(reviews_url(product), {"rating": 4, "title": "Good", "body": "Warm."}, format="json")

    assert response.status_code == 201
    body = response.json()
    review = Review.objects.get()
    assert body == {
        "id": str(review.public_id),
        "rating": 4,
        "title": "Good",
        "body": "Warm.",
        "author": "Cam",
        "is_mine": True,
        "is_hidden": False,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert rating_of(product) == (Decimal("4.00"), 1)


def test_someone_who_did_not_buy_cannot_review(auth_client, other_user, user, product):
    bought(other_user, product)  # somebody else bought it

    response = auth_client.post(reviews_url(product), {"rating": 5}, format="json")

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "review_requires_purchase"
    assert Review.objects.count() == 0
    assert rating_of(product) == (Decimal("0"), 0)


def test_one_review_per_customer_and_product(auth_client, user, product):
    bought(user, product)
    assert auth_client.post(reviews_url(product), {"rating": 5}, format="json").status_code == 201

    second = auth_client.post(reviews_url(product), {"rating": 1}, format="json")

    assert second.status_code == 409
    assert second.json()["errors"][0]["code"] == "review_already_exists"
    assert list(Review.objects.values_list("rating", flat=True)) == [5]
    assert rating_of(product) == (Decimal("5.00"), 1)


@pytest.mark.parametrize("rating", [0, 6, "five", None])
def test_rating_must_be_1_to_5(auth_client, user, product, rating):
    bought(user, product)

    response = auth_client.post(reviews_url(product), {"rating": rating}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "rating"
    assert Review.objects.count() == 0


def test_anonymous_cannot_review(api_client, product):
    assert api_client.post(reviews_url(product), {"rating": 5}, format="json").status_code == 401


def test_author_edits_and_deletes_others_get_404(auth_client, other_client, user, other_user, product):
    review = ReviewFactory(product=product, user=user, rating=2)
    ReviewFactory(product=product, user=other_user, rating=4)
    assert rating_of(product) == (Decimal("3.00"), 2)

    assert other_client.patch(reviews_url(product, review), {"rating": 1}, format="json").status_code == 404
    assert other_client.delete(reviews_url(product, review)).status_code == 404
    review.refresh_from_db()
    assert review.rating == 2

    edited = auth_client.patch(reviews_url(product, review), {"rating": 5, "body": "Changed my mind"}, format="json")
    assert edited.status_code == 200
    assert (edited.json()["rating"], edited.json()["body"]) == (5, "Changed my mind")
    assert rating_of(product) == (Decimal("4.50"), 2)

    assert auth_client.delete(reviews_url(product, review)).status_code == 204
    assert not Review.objects.filter(pk=review.pk).exists()
    assert rating_of(product) == (Decimal("4.00"), 1)


def test_staff_hide_and_unhide(staff_client, api_client, auth_client, user, other_user, product):
    review = ReviewFactory(product=product, user=user, rating=1)
    ReviewFactory(product=product, user=other_user, rating=5)

    assert auth_client.post(reviews_url(product, review, "hide/")).status_code == 403
    hidden = staff_client.post(reviews_url(product, review, "hide/"))

    assert hidden.status_code == 200
    assert hidden.json()["is_hidden"] is True
    assert rating_of(product) == (Decimal("5.00"), 1)
    public = api_client.get(reviews_url(product)).json()
    assert [item["rating"] for item in public["results"]] == [5]
    assert api_client.get(reviews_url(product, review)).status_code == 404
    assert [item["is_hidden"] for item in staff_client.get(reviews_url(product)).json()["results"]] == [False, True]

    assert staff_client.post(reviews_url(product, review, "unhide/")).json()["is_hidden"] is False
    assert rating_of(product) == (Decimal("3.00"), 2)


def test_list_is_public_paginated_and_never_shows_emails(api_client, user, other_user, product, django_user_model):
    user.last_name = "Smith"
    user.save()
    ReviewFactory(product=product, user=user, rating=4)
    ReviewFactory(product=product, user=other_user, rating=3)

    body = api_client.get(reviews_url(product), {"page_size": 1}).json()

    assert body["count"] == 2
    assert len(body["results"]) == 1
    authors = {item["author"] for item in api_client.get(reviews_url(product)).json()["results"]}
    assert authors == {"Cam S.", "Verified customer"}
    assert "@" not in str(api_client.get(reviews_url(product)).json())


def test_reviews_of_an_inactive_product_are_404(api_client):
    hidden = ProductFactory(slug="gone", is_active=False)

    assert api_client.get(reviews_url(hidden)).status_code == 404


def test_flag_off_hides_the_whole_feature(api_client, auth_client, user, product):
    bought(user, product)
    with override_flag("reviews", active=False):
        listing = api_client.get(reviews_url(product))
        posting = auth_client.post(reviews_url(product), {"rating": 5}, format="json")

    assert listing.status_code == 404
    assert listing.json()["errors"][0]["code"] == "reviews_disabled"
    assert posting.status_code == 404
    assert Review.objects.count() == 0


def test_review_writes_are_throttled_by_the_reviews_scope(auth_client, user, product, throttle_rates):
    bought(user, product)
    throttle_rates(reviews="2/hour")

    first = auth_client.post(reviews_url(product), {"rating": 5}, format="json")
    second = auth_client.post(reviews_url(product), {"rating": 4}, format="json")  # 409, still counted
    third = auth_client.post(reviews_url(product), {"rating": 3}, format="json")
    reads = [auth_client.get(reviews_url(product)).status_code for _ in range(3)]

    assert (first.status_code, second.status_code, third.status_code) == (201, 409, 429)
    assert third.json()["errors"][0]["code"] == "throttled"
    assert reads == [200, 200, 200]
    assert Review.objects.count() == 1


def test_rating_stays_exact_after_many_writes(user, django_user_model):
    from shop.services import review_create, review_delete, review_update

    product = ProductFactory()
    customers = [django_user_model.objects.create_user(email=f"c{i}@example.com", password="x" * 12) for i in range(3)]
    reviews = []
    for customer, rating in zip(customers, [5, 4, 4], strict=True):
        bought(customer, product)
        reviews.append(review_create(user=customer, product=product, rating=rating))
    assert rating_of(product) == (Decimal("4.33"), 3)

    review_update(review=reviews[0], rating=1)
    assert rating_of(product) == (Decimal("3.00"), 3)
    review_delete(review=reviews[1])
    assert rating_of(product) == (Decimal("2.50"), 2)
    assert Product.objects.get(pk=product.pk).rating_count == Review.objects.filter(product=product).count()
