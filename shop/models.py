"""Catalog: a category tree, products with variants and images, reviews, wishlists and the purchase
facts that review eligibility and "bought together" read (written by orders through a service)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Substr

from core.models import TimeStampedModel

PATH_SEPARATOR = "/"


def _default_currency() -> str:
    return settings.DEFAULT_CURRENCY


class Category(models.Model):
    """A node of the category tree.

    `path` is the materialized chain of ancestor ids ("/3/17/42/"), so a whole subtree is one
    indexed `path__startswith` query whatever its depth; `depth` is 0 for roots. Both are derived
    from `parent` on every save, and a move rewrites the subtree's paths in one UPDATE.
    """

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    sort_order = models.IntegerField(default=0)
    path = models.CharField(max_length=1000, editable=False, db_index=True, default="")
    depth = models.PositiveSmallIntegerField(editable=False, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(condition=~Q(parent=F("id")), name="shop_category_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # The path needs our own id, so a new row is inserted first and its path written after.
        previous_path = self.path
        if self.pk is None:
            super().save(*args, **kwargs)
            kwargs.pop("force_insert", None)
            kwargs["force_update"] = True
        parent_path = self.parent.path if self.parent_id else PATH_SEPARATOR
        self.path = f"{parent_path}{self.pk}{PATH_SEPARATOR}"
        self.depth = self.path.count(PATH_SEPARATOR) - 2
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "path", "depth"}
        super().save(*args, **kwargs)
        if previous_path and previous_path != self.path:
            depth_change = self.depth - (previous_path.count(PATH_SEPARATOR) - 2)
            Category.objects.filter(path__startswith=previous_path).exclude(pk=self.pk).update(
                path=Concat(Value(self.path), Substr("path", len(previous_path) + 1)),
                depth=F("depth") + depth_change,
            )

    def clean(self) -> None:
        super().clean()
        if self.parent_id and self.pk:
            parent = self.parent
            if parent.pk == self.pk or (self.path and parent.path.startswith(self.path)):
                raise ValidationError({"parent": "A category cannot be moved under itself or its descendants."})

    def subtree_filter(self, prefix: str = "") -> Q:
        """Q matching this category and all its descendants, e.g. `subtree_filter("category__")`."""
        return Q(**{f"{prefix}path__startswith": self.path})


class Product(TimeStampedModel):
    id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    brand = models.CharField(max_length=120, blank=True, db_index=True)
    attributes = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    seo_title = models.CharField(max_length=200, blank=True)
    seo_description = models.CharField(max_length=320, blank=True)
    rating_average = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("0"))
    rating_count = models.PositiveIntegerField(default=0)
    # Denormalized from the active variants by shop.services (product_price_summary_refresh) so lists
    # can filter and sort by price without aggregating variants per request.
    lowest_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, editable=False)
    lowest_price_compare_at = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, editable=False
    )
    currency = models.CharField(max_length=3, default=_default_currency, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["is_active", "category"], name="shop_product_active_cat_idx"),
            # An index per list ordering of shop.filters.ORDERINGS, tie-breaker included, so a page is
            # an index scan with a LIMIT, not a sort of the catalog (-created_at: TimeStampedModel's).
            models.Index(fields=["lowest_price", "-id"], name="shop_product_price_idx"),
            # `-price` (lowest_price DESC NULLS LAST, id DESC) has its index too, made by migration
            # 0005 on PostgreSQL only: SQLite refuses NULLS LAST in CREATE INDEX.
            models.Index(fields=["-rating_average", "-rating_count", "-id"], name="shop_product_rating_idx"),
            models.Index(fields=["name", "id"], name="shop_product_name_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating_average__gte=0) & Q(rating_average__lte=5), name="shop_product_rating_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProductVariant(models.Model):
    id = models.BigAutoField(primary_key=True)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True)
    options = models.JSONField(default=dict, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    compare_at_price = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(max_length=3, default=_default_currency)
    weight = models.DecimalField(
        max_digits=8,
        decimal_places=3,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Kilograms.",
    )
    quantity_on_hand = models.IntegerField(default=0, validators=[MinValueValidator(0)])
    quantity_allocated = models.IntegerField(default=0, validators=[MinValueValidator(0)])
    is_active = models.BooleanField(default=True)
    sort_order = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="shop_variant_price_non_negative"),
            models.CheckConstraint(
                condition=Q(compare_at_price__isnull=True) | Q(compare_at_price__gte=0),
                name="shop_variant_compare_at_non_negative",
            ),
            models.CheckConstraint(condition=Q(quantity_on_hand__gte=0), name="shop_variant_on_hand_non_negative"),
            models.CheckConstraint(condition=Q(quantity_allocated__gte=0), name="shop_variant_allocated_non_negative"),
            models.CheckConstraint(
                condition=Q(quantity_allocated__lte=F("quantity_on_hand")),
                name="shop_variant_allocated_within_on_hand",
            ),
            models.CheckConstraint(condition=Q(weight__gte=0), name="shop_variant_weight_non_negative"),
        ]
        indexes = [models.Index(fields=["product", "is_active"], name="shop_variant_prod_active_idx")]

    def __str__(self) -> str:
        return f"{self.sku} ({self.name})" if self.name else self.sku

    def save(self, *args, **kwargs) -> None:
        # quantity_allocated only ever moves through guarded F() updates (shop.stock);
        # a plain save of an instance read earlier must not write back a stale allocation.
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name != "quantity_allocated"
            ]
        super().save(*args, **kwargs)

    @property
    def available_quantity(self) -> int:
        return max(self.quantity_on_hand - self.quantity_allocated, 0)

    @property
    def in_stock(self) -> bool:
        return self.is_active and self.available_quantity > 0


class StockMovement(models.Model):
    """One staff change of stock on hand (`shop.services.stock_set` / `stock_adjust`), written under
    the variant's row lock, so `quantity_on_hand_after` is exactly what that change left. The SKU
    is copied so the history outlives a deleted variant. Order holds and shipments are not here:
    their trail is the order's events."""

    class Reason(models.TextChoices):
        RECEIVED = "received", "Received"
        RECOUNT = "recount", "Recount"
        DAMAGED = "damaged", "Damaged or lost"
        RETURNED = "returned", "Returned to stock"
        CORRECTION = "correction", "Correction"

    variant = models.ForeignKey(
        ProductVariant, null=True, blank=True, on_delete=models.SET_NULL, related_name="stock_movements"
    )
    sku = models.CharField(max_length=64)
    delta = models.IntegerField()
    quantity_on_hand_after = models.IntegerField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    note = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["variant", "-created_at"], name="shop_stockmove_variant_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_on_hand_after__gte=0), name="shop_stockmove_after_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.delta:+d} ({self.reason})"


