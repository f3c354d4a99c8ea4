from decimal import Decimal

from rest_framework import serializers

from core.countries import validate_country_code

from ..models import Order, OrderEvent, OrderLine


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = [
            "id",
            "product_id",
            "variant_id",
            "product_name",
            "product_slug",
            "image",
            "variant_name",
            "sku",
            "unit_price",
            "quantity",
            "line_total",
            "discount",
            "tax",
        ]
        read_only_fields = fields


class AddressSnapshotSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    line1 = serializers.CharField(max_length=255)
    line2 = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=120)
    region = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    country = serializers.CharField(max_length=2, help_text="ISO 3166-1 alpha-2, e.g. US.")
    phone = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")

    def validate_country(self, value: str) -> str:
        value = value.upper()
        validate_country_code(value)
        return value


class ShippingMethodSnapshotSerializer(serializers.Serializer):
    id = serializers.UUIDField(allow_null=True)
    name = serializers.CharField()
    description = serializers.CharField()
    min_delivery_days = serializers.IntegerField()
    max_delivery_days = serializers.IntegerField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    shipping_address = AddressSnapshotSerializer(read_only=True)
    billing_address = AddressSnapshotSerializer(read_only=True)
    shipping_method = ShippingMethodSnapshotSerializer(source="shipping_method_snapshot", read_only=True)
    refund_pending = serializers.BooleanField(
        read_only=True,
        help_text="A refund is sent to the payment provider and not yet confirmed; the order cannot ship.",
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "status",
            "lines",
            "subtotal",
            "discount_total",
            "shipping_total",
            "tax_total",
            "total",
            "currency",
            "amount_paid",
            "amount_refunded",
            "amount_refund_pending",
            "refund_pending",
            "dispute_status",
            "coupon_code",
            "shipping_address",
            "billing_address",
            "shipping_method",
            "carrier",
            "tracking_number",
            "tracking_url",
            "cancellation_reason",
            "created_at",
            "payment_due_by",
            "paid_at",
            "shipped_at",
            "delivered_at",
            "cancelled_at",
            "refunded_at",
        ]
        read_only_fields = fields


class GuestOrderSerializer(OrderSerializer):
    """The answer to a guest checkout: the order and, this once, its secret."""

    order_token = serializers.CharField(
        read_only=True,
        help_text=(
            "The secret that opens this order: `GET orders/<id>/?order_token=`, its events, and "
            "`POST payments/` with `{order_id, order_token}`. Shown only in this answer (a replay of the "
            "request leaves it out) and in the confirmation email's link; only its hash is stored."
        ),
    )

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "order_token"]
        read_only_fields = fields


class OrderEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ["id", "kind", "from_status", "to_status", "actor_role", "note", "amount", "created_at"]
        read_only_fields = fields


class _CheckoutInputSerializer(serializers.Serializer):
    """What every checkout names, logged in or as a guest."""

    shipping_method_id = serializers.UUIDField()
    expected_total = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        help_text="The total the customer saw; a different server total is refused with 409 total_mismatch.",
    )


class OrderPlaceInputSerializer(_CheckoutInputSerializer):
    shipping_address_id = serializers.UUIDField(required=False, help_text="An address of your address book.")
    shipping_address = AddressSnapshotSerializer(required=False, help_text="Or an address typed at checkout.")
    billing_address_id = serializers.UUIDField(required=False, help_text="Defaults to the shipping address.")

    def validate(self, attrs: dict) -> dict:
        given = [name for name in ("shipping_address_id", "shipping_address") if name in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"shipping_address_id": "Give exactly one of shipping_address_id or shipping_address."},
                code="shipping_address_required",
            )
        return attrs


class GuestOrderPlaceInputSerializer(_CheckoutInputSerializer):
    # 254: the order's email columns (and RFC 5321's path limit); DRF alone would pass 320.
    email = serializers.EmailField(max_length=254, help_text="Where the confirmation (with the order's link) is sent.")
    shipping_address = AddressSnapshotSerializer(help_text="The address typed at checkout; billing is the same.")

    def validate(self, attrs: dict) -> dict:
        for name in ("shipping_address_id", "billing_address_id"):
            if name in self.initial_data:
                raise serializers.ValidationError(
                    {name: "A guest has no address book: give the address inline as shipping_address."},
                    code="address_book_requires_login",
                )
        return attrs


class OrderCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class OrderShipInputSerializer(serializers.Serializer):
    carrier = serializers.CharField(max_length=100)
    tracking_number = serializers.CharField(max_length=100)
    tracking_url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")


class OrderRefundInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Omit for everything paid and not yet refunded.",
    )
    reason = serializers.CharField(max_length=255)
