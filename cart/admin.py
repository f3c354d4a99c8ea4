from django.contrib import admin, messages
from django.db.models import Count, Sum

from .models import Cart, CartLine
from .services import cart_clear


class CartLineInline(admin.TabularInline):
    model = CartLine
    extra = 0
    fields = ["variant", "quantity", "unit_price_when_set", "created_at", "updated_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class OwnerFilter(admin.SimpleListFilter):
    title = "owner"
    parameter_name = "owner"

    def lookups(self, request, model_admin):
        return [("customer", "Customers"), ("anonymous", "Anonymous")]

    def queryset(self, request, queryset):
        if self.value() == "customer":
            return queryset.filter(user__isnull=False)
        if self.value() == "anonymous":
            return queryset.filter(user__isnull=True)
        return queryset


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    """Read-only: carts belong to customers; staff look, and may empty a cart."""

    list_display = ["id", "user", "line_count", "unit_count", "coupon", "shipping_country", "currency", "updated_at"]
    list_filter = [OwnerFilter, "shipping_country", "updated_at"]
    search_fields = ["id", "user__email"]
    list_select_related = ["user", "coupon"]
    readonly_fields = [
        "id",
        "user",
        "currency",
        "coupon",
        "shipping_country",
        "shipping_region",
        "shipping_method",
        "created_at",
        "updated_at",
    ]
    inlines = [CartLineInline]
    actions = ["empty_carts"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(lines_total=Count("lines"), units_total=Sum("lines__quantity"))

    @admin.display(description="lines", ordering="lines_total")
    def line_count(self, cart) -> int:
        return cart.lines_total

    @admin.display(description="units", ordering="units_total")
    def unit_count(self, cart) -> int:
        return cart.units_total or 0

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Empty selected carts (lines, coupon, shipping method)")
    def empty_carts(self, request, queryset):
        for cart in queryset:
            cart_clear(cart=cart)
        self.message_user(request, f"{queryset.count()} cart(s) emptied.", messages.SUCCESS)
