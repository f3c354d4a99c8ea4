"""Staff screens for orders. Statuses change only through the actions, which call orders.services
(the same rules, events, stock moves and notifications as the API); the fields are read-only.
The payment app adds its payments inline (payment/admin.py), so orders does not import payment."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.response import TemplateResponse

from core.errors import DomainError

from . import services
from .models import Order, OrderEvent, OrderLine


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = [
        "product_name",
        "product_slug",
        "variant_name",
        "sku",
        "unit_price",
        "quantity",
        "line_total",
        "discount",
        "tax",
        "image",
    ]
    readonly_fields = fields


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["created_at", "kind", "from_status", "to_status", "actor", "actor_role", "amount", "note"]
    readonly_fields = fields
    ordering = ["created_at", "id"]


class ShipForm(forms.Form):
    carrier = forms.CharField(max_length=100)
    tracking_url = forms.URLField(
        max_length=500, required=False, assume_scheme="https", help_text="Optional; used for every order."
    )


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "email",
        "guest_email",
        "status",
        "total",
        "currency",
        "amount_refunded",
        "created_at",
        "paid_at",
    ]
    list_filter = [
        "status",
        "dispute_status",
        ("created_at", admin.DateFieldListFilter),
        ("paid_at", admin.DateFieldListFilter),
    ]
    search_fields = ["number", "email", "guest_email", "user__email"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    inlines = [OrderLineInline, OrderEventInline]
    actions = ["ship_orders", "deliver_orders", "cancel_orders", "refund_orders"]
    readonly_fields = [field.name for field in Order._meta.fields]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "id",
                    "number",
                    "user",
                    "email",
                    "guest_email",
                    "status",
                    "payment_due_by",
                    "cancellation_reason",
                ]
            },
        ),
        (
            "Money",
            {
                "fields": [
                    "currency",
                    "subtotal",
                    "discount_total",
                    "shipping_total",
                    "tax_total",
                    "total",
                    "amount_paid",
                    "amount_refunded",
                    "amount_refund_pending",
                    "dispute_status",
                    "payment_reference",
                    "coupon_code",
                ]
            },
        ),
        ("Shipping", {"fields": ["shipping_method_snapshot", "shipping_address", "billing_address"]}),
        ("Tracking", {"fields": ["carrier", "tracking_number", "tracking_url"]}),
        (
            "Timeline",
            {"fields": ["created_at", "paid_at", "shipped_at", "delivered_at", "cancelled_at", "refunded_at"]},
        ),
    ]

    def has_add_permission(self, request) -> bool:
        return False  # orders come from checkout

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # an order is a financial record; cancel or refund it instead

    def _apply(self, request, queryset, verb: str, change) -> None:
        done = 0
        for order in queryset.order_by("created_at"):
            try:
                change(order)
            except DomainError as error:
                self.message_user(request, f"{order.number}: {error.detail}", level=messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} order(s) {verb}.", level=messages.SUCCESS)

    @admin.action(description="Ship selected orders (asks for carrier and tracking numbers)")
    def ship_orders(self, request, queryset):
        orders = list(queryset.order_by("created_at"))
        if "apply" in request.POST:
            form = ShipForm(request.POST)
            tracking = {order.pk: request.POST.get(f"tracking_{order.pk}", "").strip() for order in orders}
            if form.is_valid() and all(tracking.values()):
                self._apply(
                    request,
                    queryset,
                    "shipped",
                    lambda order: services.order_ship(
                        order_id=order.pk,
                        actor=request.user,
                        carrier=form.cleaned_data["carrier"],
                        tracking_number=tracking[order.pk],
                        tracking_url=form.cleaned_data["tracking_url"],
                    ),
                )
                return None
            self.message_user(request, "Give a carrier and a tracking number for every order.", messages.ERROR)
        else:
            form = ShipForm()
        return TemplateResponse(
            request,
            "admin/orders/order/ship.html",
            {
                **self.admin_site.each_context(request),
                "title": "Ship orders",
                "opts": self.model._meta,
                "orders": orders,
                "form": form,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Mark selected orders delivered")
    def deliver_orders(self, request, queryset):
        self._apply(
            request, queryset, "delivered", lambda order: services.order_deliver(order_id=order.pk, actor=request.user)
        )

    @admin.action(description="Cancel selected orders (paid ones are refunded in full)")
    def cancel_orders(self, request, queryset):
        self._apply(
            request,
            queryset,
            "cancelled",
            lambda order: services.order_cancel(order_id=order.pk, actor=request.user, reason="Cancelled by staff."),
        )

    @admin.action(description="Refund selected orders in full")
    def refund_orders(self, request, queryset):
        self._apply(
            request,
            queryset,
            "refunded",
            lambda order: services.order_refund(
                order_id=order.pk, actor=request.user, amount=None, reason="Refunded by staff."
            ),
        )
