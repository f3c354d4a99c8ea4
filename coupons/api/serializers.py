from rest_framework import serializers

from coupons.models import Coupon, normalize_code
from shop.models import Category, Product


class CouponSerializer(serializers.ModelSerializer):
    """Staff only: customers never see coupon lists or codes other than the one they typed."""

    products = serializers.SlugRelatedField(
        many=True, required=False, slug_field="slug", queryset=Product.objects.all(), help_text="Product slugs."
    )
    categories = serializers.SlugRelatedField(
        many=True,
        required=False,
        slug_field="slug",
        queryset=Category.objects.all(),
        help_text="Category slugs; their sub-categories are included.",
    )

    class Meta:
        model = Coupon
        fields = [
            "id",
            "code",
            "description",
            "kind",
            "value",
            "currency",
            "minimum_subtotal",
            "starts_at",
            "ends_at",
            "is_active",
            "usage_limit",
            "usage_limit_per_customer",
            "times_used",
            "products",
            "categories",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "times_used", "created_at", "updated_at"]

    def validate_code(self, value: str) -> str:
        code = normalize_code(value)
        if not code:
            raise serializers.ValidationError("A code is required.", code="blank")
        taken = Coupon.objects.filter(code=code)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("A coupon with this code already exists.", code="unique")
        return code
