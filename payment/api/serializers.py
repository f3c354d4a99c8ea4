from rest_framework import serializers

from ..models import Payment


class PaymentCreateInputSerializer(serializers.Serializer):
    order_id = serializers.UUIDField()
    order_token = serializers.CharField(
        required=False,
        max_length=200,
        help_text="A guest order's secret (from the checkout answer); no login needed then. Wrong: 404.",
    )


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


class PaymentConfigSerializer(serializers.Serializer):
    gateway = serializers.CharField(help_text="`stripe`, or `dummy` in demos (every order is paid at once).")
    stripe_publishable_key = serializers.CharField(allow_null=True, help_text="For Stripe.js; null unless Stripe.")
    currency = serializers.CharField()
