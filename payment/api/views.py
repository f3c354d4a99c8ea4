from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import HEADER as IDEMPOTENCY_HEADER
from core.idempotency import idempotent
from core.openapi import error_responses
from core.viewsets import OwnedQuerysetMixin

from ..selectors import payment_queryset
from ..services import payment_create
from ..webhooks import stripe_event_process, stripe_event_verify
from .serializers import PaymentCreateInputSerializer, PaymentSerializer, WebhookAckSerializer


class PaymentViewSet(OwnedQuerysetMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PaymentSerializer
    queryset = payment_queryset()

    @extend_schema(
        summary="Pay an order",
        description=(
            "Starts collecting the order's total with the configured gateway. With Stripe, answers a "
            "PaymentIntent `client_secret` for Stripe.js; the order becomes paid when Stripe's webhook "
            "confirms. With the dummy gateway the payment succeeds at once. A second call for the same "
            "unpaid order resumes the same payment (200)."
        ),
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER, location=OpenApiParameter.HEADER, required=True, description="One key per attempt."
            )
        ],
        request=PaymentCreateInputSerializer,
        responses={200: PaymentSerializer, 201: PaymentSerializer, **error_responses(409, 422, 502, 503)},
    )
    @idempotent("payments.create")
    def create(self, request):
        params = PaymentCreateInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        started = payment_create(user=request.user, order_id=params.validated_data["order_id"])
        code = status.HTTP_201_CREATED if started.created else status.HTTP_200_OK
        return Response(PaymentSerializer(started.payment).data, status=code)


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
