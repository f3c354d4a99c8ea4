"""`GET /api/v1/`: where everything is. Absolute URLs of the resource collections and the docs, so a
client (or a person with curl) can start from the root instead of guessing paths."""

from django.urls import NoReverseMatch
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

# Name in the answer -> URL name. Collections and entry points only; item URLs follow from them.
RESOURCES = {
    "authentication_register": "auth-register",
    "authentication_login": "auth-login",
    "authentication_token_refresh": "auth-token-refresh",
    "authentication_password_reset": "auth-password-reset",
    "account_me": "account-me",
    "account_addresses": "address-list",
    "categories": "category-list",
    "products": "product-list",
    "product_facets": "product-facets",
    "product_suggest": "product-suggest",
    "wishlist": "wishlist-list",
    "cart": "cart",
    "shipping_methods": "shipping-methods",
    "orders": "order-list",
    "payments": "payment-list",
    "chat_conversations": "chat-conversation-list",
}
DOCS = {"swagger_ui": "swagger-ui-v1", "redoc": "redoc-v1", "schema": "schema-v1"}


def _urls(request: Request, names: dict[str, str]) -> dict[str, str]:
    urls = {}
    for key, name in names.items():
        try:
            urls[key] = reverse(name, request=request)
        except NoReverseMatch:  # an app left out of this deployment's urls
            continue
    return urls


class ApiRootView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        summary="The API root: resource and documentation URLs",
        responses=OpenApiResponse(
            inline_serializer(
                "ApiRoot",
                {
                    "version": serializers.CharField(),
                    "docs": serializers.DictField(child=serializers.URLField()),
                    "resources": serializers.DictField(child=serializers.URLField()),
                },
            )
        ),
    )
    def get(self, request: Request) -> Response:
        return Response({"version": "v1", "docs": _urls(request, DOCS), "resources": _urls(request, RESOURCES)})
