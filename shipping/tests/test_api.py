"""Staff API for tax rates."""

from decimal import Decimal

import pytest

from shipping.models import TaxRate
from shipping.tests.factories import TaxRateFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/shipping/tax-rates/"


def test_only_staff_can_read_or_write_tax_rates(api_client, auth_client):
    TaxRateFactory()

    assert api_client.get(URL).status_code == 401
    assert auth_client.get(URL).status_code == 403
    assert auth_client.post(URL, {"country": "FR", "rate": "0"}, format="json").status_code == 403
    assert TaxRate.objects.count() == 1


def test_staff_create_list_update_and_delete(staff_client):
    created = staff_client.post(URL, {"country": "us", "region": "ny", "name": "NY", "rate": "8.875"}, format="json")

    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["country"], body["region"], body["rate"]) == ("US", "NY", "8.8750")
    rate = TaxRate.objects.get()
    assert rate.rate == Decimal("8.8750")

    listed = staff_client.get(URL, {"country": "US"}).json()
    assert [row["id"] for row in listed["results"]] == [str(rate.pk)]

    updated = staff_client.patch(f"{URL}{rate.pk}/", {"rate": "4"}, format="json")
    assert updated.status_code == 200
    rate.refresh_from_db()
    assert rate.rate == Decimal("4")

    assert staff_client.delete(f"{URL}{rate.pk}/").status_code == 204
    assert not TaxRate.objects.exists()


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"country": "XX", "rate": "5"}, "country"),
        ({"country": "DEU", "rate": "5"}, "country"),
        ({"country": "DE", "rate": "100.5"}, "rate"),
        ({"country": "DE", "rate": "-1"}, "rate"),
    ],
)
def test_invalid_tax_rates_are_refused(staff_client, payload, attr):
    response = staff_client.post(URL, payload, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == attr
    assert not TaxRate.objects.exists()


def test_one_rate_per_destination(staff_client):
    TaxRateFactory(country="DE", region="")

    response = staff_client.post(URL, {"country": "de", "rate": "7"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "region"
    assert TaxRate.objects.count() == 1
