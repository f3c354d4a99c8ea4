from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from core.openapi import error_responses
from core.permissions import IsStaff
from coupons.selectors import coupon_list
from coupons.services import coupon_create, coupon_delete, coupon_update

from .serializers import CouponSerializer


@extend_schema_view(destroy=extend_schema(responses={204: None, **error_responses(409)}))
class CouponViewSet(viewsets.ModelViewSet):
    """Staff CRUD for coupons. A coupon already redeemed by orders cannot be deleted (409
    `coupon_in_use`): deactivate it instead."""

    permission_classes = [IsStaff]
    serializer_class = CouponSerializer
    filterset_fields = {"is_active": ["exact"], "kind": ["exact"], "code": ["iexact", "icontains"]}

    def get_queryset(self):
        return coupon_list()

    def perform_create(self, serializer):
        serializer.instance = coupon_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = coupon_update(coupon=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        coupon_delete(coupon=instance)
