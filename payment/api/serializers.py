from rest_framework import serializers

from ..models import Payment


class PaymentCreateInputSerializer(serializers.Serializer):
    order_id = serializers.UUIDField()


class PaymentSerializer(serializers.ModelSerializer):
    client_secret = serializers.SerializerMethodField(
        help_text="Give it to Stripe.js to confirm the payment; empty once the payment is settled."
    )

    class Meta:
        model = Payment
        fields = [
            "id",
            "order_id",
            "provider",
            "status",
            "amount",
            "currency",
            "client_secret",
            "captured_amount",
            "refunded_amount",
            "failure_code",
            "created_at",
        ]
        read_only_fields = fields

    def get_client_secret(self, payment: Payment) -> str:
        if payment.status in (Payment.Status.PENDING, Payment.Status.FAILED, Payment.Status.SUCCEEDED):
            return payment.client_secret
        return ""


class WebhookAckSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    outcome = serializers.CharField(help_text="What the event did, e.g. order_paid, duplicate, ignored_type.")
