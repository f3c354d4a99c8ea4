from decimal import Decimal

import pytest

from shipping.models import ShippingMethod, ShippingZone, TaxRate
from shipping.tests.factories import ShippingMethodFactory, ShippingZoneFactory, TaxRateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser(email="root@example.com", password="x"))
    return client


def test_admin_pages_render(admin_client):
    zone = ShippingZoneFactory(countries=["DE", "FR"])
    method = ShippingMethodFactory(zone=zone, rate_type="weight", flat_price=None, bands=[("0", "1", "3.00")])
    rate = TaxRateFactory()

    for url in [
        "/admin/shipping/shippingzone/",
        f"/admin/shipping/shippingzone/{zone.pk}/change/",
        "/admin/shipping/shippingzone/add/",
        "/admin/shipping/shippingmethod/",
        f"/admin/shipping/shippingmethod/{method.pk}/change/",
        "/admin/shipping/taxrate/",
        f"/admin/shipping/taxrate/{rate.pk}/change/",
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_zone_countries_are_edited_as_one_field(admin_client):
    zone = ShippingZoneFactory(name="Europe", countries=["DE", "FR"])

    response = admin_client.post(
        f"/admin/shipping/shippingzone/{zone.pk}/change/",
        {
            "name": "Europe",
            "countries_text": "fr, nl  it",
            "methods-TOTAL_FORMS": "0",
            "methods-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    assert sorted(zone.countries.values_list("country", flat=True)) == ["FR", "IT", "NL"]


def test_zone_with_an_unknown_country_is_refused(admin_client):
    response = admin_client.post(
        "/admin/shipping/shippingzone/add/",
        {"name": "Nowhere", "countries_text": "DE, UK", "methods-TOTAL_FORMS": "0", "methods-INITIAL_FORMS": "0"},
    )

    assert response.status_code == 200
    assert "Not ISO country codes: UK" in response.content.decode()
    assert not ShippingZone.objects.exists()


def _method_post(zone, bands):
    data = {
        "zone": str(zone.pk),
        "name": "By weight",
        "description": "",
        "rate_type": "weight",
        "flat_price": "",
        "currency": "USD",
        "free_over": "",
        "min_delivery_days": "1",
        "max_delivery_days": "3",
        "is_active": "on",
        "sort_order": "0",
        "rates-TOTAL_FORMS": str(len(bands)),
        "rates-INITIAL_FORMS": "0",
    }
    for index, (low, high, price) in enumerate(bands):
        data |= {f"rates-{index}-min_value": low, f"rates-{index}-max_value": high, f"rates-{index}-price": price}
    return data


def test_overlapping_rate_bands_are_refused(admin_client):
    zone = ShippingZoneFactory()

    response = admin_client.post(
        "/admin/shipping/shippingmethod/add/", _method_post(zone, [("0", "2", "3.00"), ("1", "", "5.00")])
    )

    assert response.status_code == 200
    assert "Rate bands overlap" in response.content.decode()
    assert not ShippingMethod.objects.exists()


def test_weight_method_with_contiguous_bands_is_saved(admin_client):
    zone = ShippingZoneFactory()

    response = admin_client.post(
        "/admin/shipping/shippingmethod/add/", _method_post(zone, [("0", "2", "3.00"), ("2", "", "5.00")])
    )

    assert response.status_code == 302
    method = ShippingMethod.objects.get()
    assert list(method.rates.values_list("min_value", "max_value", "price")) == [
        (Decimal("0.000"), Decimal("2.000"), Decimal("3.00")),
        (Decimal("2.000"), None, Decimal("5.00")),
    ]


def test_tax_rates_are_editable_from_the_list(admin_client):
    rate = TaxRateFactory(country="DE", rate=Decimal("19"))

    response = admin_client.post(
        "/admin/shipping/taxrate/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(rate.pk),
            "form-0-rate": "7",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    assert TaxRate.objects.get().rate == Decimal("7")
