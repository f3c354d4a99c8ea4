"""A test-only URLconf: the real routes plus small views that exercise the core helpers."""

from django.urls import path
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import Conflict
from core.idempotency import idempotent
from ecommerce_api.urls import handler404, handler500  # noqa: F401
from ecommerce_api.urls import urlpatterns as real_urlpatterns

CALLS = {"count": 0}


class EchoSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


class IdempotentEchoView(APIView):
    permission_classes = [IsAuthenticated]

    @idempotent("tests.echo")
    def post(self, request):
        CALLS["count"] += 1
        params = EchoSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        if params.validated_data["amount"] < 0:
            raise Conflict("Negative amounts are refused.", code="negative_amount", attr="amount")
        return Response(
            {"call": CALLS["count"], "amount": str(params.validated_data["amount"])}, status=status.HTTP_201_CREATED
        )


class WhoAmIView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"id": str(request.user.id)})


class ThrottledView(APIView):
    permission_classes = []
    throttle_scope = "tests"  # the default throttle class counts this scope too

    def get(self, request):
        return Response({"ok": True})


class ExplodingView(APIView):
    permission_classes = []

    def get(self, request):
        raise RuntimeError("boom")


urlpatterns = [
    path("test/idempotent/", IdempotentEchoView.as_view()),
    path("test/whoami/", WhoAmIView.as_view()),
    path("test/throttled/", ThrottledView.as_view()),
    path("test/explode/", ExplodingView.as_view()),
    *real_urlpatterns,
]
