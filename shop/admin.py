"""Staff screens for the catalog. Every save and delete ends in the same services the API uses
(price summary, rating refresh, cache invalidation), so an admin edit shows on the storefront at once."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from core.errors import DomainError
from shop import services
from shop.cache import catalog_cache_invalidate
from shop.models import (
    Category,
    Product,
    ProductImage,
    ProductPurchase,
    ProductVariant,
    Review,
    StockMovement,
    WishlistItem,
)


class AdminRefusal(Exception):
    """A service refused one object of a save that touches several (inline rows, bulk delete)."""


def _refusal_message(error: Exception) -> str:
    return str(error.detail) if isinstance(error, DomainError) else str(error)


class CatalogWriteAdminMixin:
    """Any change made through this screen invalidates the catalog cache. A service refusal
    (`DomainError`) rolls the whole save or delete back and is shown as an error message, the way
    the API answers 409, instead of a server error."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (DomainError, AdminRefusal) as error:  # the admin's atomic block has rolled back
            self.message_user(request, _refusal_message(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except (DomainError, AdminRefusal) as error:
            self.message_user(request, _refusal_message(error), messages.ERROR)
            change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[object_id])
            return HttpResponseRedirect(change_url)

    def changelist_view(self, request, extra_context=None):
        if request.method != "POST":
            return super().changelist_view(request, extra_context)
        try:
            # Bulk actions are not atomic in Django (delete_selected logs before deleting): make them so.
            with transaction.atomic():
                return super().changelist_view(request, extra_context)
        except (DomainError, AdminRefusal) as error:
            self.message_user(request, _refusal_message(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

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


class VariantStockForm(forms.ModelForm):
    """A variant form whose stock on hand is never a model field: the count shown when the page was
    loaded would be written back over every move made since. Staff set or adjust it instead, with a
    reason, through the stock services (locked, guarded, recorded as a StockMovement)."""

    stock_set_to = forms.IntegerField(label="Set on hand to", min_value=0, required=False)
    stock_adjust_by = forms.IntegerField(label="Adjust on hand by", required=False, help_text="+ received, - removed")
    stock_reason = forms.ChoiceField(
        label="Stock reason", choices=[("", "---------"), *StockMovement.Reason.choices], required=False
    )
    stock_note = forms.CharField(label="Stock note", max_length=255, required=False)

    class Meta:
        model = ProductVariant
        fields = ["product", *sorted(services.VARIANT_FIELDS)]  # never quantity_on_hand / quantity_allocated

    def clean(self):
        cleaned = super().clean()
        set_to, adjust_by = cleaned.get("stock_set_to"), cleaned.get("stock_adjust_by")
        if set_to is not None and adjust_by is not None:
            self.add_error("stock_adjust_by", "Set the count or adjust it, not both.")
        if (set_to is not None or adjust_by is not None) and not cleaned.get("stock_reason"):
            self.add_error("stock_reason", "Say why the stock changes.")
        return cleaned


STOCK_FORM_FIELDS = ["stock_set_to", "stock_adjust_by", "stock_reason", "stock_note"]


def _stock_change_apply(*, form: VariantStockForm, variant: ProductVariant, actor) -> None:
    data = form.cleaned_data
    recorded = {"reason": data.get("stock_reason"), "note": data.get("stock_note") or "", "actor": actor}
    if data.get("stock_set_to") is not None:
        services.stock_set(variant=variant, quantity_on_hand=data["stock_set_to"], **recorded)
    elif data.get("stock_adjust_by") is not None:
        services.stock_adjust(variant=variant, delta=data["stock_adjust_by"], **recorded)


def _variant_changes(variant: ProductVariant, changed: list[str]) -> dict:
    return {name: getattr(variant, name) for name in changed if name in services.VARIANT_FIELDS}


class ProductVariantInline(admin.TabularInline):
    model = ProductVariant
    form = VariantStockForm
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
        *STOCK_FORM_FIELDS,
        "is_active",
        "sort_order",
    ]
    # Stock moves only through the stock services (shop.stock for orders, the fields above for staff).
    readonly_fields = ["quantity_on_hand", "quantity_allocated"]


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

    def save_formset(self, request, form, formset, change):
        if formset.model is not ProductVariant:
            return super().save_formset(request, form, formset, change)
        # commit=False only sorts the rows into new / changed / deleted (the change message reads
        # those lists); every write goes through the variant and stock services, the API's rules.
        formset.save(commit=False)
        new = {id(variant) for variant in formset.new_objects}
        changed = {id(variant): names for variant, names in formset.changed_objects}
        stock_changes = []
        for variant_form in formset.forms:
            variant = variant_form.instance
            try:
                if id(variant) in new:
                    saved = services.variant_create(
                        product=formset.instance, **_variant_changes(variant, list(services.VARIANT_FIELDS))
                    )
                elif id(variant) in changed:
                    saved = services.variant_update(
                        variant=variant, actor=request.user, **_variant_changes(variant, changed[id(variant)])
                    )
                else:
                    continue
                stock_changes.append((variant_form, saved))
            except DomainError as error:
                raise AdminRefusal(f"{variant.sku}: {_refusal_message(error)}") from error
        # Deleted last, so a variant added in the same save counts as the product's other variant.
        for variant in formset.deleted_objects:
            try:
                services.variant_delete(variant=variant)
            except DomainError as error:
                raise AdminRefusal(f"{variant.sku}: {_refusal_message(error)}") from error
        for variant_form, variant in stock_changes:
            try:
                _stock_change_apply(form=variant_form, variant=variant, actor=request.user)
            except DomainError as error:
                raise AdminRefusal(f"{variant.sku}: {_refusal_message(error)}") from error


@admin.register(ProductVariant)
class ProductVariantAdmin(CatalogWriteAdminMixin, admin.ModelAdmin):
    form = VariantStockForm
    list_display = ["sku", "product", "price", "currency", "quantity_on_hand", "quantity_allocated", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["product"]
    search_fields = ["sku", "product__name"]
    autocomplete_fields = ["product"]
    readonly_fields = ["quantity_on_hand", "quantity_allocated"]

    def get_readonly_fields(self, request, obj=None):
        # The API cannot move a variant to another product either.
        return [*self.readonly_fields, "product"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            services.variant_update(variant=obj, actor=request.user, **_variant_changes(obj, form.changed_data))
        else:
            # A new row has no count to go stale; it starts at 0 and gets its stock below.
            obj.save()
            services.product_price_summary_refresh(product_ids=[obj.product_id])
        _stock_change_apply(form=form, variant=obj, actor=request.user)
        catalog_cache_invalidate()

    def delete_model(self, request, obj):
        services.variant_delete(variant=obj)

    def delete_queryset(self, request, queryset):
        for variant in queryset.order_by("pk"):
            try:
                services.variant_delete(variant=variant)
            except DomainError as error:  # changelist_view rolls back the ones already deleted
                raise AdminRefusal(f"{variant.sku}: {_refusal_message(error)} Nothing was deleted.") from error


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    """The stock history: written only by the stock services, never edited."""

    list_display = ["created_at", "sku", "delta", "quantity_on_hand_after", "reason", "actor", "note"]
    list_filter = ["reason"]
    list_select_related = ["actor"]
    search_fields = ["sku", "note", "actor__email"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
