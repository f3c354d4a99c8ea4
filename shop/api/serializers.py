"""Catalog serializers. Output serializers are read-only by construction; input serializers list
exactly what a role may set, so fields such as rating_average, rating_count, lowest_price or
quantity_allocated cannot be mass-assigned (unknown keys are ignored)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.media import absolute_media_url
from core.openapi import MEDIA_URL_SCHEMA, OPTIONAL_MEDIA_URL_SCHEMA
from shop.models import Category, Product, ProductImage, ProductVariant, Review, StockMovement
from shop.selectors import CategoryNode
from shop.services import RESERVED_PRODUCT_SLUGS

# --- output -------------------------------------------------------------------------------------


# Absolute and request-independent (PUBLIC_URL or the storage's own base), so cached bodies fit
# every client; the local-storage prefix is computed once, not per list item (core/media.py).
image_url = absolute_media_url


class CategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["slug", "name"]
        read_only_fields = fields


def _money(value: Decimal | None) -> str | None:
    # What DRF's DecimalField gives for a 2-place column with COERCE_DECIMAL_TO_STRING.
    return None if value is None else f"{value:.2f}"


class ProductListItemSerializer(serializers.ModelSerializer):
    """One product in a list (needs the annotations of `selectors.product_list`).

    The fields declare the schema; `to_representation` builds the dict directly, because the list
    is the hottest path of the shop and DRF's per-field machinery costs about 15 times as much."""

    price = serializers.DecimalField(
        source="lowest_price", max_digits=12, decimal_places=2, allow_null=True, help_text="Lowest variant price."
    )
    compare_at_price = serializers.DecimalField(
        source="lowest_price_compare_at", max_digits=12, decimal_places=2, allow_null=True
    )
    image = serializers.SerializerMethodField(help_text="URL of the first image, or null.")
    in_stock = serializers.BooleanField(help_text="At least one variant can be bought now.")
    category = CategoryRefSerializer()

    class Meta:
        model = Product
        fields = [
            "id",
            "slug",
            "name",
            "brand",
            "price",
            "compare_at_price",
            "currency",
            "image",
            "rating_average",
            "rating_count",
            "in_stock",
            "category",
        ]
        read_only_fields = fields

    @extend_schema_field(OPTIONAL_MEDIA_URL_SCHEMA)
    def get_image(self, product: Product) -> str | None:
        return image_url(getattr(product, "primary_image", None))

    def to_representation(self, product: Product) -> dict[str, Any]:
        category = product.category
        return {
            "id": product.pk,
            "slug": product.slug,
            "name": product.name,
            "brand": product.brand,
            "price": _money(product.lowest_price),
            "compare_at_price": _money(product.lowest_price_compare_at),
            "currency": product.currency,
            "image": image_url(getattr(product, "primary_image", None)),
            "rating_average": _money(product.rating_average),
            "rating_count": product.rating_count,
            "in_stock": bool(product.in_stock),
            "category": {"slug": category.slug, "name": category.name},
        }


class BoughtTogetherItemSerializer(ProductListItemSerializer):
    times_bought_together = serializers.IntegerField(help_text="Paid orders holding both products.")

    class Meta(ProductListItemSerializer.Meta):
        fields = [*ProductListItemSerializer.Meta.fields, "times_bought_together"]
        read_only_fields = fields

    def to_representation(self, product: Product) -> dict[str, Any]:
        return {**super().to_representation(product), "times_bought_together": product.times_bought_together}


class WishlistEntrySerializer(ProductListItemSerializer):
    added_at = serializers.DateTimeField()

    class Meta(ProductListItemSerializer.Meta):
        fields = [*ProductListItemSerializer.Meta.fields, "added_at"]
        read_only_fields = fields

    def to_representation(self, product: Product) -> dict[str, Any]:
        added_at = self.fields["added_at"].to_representation(product.added_at)
        return {**super().to_representation(product), "added_at": added_at}


class VariantSerializer(serializers.ModelSerializer):
    in_stock = serializers.BooleanField(help_text="Active and available_quantity > 0.")
    available_quantity = serializers.IntegerField(help_text="On hand minus held by open orders.")

    class Meta:
        model = ProductVariant
        fields = [
            "id",
            "sku",
            "name",
            "options",
            "price",
            "compare_at_price",
            "currency",
            "weight",
            "in_stock",
            "available_quantity",
        ]
        read_only_fields = fields


class StaffVariantSerializer(VariantSerializer):
    """What staff see after a write: the stock counters and the active flag too."""

    class Meta(VariantSerializer.Meta):
        fields = [
            *VariantSerializer.Meta.fields,
            "quantity_on_hand",
            "quantity_allocated",
            "is_active",
            "sort_order",
        ]
        read_only_fields = fields


class ProductImageSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = ["id", "url", "alt_text", "sort_order"]
        read_only_fields = fields

    @extend_schema_field(MEDIA_URL_SCHEMA)
    def get_url(self, image: ProductImage) -> str:
        return image_url(image.image.name)


