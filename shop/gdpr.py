"""The shop app's part in the GDPR export and erasure (registered in ShopConfig.ready()).

Reviews are kept on erasure: they describe products, other customers rely on them and the
product's rating is computed from them. They stop pointing at a person: the account's names are
cleared by the account app, and a review of an anonymised account shows its author as
"Former customer" (`shop.api.serializers.ReviewAuthorField`). The wishlist is deleted. Purchase
records (`ProductPurchase`) stay: they mirror orders, which are kept, and feed "bought together".
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from account.gdpr import export_json_safe
from account.models import User

from .models import Review, WishlistItem


def reviews_export_for_user(user: User) -> list[dict[str, Any]]:
    """Every review the user wrote, hidden ones included, newest first: one query."""
    reviews = Review.objects.filter(user=user).select_related("product").order_by("-created_at", "-id")
    return export_json_safe(
        [
            {
                "id": review.public_id,
                "product_slug": review.product.slug,
                "product_name": review.product.name,
                "rating": review.rating,
                "title": review.title,
                "body": review.body,
                "is_hidden": review.is_hidden,
                "created_at": review.created_at,
                "updated_at": review.updated_at,
            }
            for review in reviews
        ]
    )


def wishlist_export_for_user(user: User) -> list[dict[str, Any]]:
    """The wishlist, newest first, inactive products included (they are still the user's data)."""
    items = WishlistItem.objects.filter(user=user).select_related("product").order_by("-created_at", "-id")
    return export_json_safe(
        [
            {"product_slug": item.product.slug, "product_name": item.product.name, "added_at": item.created_at}
            for item in items
        ]
    )


@transaction.atomic
def shop_anonymize_for_user(user: User) -> None:
    WishlistItem.objects.filter(user=user).delete()
