import threading

import pytest
from django.db import IntegrityError, connection, transaction

from account.models import Address
from account.services import address_update

from .factories import AddressFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/account/addresses/"
PAYLOAD = {
    "first_name": "Cam",
    "last_name": "Doe",
    "line1": "10 Rue de Rivoli",
    "city": "Paris",
    "postal_code": "75001",
    "country": "fr",
    "phone": "+33 6 12 34 56 78",
}


def detail(address) -> str:
    return f"{URL}{address.id}/"


def test_create_address(auth_client, user):
    response = auth_client.post(URL, PAYLOAD)

    assert response.status_code == 201
    body = response.json()
    address = Address.objects.get()
    assert body["id"] == str(address.id)
    assert (address.user_id, address.country, address.phone) == (user.id, "FR", "+33612345678")
    assert body["country"] == "FR"
    assert set(body) == {
        "id",
        "first_name",
        "last_name",
        "company",
        "line1",
        "line2",
        "city",
        "region",
        "postal_code",
        "country",
        "phone",
        "is_default_shipping",
        "is_default_billing",
        "created_at",
        "updated_at",
    }


def test_first_address_becomes_both_defaults(auth_client):
    body = auth_client.post(URL, PAYLOAD).json()

    assert (body["is_default_shipping"], body["is_default_billing"]) == (True, True)


def test_later_addresses_are_not_defaults_unless_asked(auth_client, user):
    AddressFactory(user=user, is_default_shipping=True, is_default_billing=True)

    body = auth_client.post(URL, PAYLOAD).json()

    assert (body["is_default_shipping"], body["is_default_billing"]) == (False, False)


@pytest.mark.parametrize("country", ["XX", "USA", "U", "", "12"])
def test_country_must_be_iso_alpha2(auth_client, country):
    response = auth_client.post(URL, {**PAYLOAD, "country": country})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "country"
    assert Address.objects.count() == 0


@pytest.mark.parametrize("missing", ["first_name", "last_name", "line1", "city", "country"])
def test_required_fields(auth_client, missing):
    payload = {key: value for key, value in PAYLOAD.items() if key != missing}

    response = auth_client.post(URL, payload)

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == missing


def test_a_new_default_replaces_the_old_one(auth_client, user):
    old = AddressFactory(user=user, is_default_shipping=True, is_default_billing=True)

    response = auth_client.post(URL, {**PAYLOAD, "is_default_shipping": True})

    assert response.status_code == 201
    old.refresh_from_db()
    assert (old.is_default_shipping, old.is_default_billing) == (False, True)
    new = Address.objects.get(pk=response.json()["id"])
    assert (new.is_default_shipping, new.is_default_billing) == (True, False)


def test_patch_can_move_the_billing_default(auth_client, user):
    first = AddressFactory(user=user, is_default_billing=True)
    second = AddressFactory(user=user)

    response = auth_client.patch(detail(second), {"is_default_billing": True})

    assert response.status_code == 200
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_default_billing, second.is_default_billing) == (False, True)


def test_defaults_are_per_user(auth_client, user, other_user):
    theirs = AddressFactory(user=other_user, is_default_shipping=True)

    auth_client.post(URL, {**PAYLOAD, "is_default_shipping": True})

    theirs.refresh_from_db()
    assert theirs.is_default_shipping is True


def test_database_refuses_two_default_shipping_addresses():
    user = UserFactory()
    AddressFactory(user=user, is_default_shipping=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        AddressFactory(user=user, is_default_shipping=True)


def test_database_refuses_two_default_billing_addresses():
    user = UserFactory()
    AddressFactory(user=user, is_default_billing=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        AddressFactory(user=user, is_default_billing=True)


def test_list_only_shows_my_addresses(auth_client, user, other_user):
    mine = AddressFactory(user=user)
    AddressFactory(user=other_user)

    response = auth_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [item["id"] for item in body["results"]] == [str(mine.id)]
    assert set(body) == {"count", "next", "previous", "results"}


@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_another_users_address_is_404(other_client, user, method):
    address = AddressFactory(user=user, city="Lyon")

    response = getattr(other_client, method)(detail(address), {**PAYLOAD, "city": "Stolen"})

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    address.refresh_from_db()
    assert address.city == "Lyon"


def test_update_and_delete_my_address(auth_client, user):
    address = AddressFactory(user=user)

    updated = auth_client.put(detail(address), {**PAYLOAD, "city": "Lyon"})
    deleted = auth_client.delete(detail(address))

    assert updated.status_code == 200
    assert updated.json()["city"] == "Lyon"
    assert deleted.status_code == 204
    assert Address.objects.count() == 0


def test_addresses_need_authentication(api_client):
    assert api_client.get(URL).status_code == 401
    assert api_client.post(URL, PAYLOAD).status_code == 401


@pytest.mark.parametrize("size", [1, 5, 20])
def test_list_query_count_does_not_grow(auth_client, user, django_assert_max_num_queries, size):
    AddressFactory.create_batch(size, user=user)

    with django_assert_max_num_queries(3):  # user, count, page
        response = auth_client.get(URL, {"page_size": 20})

    assert len(response.json()["results"]) == size


def test_detail_query_count(auth_client, user, django_assert_max_num_queries):
    address = AddressFactory(user=user)

    with django_assert_max_num_queries(2):
        assert auth_client.get(detail(address)).status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_default_changes_leave_exactly_one_default():
    user = UserFactory()
    addresses = AddressFactory.create_batch(6, user=user)
    barrier = threading.Barrier(len(addresses))
    errors = []

    def make_default(address):
        try:
            barrier.wait()
            address_update(address=address, is_default_shipping=True)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=make_default, args=(address,)) for address in addresses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Address.objects.filter(user=user, is_default_shipping=True).count() == 1
