"""Staff screens for payments, their ledger, refunds and webhook events (all read-only: money moves
through the services, never by editing rows). Payments also appear inline on the order page."""

from django.contrib import admin

from orders.admin import OrderAdmin, ReadOnlyInline

from .models import Payment, PaymentDispute, PaymentTransaction, Refund, WebhookEvent


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = [
        "provider",
        "status",
        "amount",
        "captured_amount",
        "refunded_amount",
        "provider_payment_id",
        "failure_code",
        "created_at",
    ]
    readonly_fields = fields
    show_change_link = True


class DisputeInline(ReadOnlyInline):
    model = PaymentDispute
    fields = ["provider_dispute_id", "status", "reason", "amount", "currency", "funds", "evidence_due_by", "closed_at"]
    readonly_fields = fields
    show_change_link = True


# payment depends on orders, not the other way round: it adds its inlines to the order screen.
OrderAdmin.inlines = [*OrderAdmin.inlines, PaymentInline, DisputeInline]


class TransactionInline(ReadOnlyInline):
    model = PaymentTransaction
    fields = ["created_at", "kind", "amount", "currency", "provider_reference"]
    readonly_fields = fields


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["created_at", "status", "source", "amount", "reason", "provider_refund_id", "failure_code"]
    readonly_fields = fields


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "order",
        "provider",
        "status",
        "amount",
        "captured_amount",
        "refunded_amount",
        "currency",
        "created_at",
    ]
    list_filter = ["provider", "status", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["order__number", "order__email", "provider_payment_id"]
    list_select_related = ["order"]
    inlines = [TransactionInline, RefundInline]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["payment", "amount", "currency", "status", "source", "reason", "created_at"]
    list_filter = ["status", "source"]
    search_fields = ["payment__order__number", "provider_refund_id"]
    list_select_related = ["payment__order"]


@admin.register(PaymentDispute)
class PaymentDisputeAdmin(ReadOnlyAdmin):
    list_display = [
        "provider_dispute_id",
        "order",
        "status",
        "reason",
        "amount",
        "currency",
        "funds",
        "evidence_due_by",
    ]
    list_filter = ["status", "reason", "funds"]
    search_fields = ["order__number", "order__email", "provider_dispute_id", "payment__provider_payment_id"]
    list_select_related = ["order"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "outcome", "received_at"]
    list_filter = ["type", "outcome"]
    search_fields = ["event_id"]