class RatingSummarySerializer(serializers.Serializer):
    average = serializers.DecimalField(max_digits=3, decimal_places=2)
    count = serializers.IntegerField()
    distribution = serializers.DictField(
        child=serializers.IntegerField(), help_text='Visible reviews per star, keys "1" to "5".'
    )


class ProductDetailSerializer(serializers.ModelSerializer):
    """A product page. The view passes `ancestors` and `rating_distribution` in the context."""

    price = serializers.DecimalField(source="lowest_price", max_digits=12, decimal_places=2, allow_null=True)
    compare_at_price = serializers.DecimalField(
        source="lowest_price_compare_at", max_digits=12, decimal_places=2, allow_null=True
    )
    image = serializers.SerializerMethodField()
    in_stock = serializers.SerializerMethodField()
    category = CategoryRefSerializer()
    breadcrumbs = serializers.SerializerMethodField(help_text="Ancestors of the category, root first, then it.")
    variants = VariantSerializer(many=True)
    images = ProductImageSerializer(many=True)
    rating = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = [
            "id",
            "slug",
            "name",
            "brand",
            "description",
            "price",
            "compare_at_price",
            "currency",
            "image",
            "in_stock",
            "category",
            "breadcrumbs",
            "attributes",
            "variants",
            "images",
            "rating_average",
            "rating_count",
            "rating",
            "seo_title",
            "seo_description",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OPTIONAL_MEDIA_URL_SCHEMA)
    def get_image(self, product: Product) -> str | None:
        images = list(product.images.all())
        return image_url(images[0].image.name) if images else None

    def get_in_stock(self, product: Product) -> bool:
        return any(variant.in_stock for variant in product.variants.all())

    @extend_schema_field(CategoryRefSerializer(many=True))
    def get_breadcrumbs(self, product: Product) -> list[dict[str, str]]:
        chain = [*self.context.get("ancestors", []), product.category]
        return CategoryRefSerializer(chain, many=True).data

    @extend_schema_field(RatingSummarySerializer)
    def get_rating(self, product: Product) -> dict[str, Any]:
        return RatingSummarySerializer(
            {
                "average": product.rating_average,
                "count": product.rating_count,
                "distribution": self.context.get("rating_distribution", {}),
            }
        ).data


class CategoryTreeSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField()
    depth = serializers.IntegerField()
    sort_order = serializers.IntegerField()
    children = serializers.SerializerMethodField()

    @extend_schema_field({"type": "array", "items": {"$ref": "#/components/schemas/CategoryTree"}})
    def get_children(self, node: CategoryNode) -> list[dict[str, Any]]:
        return CategoryTreeSerializer(node.children, many=True).data

    def to_representation(self, node: CategoryNode) -> dict[str, Any]:
        category = node.category
        return {
            "slug": category.slug,
            "name": category.name,
            "description": category.description,
            "depth": category.depth,
            "sort_order": category.sort_order,
            "children": self.get_children(node),
        }


class CategoryDetailSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField()
    depth = serializers.IntegerField()
    sort_order = serializers.IntegerField()
    is_active = serializers.BooleanField()
    parent = CategoryRefSerializer(allow_null=True)
    ancestors = CategoryRefSerializer(many=True, help_text="Root first.")
    children = CategoryTreeSerializer(many=True, help_text="The subtree below this category.")


class FacetCategorySerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class PriceRangeSerializer(serializers.Serializer):
    min = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    max = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)


class ProductFacetsSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Products matching the filters.")
    in_stock = serializers.IntegerField(help_text="Of those, how many can be bought now.")
    price = PriceRangeSerializer(help_text="Range of their lowest variant prices.")
    categories = FacetCategorySerializer(many=True, help_text="Matching products per (direct) category.")


class SuggestProductSerializer(serializers.ModelSerializer):
    image = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["slug", "name", "image"]
        read_only_fields = fields

    @extend_schema_field(OPTIONAL_MEDIA_URL_SCHEMA)
    def get_image(self, product: Product) -> str | None:
        return image_url(getattr(product, "primary_image", None))


class SuggestionsSerializer(serializers.Serializer):
    products = SuggestProductSerializer(many=True)
    categories = CategoryRefSerializer(many=True)


class RelatedProductsSerializer(serializers.Serializer):
    same_category = ProductListItemSerializer(many=True)
    bought_together = BoughtTogetherItemSerializer(many=True)


FORMER_CUSTOMER = "Former customer"


class ReviewAuthorField(serializers.CharField):
    """First name and last initial, never the email; nothing of an erased account."""

    def to_representation(self, user: Any) -> str:
        if user.anonymized_at is not None:
            return FORMER_CUSTOMER
        first = (user.first_name or "").strip()
        last = (user.last_name or "").strip()
        if first:
            return f"{first} {last[0]}." if last else first
        return "Verified customer"


class ReviewSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    author = ReviewAuthorField(source="user")
    is_mine = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = ["id", "rating", "title", "body", "author", "is_mine", "is_hidden", "created_at", "updated_at"]
        read_only_fields = fields

    def get_is_mine(self, review: Review) -> bool:
        request = self.context.get("request")
        return bool(request and request.user.is_authenticated and review.user_id == request.user.pk)


# --- input --------------------------------------------------------------------------------------


class SuggestQuerySerializer(serializers.Serializer):
    q = serializers.CharField(min_length=2, max_length=100, help_text="At least 2 characters.")


class CategoryWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.SlugField(max_length=140, required=False, help_text="Derived from the name when omitted.")
    parent = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all(), allow_null=True, required=False
    )
    description = serializers.CharField(allow_blank=True, required=False)
    is_active = serializers.BooleanField(required=False)
    sort_order = serializers.IntegerField(required=False, min_value=-32768, max_value=32767)

    def validate_slug(self, slug: str) -> str:
        taken = Category.objects.filter(slug=slug)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("A category with this slug already exists.", code="unique")
        return slug


class VariantWriteSerializer(serializers.Serializer):
    sku = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", help_text="Letters, digits, dot, dash, underscore; unique."
    )
    name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    options = serializers.DictField(
        child=serializers.CharField(max_length=100), required=False, help_text='e.g. {"size": "M", "colour": "red"}'
    )
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"))
    compare_at_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), allow_null=True, required=False
    )
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, help_text="ISO 4217; the shop default if omitted.")
    weight = serializers.DecimalField(
        max_digits=8, decimal_places=3, min_value=Decimal("0"), required=False, help_text="Kilograms."
    )
    quantity_on_hand = serializers.IntegerField(min_value=0, required=False)
    is_active = serializers.BooleanField(required=False)
    sort_order = serializers.IntegerField(required=False, min_value=-32768, max_value=32767)

    def validate_currency(self, currency: str) -> str:
        return currency or settings.DEFAULT_CURRENCY


class ProductWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=220, required=False, help_text="Derived from the name when omitted.")
    description = serializers.CharField(allow_blank=True, required=False)
    category = serializers.SlugRelatedField(slug_field="slug", queryset=Category.objects.all())
    brand = serializers.CharField(max_length=120, allow_blank=True, required=False)
    attributes = serializers.DictField(required=False, help_text='Free-form facts, e.g. {"material": "cotton"}.')
    is_active = serializers.BooleanField(required=False)
    seo_title = serializers.CharField(max_length=200, allow_blank=True, required=False)
    seo_description = serializers.CharField(max_length=320, allow_blank=True, required=False)

    def validate_slug(self, slug: str) -> str:
        if slug in RESERVED_PRODUCT_SLUGS:
            raise serializers.ValidationError("This slug is reserved for an endpoint.", code="reserved")
        taken = Product.objects.filter(slug=slug)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("A product with this slug already exists.", code="unique")
        return slug


class ProductCreateSerializer(ProductWriteSerializer):
    variants = VariantWriteSerializer(many=True, help_text="At least one.")

    def validate_variants(self, variants: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not variants:
            raise serializers.ValidationError("A product needs at least one variant.", code="product_needs_variant")
        skus = [variant["sku"] for variant in variants]
        if len(set(skus)) != len(skus):
            raise serializers.ValidationError("Each variant needs its own SKU.", code="duplicate_sku")
        return variants


class StockChangeSerializer(serializers.Serializer):
    quantity_on_hand = serializers.IntegerField(min_value=0, required=False, help_text="Set the counted stock.")
    delta = serializers.IntegerField(required=False, help_text="Or add (receive) / subtract (write off) stock.")
    reason = serializers.ChoiceField(
        choices=StockMovement.Reason.choices,
        default=StockMovement.Reason.CORRECTION,
        help_text="Why the stock changes; recorded with the change.",
    )
    note = serializers.CharField(max_length=255, allow_blank=True, required=False, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("quantity_on_hand" in attrs) == ("delta" in attrs):
            raise serializers.ValidationError(
                "Send exactly one of quantity_on_hand and delta.", code="stock_change_ambiguous"
            )
        return attrs


class ProductImageUploadSerializer(serializers.Serializer):
    image = serializers.ImageField(help_text="JPEG, PNG, WebP or GIF; size limits in docs/CATALOG.md.")
    alt_text = serializers.CharField(max_length=200, allow_blank=True, required=False)
    sort_order = serializers.IntegerField(required=False, min_value=-32768, max_value=32767)


class ProductImageUpdateSerializer(serializers.Serializer):
    alt_text = serializers.CharField(max_length=200, allow_blank=True, required=False)
    sort_order = serializers.IntegerField(required=False, min_value=-32768, max_value=32767)


class ReviewWriteSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    title = serializers.CharField(max_length=200, allow_blank=True, required=False)
    body = serializers.CharField(max_length=5000, allow_blank=True, required=False)


class WishlistAddSerializer(serializers.Serializer):
    product_slug = serializers.SlugField(max_length=220)
