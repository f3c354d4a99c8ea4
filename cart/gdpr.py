"""The cart app's part in the GDPR export and erasure (registered in CartConfig.ready()).

The export shows the customer's cart as stored (lines with the price seen when each was set); the
erasure deletes the cart and its lines, as nothing in it is needed once the account is closed.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from account.gdpr import export_json_safe
from account.models import User

from .models import Cart, CartLine


def cart_export_for_user(user: User) -> dict[str, Any] | None:
    """The user's cart (None without one): two queries whatever its size."""
    cart = Cart.objects.filter(user=user).select_related("coupon", "shipping_method").first()
    if cart is None:
        return None
    lines = CartLine.objects.filter(cart=cart).select_related("variant__product").order_by("created_at", "id")
    return export_json_safe(
        {
            "id": cart.pk,
            "currency": cart.currency,
            "coupon_code": cart.coupon.code if cart.coupon else None,
            "shipping_country": cart.shipping_country or None,
            "shipping_region": cart.shipping_region or None,
            "shipping_method": cart.shipping_method.name if cart.shipping_method else None,
            "created_at": cart.created_at,
            "updated_at": cart.updated_at,
            "items": [
                {
                    "product_name": line.variant.product.name,
                    "variant_name": line.variant.name,
                    "sku": line.variant.sku,
                    "quantity": line.quantity,
                    "unit_price_when_set": line.unit_price_when_set,
                    "added_at": line.created_at,
                }
                for line in lines
            ],
        }
    )


@transaction.atomic
def cart_anonymize_for_user(user: User) -> None:
    Cart.objects.filter(user=user).delete()
