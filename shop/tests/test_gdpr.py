"""GDPR: reviews and wishlist in the account export; erasure keeps reviews without a name and drops the wishlist."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from waffle.testutils import override_flag

from shop.gdpr import shop_anonymize_for_user
from shop.models import Review, WishlistItem
from shop.tests.factories import ProductFactory, ReviewFactory, WishlistItemFactory

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/account/export/"
ME = "/api/v1/account/me/"
WRITTEN_AT = datetime(2030, 3, 4, 5, 6, 7, tzinfo=UTC)
EDITED_AT = datetime(2030, 3, 5, 8, 0, tzinfo=UTC)
ADDED_AT = datetime(2030, 2, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def reviews_on():
    with override_flag("reviews", active=True):
        yield


def _pin(review: Review) -> None:
    Review.objects.filter(pk=review.pk).update(created_at=WRITTEN_AT, updated_at=EDITED_AT)


def test_export_has_the_users_reviews_hidden_ones_too_and_the_wishlist(auth_client, user, other_user):
    hoodie = ProductFactory(slug="hoodie", name="Hoodie")
    boots = ProductFactory(slug="boots", name="Boots")
    visible = ReviewFactory(user=user, product=hoodie, rating=4, title="Warm", body="Cosy all winter.")
    hidden = ReviewFactory(user=user, product=boots, rating=1, title="Bad", body="Leaks.", is_hidden=True)
    _pin(visible)
    Review.objects.filter(pk=hidden.pk).update(created_at=EDITED_AT, updated_at=EDITED_AT)
    ReviewFactory(user=other_user, product=hoodie)
    item = WishlistItemFactory(user=user, product=boots)
    WishlistItem.objects.filter(pk=item.pk).update(created_at=ADDED_AT)
    WishlistItemFactory(user=other_user, product=hoodie)

    body = auth_client.get(EXPORT).json()

    assert body["reviews"] == [
        {
            "id": str(hidden.public_id),
            "product_slug": "boots",
            "product_name": "Boots",
            "rating": 1,
            "title": "Bad",
            "body": "Leaks.",
            "is_hidden": True,
            "created_at": "2030-03-05T08:00:00Z",
            "updated_at": "2030-03-05T08:00:00Z",
        },
        {
            "id": str(visible.public_id),
            "product_slug": "hoodie",
            "product_name": "Hoodie",
            "rating": 4,
            "title": "Warm",
            "body": "Cosy all winter.",
            "is_hidden": False,
            "created_at": "2030-03-04T05:06:07Z",
            "updated_at": "2030-03-05T08:00:00Z",
        },
    ]
    assert body["wishlist"] == [{"product_slug": "boots", "product_name": "Boots", "added_at": "2030-02-01T12:00:00Z"}]


def test_export_query_count_does_not_grow_with_reviews_and_wishlist(auth_client, user):
    def export_queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert auth_client.get(EXPORT).status_code == 200
        return len(context.captured_queries)

    ReviewFactory(user=user)
    WishlistItemFactory(user=user)
    with_one = export_queries()
    ReviewFactory.create_batch(3, user=user)
    WishlistItemFactory.create_batch(3, user=user)
    with_four = export_queries()

    body = auth_client.get(EXPORT).json()
    assert (len(body["reviews"]), len(body["wishlist"])) == (4, 4)
    assert with_four == with_one


def test_deleting_the_account_keeps_reviews_anonymous_and_drops_the_wishlist(auth_client, api_client, user, other_user):
    user.last_name = "Buyer"
    user.save(update_fields=["last_name"])
    other_user.first_name, other_user.last_name = "Dana", "Smith"
    other_user.save(update_fields=["first_name", "last_name"])
    hoodie = ProductFactory(slug="hoodie", name="Hoodie")
    mine = ReviewFactory(user=user, product=hoodie, rating=2, title="Thin", body="Too thin.")
    ReviewFactory(user=other_user, product=hoodie, rating=4, title="Nice", body="Fits well.")
    WishlistItemFactory(user=user, product=hoodie)
    theirs = WishlistItemFactory(user=other_user, product=hoodie)
    reviews_url = f"/api/v1/products/{hoodie.slug}/reviews/"
    before = {item["id"]: item["author"] for item in api_client.get(reviews_url).json()["results"]}
    assert before[str(mine.public_id)] == "Cam B."

    response = auth_client.delete(ME, {"password": "correct-horse-battery"})

    assert response.status_code == 204
    listing = api_client.get(reviews_url).json()["results"]
    assert [(item["author"], item["rating"], item["title"], item["body"]) for item in listing] == [
        ("Dana S.", 4, "Nice", "Fits well."),
        ("Former customer", 2, "Thin", "Too thin."),
    ]
    hoodie.refresh_from_db()
    assert (hoodie.rating_average, hoodie.rating_count) == (Decimal("3.00"), 2)  # the rating still counts it
    assert list(WishlistItem.objects.all()) == [theirs]


def test_a_refused_deletion_keeps_the_wishlist(auth_client, user):
    WishlistItemFactory(user=user)

    assert auth_client.delete(ME, {"password": "wrong"}).status_code == 400

    assert WishlistItem.objects.filter(user=user).count() == 1


def test_the_shop_anonymizer_can_run_twice(user):
    WishlistItemFactory(user=user)

    shop_anonymize_for_user(user)
    shop_anonymize_for_user(user)

    assert WishlistItem.objects.count() == 0