def product_image_upload_to(instance: ProductImage, filename: str) -> str:
    return f"products/{instance.product_id}/{filename}"


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to=product_image_upload_to, max_length=255)
    alt_text = models.CharField(max_length=200, blank=True)
    sort_order = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sort_order", "id"]
        indexes = [models.Index(fields=["product", "sort_order"], name="shop_image_prod_order_idx")]

    def __str__(self) -> str:
        return self.alt_text or self.image.name


class Review(TimeStampedModel):
    # The API addresses reviews by this UUID, never by the sequential primary key.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reviews")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="product_reviews")
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    is_hidden = models.BooleanField(default=False, db_index=True)
    hidden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "user"], name="shop_review_one_per_user_product"),
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="shop_review_rating_1_to_5"),
        ]
        indexes = [models.Index(fields=["product", "is_hidden", "-created_at"], name="shop_review_visible_idx")]

    def __str__(self) -> str:
        return f"{self.rating}/5 on {self.product_id} by {self.user_id}"


class WishlistItem(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wishlist_items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="wishlisted_by")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "product"], name="shop_wishlist_unique_user_product")]

    def __str__(self) -> str:
        return f"{self.user_id} -> {self.product_id}"


class ProductPurchase(models.Model):
    """A product in a paid order. Written by the orders app through
    `shop.services.product_purchases_record`, so shop never imports orders; review eligibility and
    "bought together" read it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="product_purchases")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="purchases")
    order_id = models.UUIDField(db_index=True)
    purchased_at = models.DateTimeField()

    class Meta:
        ordering = ["-purchased_at"]
        constraints = [
            models.UniqueConstraint(fields=["order_id", "product"], name="shop_purchase_unique_order_product"),
        ]
        indexes = [models.Index(fields=["product", "user"], name="shop_purchase_prod_user_idx")]

    def __str__(self) -> str:
        return f"{self.product_id} in order {self.order_id}"
