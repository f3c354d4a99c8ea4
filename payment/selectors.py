from django.db.models import QuerySet

from .models import Payment


def payment_queryset() -> QuerySet[Payment]:
    return Payment.objects.order_by("-created_at")
