from django.contrib import admin, messages

from .models import Coupon, CouponRedemption
from .services import coupons_set_active


class CouponRedemptionInline(admin.TabularInline):
    model = CouponRedemption
    extra = 0
    can_delete = False
    fields = ["order_id", "user", "created_at"]
    readonly_fields = fields
    ordering = ["-created_at"]
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        # Uses are counted by checkout (coupons.services.coupon_redeem), never typed in by hand.
        return False


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "kind",
        "value",
        "currency",
        "minimum_subtotal",
        "is_active",
        "starts_at",
        "ends_at",
        "times_used",
        "usage_limit",
        "usage_limit_per_customer",
    ]
    list_filter = ["kind", "is_active", "starts_at", "ends_at"]
    search_fields = ["code", "description"]
    readonly_fields = ["times_used", "created_at", "updated_at"]
    autocomplete_fields = ["products", "categories"]
    inlines = [CouponRedemptionInline]
    actions = ["activate", "deactivate"]
    fieldsets = [
        (None, {"fields": ["code", "description", "is_active"]}),
        ("Discount", {"fields": ["kind", "value", "currency", "minimum_subtotal"]}),
        ("Validity", {"fields": ["starts_at", "ends_at"]}),
        ("Limits", {"fields": ["usage_limit", "usage_limit_per_customer", "times_used"]}),
        ("Restricted to (empty: every product)", {"fields": ["products", "categories"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.action(description="Activate selected coupons")
    def activate(self, request, queryset):
        count = coupons_set_active(coupons=queryset, active=True)
        self.message_user(request, f"{count} coupon(s) activated.", messages.SUCCESS)

    @admin.action(description="Deactivate selected coupons")
    def deactivate(self, request, queryset):
        count = coupons_set_active(coupons=queryset, active=False)
        self.message_user(request, f"{count} coupon(s) deactivated.", messages.SUCCESS)


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(admin.ModelAdmin):
    list_display = ["coupon", "order_id", "user", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["coupon__code", "order_id", "user__email"]
    list_select_related = ["coupon", "user"]
    readonly_fields = ["coupon", "user", "order_id", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting a row would desynchronise times_used; orders release uses through coupon_release.
        return False
