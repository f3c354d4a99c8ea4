from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core.idempotency import HEADER as IDEMPOTENCY_HEADER
from core.idempotency import idempotent
from core.openapi import error_responses
from core.permissions import IsStaff
from core.viewsets import OwnedQuerysetMixin

from .. import services
from ..filters import OrderFilter
from ..selectors import order_events, order_queryset
from .serializers import (
    OrderCancelInputSerializer,
    OrderEventSerializer,
    OrderPlaceInputSerializer,
    OrderRefundInputSerializer,
    OrderSerializer,
    OrderShipInputSerializer,
)

IDEMPOTENCY_KEY_REQUIRED = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    location=OpenApiParameter.HEADER,
    required=True,
    description="A unique key per checkout attempt; a retry with the same key and body replays the answer.",
)
IDEMPOTENCY_KEY_OPTIONAL = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Recommended: makes a retried refund safe (the same key replays the first answer).",
)


@extend_schema_view(
    list=extend_schema(summary="Your orders (staff: all orders), newest first"),
    retrieve=extend_schema(summary="One order"),
)
class OrderViewSet(OwnedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Customers see their own orders (another customer's id is a 404); staff see every order."""

    serializer_class = OrderSerializer
    queryset = order_queryset()
    filterset_class = OrderFilter
    staff_sees_all = True
    permission_classes = [IsAuthenticated]
    staff_actions = frozenset({"ship", "deliver", "refund"})

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action not in ("list", "retrieve"):
            # Actions only need the (scoped) order row; they answer with a fresh read.
            queryset = queryset.prefetch_related(None)
        return queryset

    def get_permissions(self):
        if self.action in self.staff_actions:
            return [IsStaff()]
        return super().get_permissions()

    def _order_response(self, order, *, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = order_queryset().get(pk=order.pk)
        return Response(OrderSerializer(fresh).data, status=status_code)

    @extend_schema(
        summary="Place an order from your cart",
        parameters=[IDEMPOTENCY_KEY_REQUIRED],
        request=OrderPlaceInputSerializer,
        responses={201: OrderSerializer, **error_responses(409, 422)},
    )
    @idempotent("orders.create")
    def create(self, request):
        params = OrderPlaceInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        order = services.order_place(user=request.user, **params.validated_data)
        return self._order_response(order, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The order's timeline",
        filters=False,
        responses={200: OrderEventSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], serializer_class=OrderEventSerializer, filterset_class=None)
    def events(self, request, pk=None):
        order = self.get_object()
        page = self.paginate_queryset(order_events(order=order))
        return self.get_paginated_response(OrderEventSerializer(page, many=True).data)

    @extend_schema(
        summary="Cancel an order",
        description="Customers cancel unpaid orders; staff also cancel paid ones (refunded in full).",
        request=OrderCancelInputSerializer,
        responses={200: OrderSerializer, **error_responses(409, 502, 503)},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def cancel(self, request, pk=None):
        order = self.get_object()
        params = OrderCancelInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        order = services.order_cancel(order_id=order.pk, actor=request.user, reason=params.validated_data["reason"])
        return self._order_response(order)

    @extend_schema(
        summary="Staff: mark a paid order shipped",
        request=OrderShipInputSerializer,
        responses={200: OrderSerializer, **error_responses(409)},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def ship(self, request, pk=None):
        order = self.get_object()
        params = OrderShipInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        order = services.order_ship(order_id=order.pk, actor=request.user, **params.validated_data)
        return self._order_response(order)

    @extend_schema(
        summary="Staff: mark a shipped order delivered",
        request=None,
        responses={200: OrderSerializer, **error_responses(409)},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def deliver(self, request, pk=None):
        order = self.get_object()
        order = services.order_deliver(order_id=order.pk, actor=request.user)
        return self._order_response(order)

    @extend_schema(
        summary="Staff: refund an order in full or in part",
        description=(
            "Without `amount`, everything paid and not yet refunded. A partial refund keeps the status; "
            "when refunds reach the amount paid the order becomes `refunded`."
        ),
        parameters=[IDEMPOTENCY_KEY_OPTIONAL],
        request=OrderRefundInputSerializer,
        responses={200: OrderSerializer, **error_responses(409, 422, 502, 503)},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def refund(self, request, pk=None):
        if request.headers.get(IDEMPOTENCY_HEADER):
            return self._refund_idempotent(request, pk=pk)
        return self._refund(request, pk=pk)

    def _refund(self, request, pk=None):
        order = self.get_object()
        params = OrderRefundInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        order = services.order_refund(
            order_id=order.pk,
            actor=request.user,
            amount=params.validated_data.get("amount"),
            reason=params.validated_data["reason"],
        )
        return self._order_response(order)

    _refund_idempotent = idempotent("orders.refund")(_refund)
