"""Staff screens for the catalog. Every save and delete ends in the same services the API uses
(price summary, rating refresh, cache invalidation), so an admin edit shows on the storefront at once."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Exists, F, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from shop import services
from shop.cache import catalog_cache_invalidate
from shop.models import Category, Product, ProductImage, ProductPurchase, ProductVariant, Review, WishlistItem


class CatalogWriteAdminMixin:
    """Any change made through this screen invalidates the catalog cache."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        catalog_cache_invalidate()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        catalog_cache_invalidate()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        catalog_cache_invalidate()


@admin.register(Category)
class CategoryAdmin(CatalogWriteAdminMixin, admin.ModelAdmin):
    list_display = ["indented_name", "slug", "is_active", "sort_order", "depth"]
    list_filter = ["is_active", "depth"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ["parent"]
    ordering = ["path"]
    readonly_fields = ["path", "depth"]

    @admin.display(description="name", ordering="path")
    def indented_name(self, category: Category) -> str:
        return format_html('<span style="padding-left:{}em">{}</span>', category.depth * 1.5, category.name)


class ProductVariantInline(admin.TabularInline):
    model = ProductVariant
    extra = 0
    min_num = 1
    fields = [
        "sku",
        "name",
        "options",
        "price",
        "compare_at_price",
        "currency",
        "weight",
        "quantity_on_hand",
        "quantity_allocated",
        "is_active",
        "sort_order",
    ]
    # Held stock moves only with orders (shop.stock), never by hand.
    readonly_fields = ["quantity_allocated"]


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    fields = ["image", "alt_text", "sort_order"]


class StockFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("in", "In stock"), ("out", "Out of stock")]

    def queryset(self, request, queryset):
        sellable = ProductVariant.objects.filter(
            product=OuterRef("pk"), is_active=True, quantity_on_hand__gt=F("quantity_allocated")
        )
        if self.value() == "in":
            return queryset.filter(Exists(sellable))
        if self.value() == "out":
            return queryset.exclude(Exists(sellable))
        return queryset


@admin.register(Product)
class ProductAdmin(CatalogWriteAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "category", "brand", "lowest_price", "currency", "rating_average", "is_active"]
    list_filter = ["is_active", StockFilter, "category"]
    list_select_related = ["category"]
    search_fields = ["name", "slug", "brand", "variants__sku"]
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ["category"]
    readonly_fields = ["rating_average", "rating_count", "lowest_price", "lowest_price_compare_at", "currency"]
    inlines = [ProductVariantInline, ProductImageInline]
    show_full_result_count = False

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Variants were just written by the inline: refresh the denormalized price, then the cache.
        services.product_price_summary_refresh(product_ids=[form.instance.pk])
        catalog_cache_invalidate()


@admin.register(ProductVariant)
class ProductVariantAdmin(CatalogWriteAdminMixin, admin.ModelAdmin):
    list_display = ["sku", "product", "price", "currency", "quantity_on_hand", "quantity_allocated", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["product"]
    search_fields = ["sku", "product__name"]
    autocomplete_fields = ["product"]
    readonly_fields = ["quantity_allocated"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.product_price_summary_refresh(product_ids=[obj.product_id])


@admin.action(description="Hide selected reviews")
def hide_reviews(modeladmin, request: HttpRequest, queryset: QuerySet[Review]) -> None:
    for review in queryset.order_by("pk"):
        services.review_set_hidden(review=review, hidden=True)
    modeladmin.message_user(request, f"{queryset.count()} review(s) hidden.", messages.SUCCESS)


@admin.action(description="Show selected reviews again")
def unhide_reviews(modeladmin, request: HttpRequest, queryset: QuerySet[Review]) -> None:
    for review in queryset.order_by("pk"):
        services.review_set_hidden(review=review, hidden=False)
    modeladmin.message_user(request, f"{queryset.count()} review(s) visible again.", messages.SUCCESS)


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["product", "user", "rating", "title", "is_hidden", "created_at"]
    list_filter = ["is_hidden", "rating"]
    list_select_related = ["product", "user"]
    search_fields = ["product__name", "user__email", "title", "body"]
    actions = [hide_reviews, unhide_reviews]
    # Content belongs to its author and visibility changes through the actions (which refresh ratings).
    readonly_fields = ["public_id", "product", "user", "rating", "title", "body", "is_hidden", "hidden_at"]

    def has_add_permission(self, request):
        return False

    def delete_model(self, request, obj):
        services.review_delete(review=obj)

    def delete_queryset(self, request, queryset):
        for review in queryset.order_by("pk"):
            services.review_delete(review=review)


@admin.register(ProductPurchase)
class ProductPurchaseAdmin(admin.ModelAdmin):
    list_display = ["product", "user", "order_id", "purchased_at"]
    list_select_related = ["product", "user"]
    search_fields = ["order_id", "product__name", "user__email"]
    readonly_fields = ["product", "user", "order_id", "purchased_at"]

    def has_add_permission(self, request):
        return False


@admin.register(WishlistItem)
class WishlistItemAdmin(admin.ModelAdmin):
    list_display = ["user", "product", "created_at"]
    list_select_related = ["product", "user"]
    search_fields = ["user__email", "product__name"]
    readonly_fields = ["user", "product", "created_at"]

    def has_add_permission(self, request):
        return False
