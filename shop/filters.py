"""Query parameters of the product list and facets. Any bad value (a negative or non-numeric price,
an unknown ordering, min_price above max_price) and any unknown parameter is a 400 in the error shape."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_filters
from django import forms
from django.db.models import F, QuerySet, Subquery
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from core.filters import StrictQueryParamsMixin
from shop.models import Category, Product
from shop.search import search_filter, search_rank_annotate
from shop.selectors import product_filter_in_stock

ORDERING_CHOICES = [
    ("price", "Lowest price first"),
    ("-price", "Highest price first"),
    ("-created_at", "Newest first"),
    ("-rating", "Best rated first"),
    ("name", "Name A-Z"),
    ("relevance", "Best match first (needs q; the default when q is given)"),
]
ORDERINGS = {
    "price": (F("lowest_price").asc(nulls_last=True), "-id"),
    "-price": (F("lowest_price").desc(nulls_last=True), "-id"),
    "-created_at": ("-created_at", "-id"),
    "-rating": ("-rating_average", "-rating_count", "-id"),
    "name": ("name", "id"),
    "relevance": ("-search_rank", "-rating_count", "-id"),
}
BOOLEAN_CHOICES = [("true", "true"), ("false", "false"), ("1", "1"), ("0", "0")]
MAX_PRICE_DIGITS = 14


class ProductFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_price"), cleaned.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error(
                "max_price",
                forms.ValidationError("Must be greater than or equal to min_price.", code="invalid_price_range"),
            )
        if cleaned.get("ordering") == "relevance" and not (cleaned.get("q") or "").strip():
            self.add_error(
                "ordering",
                forms.ValidationError("Ordering by relevance needs a search query (q).", code="relevance_needs_query"),
            )
        return cleaned


class ProductFilterSet(StrictQueryParamsMixin, django_filters.FilterSet):
    """Unknown parameters are a 400 (`unknown_parameter`); `search` is another name of `q`."""

    query_param_aliases = {"search": "q"}

    category = django_filters.CharFilter(
        method="filter_category", help_text="Category slug; products of its sub-categories are included."
    )
    q = django_filters.CharFilter(
        method="filter_search",
        max_length=200,
        help_text="Full-text search over name, brand, category and description; tolerates typos on PostgreSQL.",
    )
    min_price = django_filters.NumberFilter(
        field_name="lowest_price",
        lookup_expr="gte",
        min_value=Decimal("0"),
        max_digits=MAX_PRICE_DIGITS,
        help_text="Lowest variant price at least this (decimal, >= 0).",
    )
    max_price = django_filters.NumberFilter(
        field_name="lowest_price",
        lookup_expr="lte",
        min_value=Decimal("0"),
        max_digits=MAX_PRICE_DIGITS,
        help_text="Lowest variant price at most this (decimal, >= 0).",
    )
    in_stock = django_filters.TypedChoiceFilter(
        method="filter_in_stock",
        choices=BOOLEAN_CHOICES,
        coerce=lambda value: value in ("true", "1"),
        help_text="true: at least one variant can be bought now; false: none can.",
    )
    rating_min = django_filters.NumberFilter(
        field_name="rating_average",
        lookup_expr="gte",
        min_value=Decimal("0"),
        max_value=Decimal("5"),
        max_digits=3,
        help_text="Average rating at least this (0 to 5).",
    )
    ordering = django_filters.ChoiceFilter(
        method="filter_nothing",
        choices=ORDERING_CHOICES,
        help_text="Sort order; default -created_at, or relevance when q is given.",
    )

    apply_ordering = True

    class Meta:
        model = Product
        fields: list[str] = []
        form = ProductFilterForm

    def filter_category(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        # A subquery, not a lookup first: the list stays within its query budget. An unknown or
        # inactive slug yields no products.
        subtree_path = Category.objects.filter(slug=value, is_active=True).values("path")[:1]
        return queryset.filter(category__path__startswith=Subquery(subtree_path))

    def filter_search(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        return search_filter(queryset, value) if value.strip() else queryset

    # `value` is the coerced bool; the schema shows the accepted strings as an enum.
    @extend_schema_field(OpenApiTypes.STR)
    def filter_in_stock(self, queryset: QuerySet[Product], name: str, value: Any) -> QuerySet[Product]:
        return product_filter_in_stock(queryset, bool(value))

    def filter_nothing(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        return queryset  # ordering is applied last, once the search is known

    def filter_queryset(self, queryset: QuerySet[Product]) -> QuerySet[Product]:
        queryset = super().filter_queryset(queryset)
        if not self.apply_ordering:
            return queryset
        query = (self.form.cleaned_data.get("q") or "").strip()
        ordering = self.form.cleaned_data.get("ordering") or ("relevance" if query else "-created_at")
        if ordering == "relevance":
            queryset = search_rank_annotate(queryset, query)
        return queryset.order_by(*ORDERINGS[ordering])


class ProductFacetFilterSet(ProductFilterSet):
    """The list's filters without ordering: facets count the same products."""

    ordering = None
    apply_ordering = False
    # Accepted and ignored, so a client can send the list's own query string to facets.
    extra_query_params = frozenset({"ordering", "page", "page_size"})
