from decimal import Decimal

import pytest
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.money import from_minor_units, quantize, to_minor_units
from core.pagination import CursorPagination, PageNumberPagination


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1.005", "1.01"), ("1.004", "1.00"), ("2.675", "2.68"), ("-1.005", "-1.01"), (3, "3.00")],
)
def test_quantize_rounds_half_up_to_cents(raw, expected):
    assert quantize(Decimal(str(raw)) if not isinstance(raw, int) else raw) == Decimal(expected)


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("42.50", "USD", 4250), ("0.01", "eur", 1), ("1999", "JPY", 1999), ("10.005", "USD", 1001)],
)
def test_minor_units_round_trip(amount, currency, minor):
    assert to_minor_units(Decimal(amount), currency) == minor
    assert from_minor_units(minor, currency) == quantize(Decimal(amount) if currency != "JPY" else Decimal(amount))


def _request(query: str) -> Request:
    return Request(APIRequestFactory().get(f"/x/?{query}"))


@pytest.mark.parametrize("paginator", [PageNumberPagination, CursorPagination])
@pytest.mark.parametrize("query", ["page_size=0", "page_size=101", "page_size=abc", "page_size=-5"])
def test_page_size_out_of_range_is_a_validation_error(query, paginator):
    with pytest.raises(ValidationError) as error:
        paginator().get_page_size(_request(query))

    assert "page_size" in error.value.detail


@pytest.mark.parametrize(("query", "size"), [("", 20), ("page_size=1", 1), ("page_size=100", 100)])
def test_page_size_within_range(query, size):
    assert PageNumberPagination().get_page_size(_request(query)) == size


def test_the_schema_states_the_page_size_range():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/products/"]["get"]["parameters"]}

    assert parameters["page_size"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
    assert parameters["page"]["minimum"] == 1
