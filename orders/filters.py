import django_filters

from core.filters import StrictQueryParamsMixin, UtcIsoDateTimeFilter

from .models import Order
from .state import OrderStatus


class OrderFilter(StrictQueryParamsMixin, django_filters.FilterSet):
    """The order list's filters; any other query parameter is a 400 `unknown_parameter`."""

    status = django_filters.MultipleChoiceFilter(
        choices=OrderStatus.choices, help_text="One or more statuses, e.g. ?status=paid&status=shipped."
    )
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = ["status", "created_after", "created_before"]
