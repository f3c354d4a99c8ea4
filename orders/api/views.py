from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from cart.api.views import CART_TOKEN_HEADER
from cart.services import parse_cart_token
from core.idempotency import HEADER as IDEMPOTENCY_HEADER
from core.idempotency import idempotent
from core.openapi import error_responses
from core.permissions import IsStaff
from core.viewsets import OwnedQuerysetMixin

from .. import services
from ..filters import OrderFilter
from ..models import Order
from ..selectors import order_events, order_get_by_token, order_queryset
from .serializers import (
    GuestOrderPlaceInputSerializer,
    GuestOrderSerializer,
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

ORDER_TOKEN_QUERY = "order_token"
ORDER_TOKEN_PARAMETER = OpenApiParameter(
    ORDER_TOKEN_QUERY,
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=False,
    description="A guest order's secret (from the checkout answer or the confirmation email). "
    "Without a login it is required; a wrong or missing one is a 404.",
)
GUEST_CART_TOKEN_PARAMETER = OpenApiParameter(
    CART_TOKEN_HEADER,
    OpenApiTypes.UUID,
    OpenApiParameter.HEADER,
    required=False,
    description="Guest checkout (no login): the anonymous cart to check out.",
)


def guest_cart_subject(request) -> str:
    """What a guest's Idempotency-Key is scoped to: the cart it checks out. No cart token and no
    login: 401, as before guest checkout existed."""
    token = parse_cart_token(request.headers.get(CART_TOKEN_HEADER))
    if token is None:
        raise NotAuthenticated()
    return f"cart:{token}"


@extend_schema_view(
    list=extend_schema(summary="Your orders (staff: all orders), newest first"),
    retrieve=extend_schema(summary="One order", parameters=[ORDER_TOKEN_PARAMETER]),
)
class OrderViewSet(OwnedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Customers see their own orders (another customer's id is a 404); staff see every order.
    A guest opens one order (and its events) with its `order_token` and cannot list any."""

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

    def _order_token(self) -> str | None:
        return self.request.query_params.get(ORDER_TOKEN_QUERY)

    def _by_order_token(self) -> bool:
        """A read that the order's secret authorises: any call with `order_token`, and every
        anonymous one (which then needs it)."""
        if self.action not in ("retrieve", "events"):
            return False
        return self._order_token() is not None or not self.request.user.is_authenticated

    def get_permissions(self):
        if self.action in self.staff_actions:
            return [IsStaff()]
        if self.action == "create" or self._by_order_token():
            return [AllowAny()]  # a guest: the cart token (checkout) or the order token (reads)
        return super().get_permissions()

    def get_throttles(self):
        if self.action == "create" and not self.request.user.is_authenticated:
            self.throttle_scope = "guest_checkout"
        elif self._by_order_token():
            self.throttle_scope = "guest_order"
        else:
            self.throttle_scope = None
        return super().get_throttles()

    def get_object(self):
        if self._by_order_token():
            queryset = order_queryset() if self.action == "retrieve" else Order.objects.all()
            return order_get_by_token(order_id=self.kwargs["pk"], order_token=self._order_token(), queryset=queryset)
        return super().get_object()

    def _order_response(self, order, *, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = order_queryset().get(pk=order.pk)
        return Response(OrderSerializer(fresh).data, status=status_code)

    @extend_schema(
        summary="Place an order from your cart (logged in, or as a guest)",
        description=(
            "Logged in: from your cart, with an address-book id or a typed address. As a guest (no login): "
            "the anonymous cart of `X-Cart-Token`, an `email` and the typed `shipping_address`; the answer "
            "carries the order's secret `order_token` once. Idempotency-Key is scoped to the customer, or "
            "for a guest to the cart token. Guest checkouts are throttled per IP (scope `guest_checkout`)."
        ),
        parameters=[IDEMPOTENCY_KEY_REQUIRED, GUEST_CART_TOKEN_PARAMETER],
        request=PolymorphicProxySerializer(
            component_name="OrderPlaceRequest",
            serializers=[OrderPlaceInputSerializer, GuestOrderPlaceInputSerializer],
            resource_type_field_name=None,
        ),
        responses={
            201: PolymorphicProxySerializer(
                component_name="OrderPlaced",
                serializers=[OrderSerializer, GuestOrderSerializer],
                resource_type_field_name=None,
            ),
            **error_responses(404, 409, 422),
        },
    )
    def create(self, request):
        if request.user.is_authenticated:
            return self._create_for_customer(request)
        return self._create_for_guest(request)

    @idempotent("orders.create")
    def _create_for_customer(self, request):
        params = OrderPlaceInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        order = services.order_place(user=request.user, **params.validated_data)
        return self._order_response(order, status_code=status.HTTP_201_CREATED)

    # The token is answered once: a replay of the same request answers the order without it.
    @idempotent("orders.create", anonymous_subject=guest_cart_subject, private_fields=("order_token",))
    def _create_for_guest(self, request):
        cart_id = parse_cart_token(request.headers.get(CART_TOKEN_HEADER))
        params = GuestOrderPlaceInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        order = services.order_place(user=None, cart_id=cart_id, **params.validated_data)
        fresh = order_queryset().get(pk=order.pk)
        fresh.order_token = order.order_token
        return Response(GuestOrderSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The order's timeline",
        filters=False,
        parameters=[ORDER_TOKEN_PARAMETER],
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
