from rest_framework import viewsets

from core.permissions import IsStaff
from shipping.selectors import tax_rate_list
from shipping.services import tax_rate_create, tax_rate_delete, tax_rate_update

from .serializers import TaxRateSerializer


class TaxRateViewSet(viewsets.ModelViewSet):
    """Staff CRUD for tax rates (percent, by destination country and optional region)."""

    permission_classes = [IsStaff]
    serializer_class = TaxRateSerializer
    filterset_fields = ["country"]

    def get_queryset(self):
        return tax_rate_list()

    def perform_create(self, serializer):
        serializer.instance = tax_rate_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = tax_rate_update(tax_rate=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        tax_rate_delete(tax_rate=instance)
