"""The cart endpoints. Public (anonymous carts), so each view says AllowAny explicitly; the cart is
found from the caller and the `X-Cart-Token` header by `cart.services.cart_resolve`, never from an
id in the URL, so one customer can never reach another's cart."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from cart.errors import CartLineNotFound
from cart.models import Cart
from cart.selectors import cart_get, cart_shipping_options, cart_summary
from cart.services import (
    UNSET,
    cart_clear,
    cart_coupon_apply,
    cart_coupon_remove,
    cart_item_add,
    cart_item_remove,
    cart_item_update,
    cart_resolve,
    cart_shipping_set,
    parse_cart_token,
)
from core.countries import normalize_country
from core.openapi import error_responses
from shipping.errors import InvalidCountry

from .serializers import (
    CartCouponInputSerializer,
    CartItemAddInputSerializer,
    CartItemUpdateInputSerializer,
    CartSerializer,
    CartUpdateInputSerializer,
    ShippingOptionSerializer,
)

CART_TOKEN_HEADER = "X-Cart-Token"
CART_TOKEN_PARAMETER = OpenApiParameter(
    CART_TOKEN_HEADER,
    OpenApiTypes.UUID,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Token of an anonymous cart (its id). Sent with a Bearer token, the anonymous cart is merged into "
        "the customer's cart. Every response that shows a cart repeats its token in this header."
    ),
)


class CartRequestMixin:
    permission_classes = [AllowAny]
    serializer_class = CartSerializer

    def request_cart(self) -> Cart | None:
        token = parse_cart_token(self.request.headers.get(CART_TOKEN_HEADER))
        return cart_resolve(user=self.request.user, token=token)

    def cart_response(self, cart: Cart | None, *, status_code: int = status.HTTP_200_OK) -> Response:
        summary = cart_summary(cart=cart)
        response = Response(CartSerializer(summary, context={"request": self.request}).data, status=status_code)
        if summary.cart is not None:
            response[CART_TOKEN_HEADER] = str(summary.cart.pk)
        return response

    def reloaded_cart_response(self, cart_id, *, status_code: int = status.HTTP_200_OK) -> Response:
        return self.cart_response(cart_get(cart_id=cart_id), status_code=status_code)


class CartView(CartRequestMixin, GenericAPIView):
    @extend_schema(
        operation_id="cart_retrieve",
        parameters=[CART_TOKEN_PARAMETER],
        responses={200: CartSerializer},
        description="The caller's cart, priced. Without a cart yet, an empty cart with a null id.",
    )
    def get(self, request):
        return self.cart_response(self.request_cart())

    @extend_schema(
        operation_id="cart_update",
        parameters=[CART_TOKEN_PARAMETER],
        request=CartUpdateInputSerializer,
        responses={200: CartSerializer, **error_responses(409)},
        description=(
            "Choose the destination (`country`, optional `region`: they set the tax rate) and the "
            "`shipping_method_id` (from GET shipping/methods/?country=XX). Omitted fields are kept, null clears."
        ),
    )
    def patch(self, request):
        params = CartUpdateInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        cart = cart_shipping_set(
            cart=self.request_cart(),
            user=request.user,
            country=data.get("country", UNSET),
            region=data.get("region", UNSET),
            shipping_method_id=data.get("shipping_method_id", UNSET),
        )
        return self.reloaded_cart_response(cart.pk)

    @extend_schema(
        operation_id="cart_clear",
        parameters=[CART_TOKEN_PARAMETER],
        responses={204: OpenApiResponse(description="Emptied: lines, coupon and shipping method removed.")},
    )
    def delete(self, request):
        cart = self.request_cart()
        if cart is not None:
            cart_clear(cart=cart)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartItemListView(CartRequestMixin, GenericAPIView):
    @extend_schema(
        operation_id="cart_items_create",
        parameters=[CART_TOKEN_PARAMETER],
        request=CartItemAddInputSerializer,
        responses={201: CartSerializer, **error_responses(409)},
        description=(
            "Add a variant (quantities of a variant already in the cart are summed). Creates the cart when "
            "there is none: keep the `X-Cart-Token` response header. 409 `insufficient_stock` carries "
            "`variant_id`, `available_quantity` and `requested` (the summed quantity); 409 "
            "`variant_unavailable` for products not for sale."
        ),
    )
    def post(self, request):
        params = CartItemAddInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        line = cart_item_add(cart=self.request_cart(), user=request.user, **params.validated_data)
        return self.reloaded_cart_response(line.cart_id, status_code=status.HTTP_201_CREATED)


class CartItemDetailView(CartRequestMixin, GenericAPIView):
    @extend_schema(
        operation_id="cart_items_partial_update",
        parameters=[CART_TOKEN_PARAMETER],
        request=CartItemUpdateInputSerializer,
        responses={200: CartSerializer, **error_responses(409)},
    )
    def patch(self, request, item_id):
        params = CartItemUpdateInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        cart = self._cart_or_404()
        cart_item_update(cart=cart, line_id=item_id, quantity=params.validated_data["quantity"])
        return self.reloaded_cart_response(cart.pk)

    @extend_schema(
        operation_id="cart_items_destroy", parameters=[CART_TOKEN_PARAMETER], responses={200: CartSerializer}
    )
    def delete(self, request, item_id):
        cart = self._cart_or_404()
        cart_item_remove(cart=cart, line_id=item_id)
        return self.reloaded_cart_response(cart.pk)

    def _cart_or_404(self) -> Cart:
        cart = self.request_cart()
        if cart is None:
            raise CartLineNotFound()
        return cart


class CartCouponView(CartRequestMixin, GenericAPIView):
    def get_throttles(self):
        # Only applying a code is a guess worth limiting; removing one is not.
        self.throttle_scope = "coupons" if self.request.method == "POST" else None
        return super().get_throttles()

    @extend_schema(
        operation_id="cart_coupon_apply",
        parameters=[CART_TOKEN_PARAMETER],
        request=CartCouponInputSerializer,
        responses={200: CartSerializer},
        description=(
            "Apply a coupon (codes are case-insensitive). A refusal is a 400 whose code says why: "
            "coupon_not_found, coupon_inactive, coupon_not_yet_valid, coupon_expired, coupon_usage_limit_reached, "
            "coupon_login_required, coupon_not_applicable, coupon_minimum_not_met. Throttled (scope `coupons`)."
        ),
    )
    def post(self, request):
        params = CartCouponInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        cart = self.request_cart()
        cart_coupon_apply(cart=cart, user=request.user, code=params.validated_data["code"])
        return self.reloaded_cart_response(cart.pk)

    @extend_schema(
        operation_id="cart_coupon_remove", parameters=[CART_TOKEN_PARAMETER], responses={200: CartSerializer}
    )
    def delete(self, request):
        cart = self.request_cart()
        if cart is not None:
            cart_coupon_remove(cart=cart)
            return self.reloaded_cart_response(cart.pk)
        return self.cart_response(None)


class ShippingMethodListView(CartRequestMixin, ListAPIView):
    """Lives in the cart app because it prices methods for the caller's cart: shipping knows
    nothing of carts (dependencies point shipping <- cart)."""

    serializer_class = ShippingOptionSerializer
    filter_backends: list = []

    @extend_schema(
        operation_id="shipping_methods_list",
        parameters=[
            OpenApiParameter(
                "country", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True, description="ISO 3166-1 alpha-2."
            ),
            CART_TOKEN_PARAMETER,
        ],
        responses={200: ShippingOptionSerializer(many=True)},
        description=(
            "Active shipping methods to `country`, each priced for the current cart (its weight, its "
            "subtotal after discount, a free-shipping coupon). Methods that cannot carry the cart are left "
            "out. An unknown or malformed country is a 400 `invalid_country`."
        ),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        country = normalize_country(request.query_params.get("country"))
        if country is None:
            raise InvalidCountry()
        options = cart_shipping_options(cart=self.request_cart(), country=country)
        page = self.paginate_queryset(options)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
