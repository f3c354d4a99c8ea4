from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cart.selectors import CartItemView, cart_line_is_available
from core.media import absolute_media_url
from core.openapi import OPTIONAL_MEDIA_URL_SCHEMA

# --- input ---------------------------------------------------------------------------------------


BIGINT_MAX = 2**63 - 1


class CartItemAddInputSerializer(serializers.Serializer):
    variant_id = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
    quantity = serializers.IntegerField(min_value=1, default=1)


class CartItemUpdateInputSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1)


class CartCouponInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40, trim_whitespace=True)


class CartUpdateInputSerializer(serializers.Serializer):
    """Where and how the cart ships. Omitted fields keep their value; null clears them."""

    country = serializers.CharField(
        max_length=2, required=False, allow_null=True, allow_blank=True, help_text="ISO 3166-1 alpha-2, e.g. DE."
    )
    region = serializers.CharField(
        max_length=10, required=False, allow_null=True, allow_blank=True, help_text='Subdivision, e.g. "CA".'
    )
    shipping_method_id = serializers.UUIDField(required=False, allow_null=True)


# --- output --------------------------------------------------------------------------------------


class CartVariantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    options = serializers.JSONField()


class CartProductSerializer(serializers.Serializer):
    slug = serializers.CharField(source="variant.product.slug")
    name = serializers.CharField(source="variant.product.name")
    image = serializers.SerializerMethodField(help_text="URL of the product's first image, or null.")

    @extend_schema_field(OPTIONAL_MEDIA_URL_SCHEMA)
    def get_image(self, line) -> str | None:
        return absolute_media_url(getattr(line, "product_image", None))


class CartItemSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="line.id")
    variant = CartVariantSerializer(source="line.variant")
    product = CartProductSerializer(source="line")
    quantity = serializers.IntegerField(source="line.quantity")
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, source="price.unit_price")
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2, source="price.line_total")
    discount = serializers.DecimalField(
        max_digits=12, decimal_places=2, source="price.discount", help_text="This line's share of the coupon."
    )
    previous_unit_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        source="line.unit_price_when_set",
        help_text="The unit price when the line was last added or changed.",
    )
    available_quantity = serializers.IntegerField(source="line.variant.available_quantity")
    is_available = serializers.SerializerMethodField(help_text="False when the product is no longer for sale.")
    price_changed = serializers.SerializerMethodField(help_text="The price moved since the line was last set.")
    insufficient_stock = serializers.SerializerMethodField(help_text="The stock no longer covers the quantity.")

    def get_is_available(self, item: CartItemView) -> bool:
        return cart_line_is_available(item.line)

    def get_price_changed(self, item: CartItemView) -> bool:
        return item.line.unit_price_when_set != item.line.variant.price

    def get_insufficient_stock(self, item: CartItemView) -> bool:
        return item.line.quantity > item.line.variant.available_quantity


class CartShippingMethodSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    min_delivery_days = serializers.IntegerField()
    max_delivery_days = serializers.IntegerField()


def _money(source: str, help_text: str = "") -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, source=source, help_text=help_text)


class CartSerializer(serializers.Serializer):
    id = serializers.UUIDField(
        allow_null=True, help_text="The cart token (send it as X-Cart-Token); null before any write."
    )
    currency = serializers.CharField(source="pricing.currency")
    items = CartItemSerializer(many=True)
    item_count = serializers.IntegerField(source="pricing.item_count")
    subtotal = _money("pricing.subtotal")
    discount_total = _money("pricing.discount_total")
    shipping_total = _money("pricing.shipping_total")
    tax_total = _money("pricing.tax_total")
    total = _money("pricing.total")
    tax_rate = serializers.DecimalField(
        max_digits=7, decimal_places=4, help_text="Percent at the chosen destination (0 without one)."
    )
    weight = serializers.DecimalField(max_digits=12, decimal_places=3, source="pricing.weight", help_text="Kilograms.")
    coupon_code = serializers.CharField(source="pricing.coupon_code", allow_null=True)
    coupon_issue = serializers.CharField(
        source="pricing.coupon_issue",
        allow_null=True,
        help_text="Why the coupon gives nothing right now (a coupon error code, e.g. coupon_minimum_not_met).",
    )
    shipping_country = serializers.CharField(allow_null=True)
    shipping_region = serializers.CharField(allow_null=True)
    shipping_method = CartShippingMethodSerializer(allow_null=True)
    shipping_issue = serializers.CharField(
        source="pricing.shipping_issue",
        allow_null=True,
        help_text="shipping_method_unavailable when the chosen method cannot ship this cart now.",
    )
    updated_at = serializers.DateTimeField(allow_null=True)


class ShippingOptionSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="method.id")
    name = serializers.CharField(source="method.name")
    description = serializers.CharField(source="method.description")
    zone = serializers.CharField(source="method.zone.name")
    rate_type = serializers.CharField(source="method.rate_type")
    price = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="For the current cart.")
    currency = serializers.CharField()
    free_over = serializers.DecimalField(max_digits=12, decimal_places=2, source="method.free_over", allow_null=True)
    min_delivery_days = serializers.IntegerField(source="method.min_delivery_days")
    max_delivery_days = serializers.IntegerField(source="method.max_delivery_days")
