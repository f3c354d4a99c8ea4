from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import HEADER as IDEMPOTENCY_HEADER
from core.idempotency import idempotent
from core.openapi import error_responses
from core.viewsets import OwnedQuerysetMixin
from orders.models import order_token_hash

from ..gateways import gateway_for
from ..selectors import payment_queryset
from ..services import payment_create
from ..webhooks import stripe_event_process, stripe_event_verify
from .serializers import PaymentConfigSerializer, PaymentCreateInputSerializer, PaymentSerializer, WebhookAckSerializer


def guest_order_subject(request) -> str:
    """What a guest's Idempotency-Key is scoped to: the order secret it pays with (its hash)."""
    token = request.data.get("order_token") if hasattr(request.data, "get") else None
    if not token or not isinstance(token, str):
        raise NotAuthenticated()
    return f"order:{order_token_hash(token)}"


class PaymentViewSet(OwnedQuerysetMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PaymentSerializer
    queryset = payment_queryset()

    def _with_order_token(self) -> bool:
        return self.action == "create" and hasattr(self.request.data, "get") and "order_token" in self.request.data

    def get_permissions(self):
        if self._with_order_token():
            return [AllowAny()]  # a guest pays with the order's secret
        return super().get_permissions()

    def get_throttles(self):
        self.throttle_scope = "guest_order" if self._with_order_token() else None
        return super().get_throttles()

    @extend_schema(
        summary="Pay an order",
        description=(
            "Starts collecting the order's total with the configured gateway. With Stripe, answers a "
            "PaymentIntent `client_secret` for Stripe.js; the order becomes paid when Stripe's webhook "
            "confirms. With the dummy gateway the payment succeeds at once. A second call for the same "
            "unpaid order resumes the same payment (200). A guest sends `{order_id, order_token}` "
            "without a login (a wrong token is a 404; throttled by the `guest_order` scope)."
        ),
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER, location=OpenApiParameter.HEADER, required=True, description="One key per attempt."
            )
        ],
        request=PaymentCreateInputSerializer,
        responses={200: PaymentSerializer, 201: PaymentSerializer, **error_responses(409, 422, 502, 503)},
    )
    @idempotent("payments.create", anonymous_subject=guest_order_subject)
    def create(self, request):
        params = PaymentCreateInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        started = payment_create(
            user=request.user if request.user.is_authenticated else None,
            order_id=params.validated_data["order_id"],
            order_token=params.validated_data.get("order_token"),
        )
        code = status.HTTP_201_CREATED if started.created else status.HTTP_200_OK
        return Response(PaymentSerializer(started.payment).data, status=code)


class PaymentConfigView(APIView):
    """What a storefront needs to take payments: the gateway, and for Stripe the publishable key
    with which it mounts Stripe Elements (docs/STOREFRONT.md). Public, like the key itself."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses=PaymentConfigSerializer, summary="Payment gateway and publishable key")
    def get(self, request):
        key = settings.STRIPE_PUBLISHABLE_KEY
        gateway = gateway_for().name  # "stripe" or "dummy" also when configured by dotted path
        stripe = gateway == "stripe"
        return Response(
            PaymentConfigSerializer(
                {
                    "gateway": gateway,
                    # Never a secret key pasted into the wrong setting (core.checks, ecommerce.E005).
                    "stripe_publishable_key": key if stripe and key.startswith("pk_") else None,
                    "currency": settings.DEFAULT_CURRENCY,
                }
            ).data
        )


class StripeWebhookView(APIView):
    """Stripe calls this; it authenticates with the signature header, not a user."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes: list = []

    @extend_schema(
        summary="Stripe webhook",
        description="Verified with the `Stripe-Signature` header; each event id is applied once.",
        request=OpenApiTypes.OBJECT,
        responses={200: WebhookAckSerializer, **error_responses(409, 503)},
    )
    def post(self, request):
        event = stripe_event_verify(payload=request.body, signature=request.headers.get("Stripe-Signature"))
        outcome = stripe_event_process(event=event)
        return Response({"received": True, "outcome": outcome})


class StripeWebhookAliasView(StripeWebhookView):
    @extend_schema(
        summary="Stripe webhook (alias of payments/stripe/webhook/)",
        operation_id="payments_stripe_webhook_alias_create",
        request=OpenApiTypes.OBJECT,
        responses={200: WebhookAckSerializer, **error_responses(409, 503)},
    )
    def post(self, request):
        return super().post(request)
