import pytest

from core.models import IdempotencyKey

pytestmark = [pytest.mark.django_db, pytest.mark.urls("core.tests.urls")]


def test_missing_key_is_400(auth_client):
    response = auth_client.post("/test/idempotent/", {"amount": "1.00"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "idempotency_key_missing"
    assert IdempotencyKey.objects.count() == 0


def test_same_key_same_body_replays_first_response(auth_client):
    first = auth_client.post("/test/idempotent/", {"amount": "1.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    second = auth_client.post("/test/idempotent/", {"amount": "1.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert IdempotencyKey.objects.get().status == IdempotencyKey.Status.COMPLETED


def test_same_key_other_body_is_422(auth_client):
    auth_client.post("/test/idempotent/", {"amount": "1.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k2")

    response = auth_client.post("/test/idempotent/", {"amount": "2.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k2")

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "idempotency_key_reused"


def test_key_still_running_is_409(auth_client, user, settings):
    settings.IDEMPOTENCY_WAIT_SECONDS = 0.1
    # Claim the key as if a first request were still running, with the fingerprint of this body.
    auth_client.post("/test/idempotent/", {"amount": "3.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k3")
    IdempotencyKey.objects.filter(key="k3").update(status=IdempotencyKey.Status.IN_PROGRESS)

    response = auth_client.post("/test/idempotent/", {"amount": "3.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k3")

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "idempotency_request_in_progress"


def test_keys_are_scoped_per_user(auth_client, other_client):
    mine = auth_client.post("/test/idempotent/", {"amount": "1.00"}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    theirs = other_client.post("/test/idempotent/", {"amount": "9.00"}, format="json", HTTP_IDEMPOTENCY_KEY="shared")

    assert mine.status_code == theirs.status_code == 201
    assert theirs.json()["amount"] == "9.00"
    assert "Idempotent-Replayed" not in theirs


def test_domain_error_is_stored_and_replayed(auth_client):
    first = auth_client.post("/test/idempotent/", {"amount": "-1.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k4")
    second = auth_client.post("/test/idempotent/", {"amount": "-1.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k4")

    assert first.status_code == second.status_code == 409
    assert (
        first.json()
        == second.json()
        == {
            "type": "client_error",
            "errors": [{"code": "negative_amount", "detail": "Negative amounts are refused.", "attr": "amount"}],
        }
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_key_sent_concurrently_runs_once_and_answers_identically(user):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection
    from rest_framework.test import APIClient

    from conftest import bearer_for
    from core.tests.urls import CALLS

    CALLS["count"] = 0
    header = bearer_for(user)

    def send(_):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        try:
            response = client.post("/test/idempotent/", {"amount": "5.00"}, format="json", HTTP_IDEMPOTENCY_KEY="race")
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(send, range(10)))

    assert CALLS["count"] == 1
    assert {status for status, _ in results} == {201}
    assert all(body == results[0][1] for _, body in results)


def test_an_abandoned_claim_does_not_block_the_key(auth_client, settings):
    """A worker killed mid-request never releases its claim; after the lease the key works again."""
    from datetime import timedelta

    from django.utils import timezone

    auth_client.post("/test/idempotent/", {"amount": "7.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k5")
    IdempotencyKey.objects.filter(key="k5").update(
        status=IdempotencyKey.Status.IN_PROGRESS,
        created_at=timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_LEASE_SECONDS + 1),
    )

    response = auth_client.post("/test/idempotent/", {"amount": "7.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k5")

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert IdempotencyKey.objects.get(key="k5").status == IdempotencyKey.Status.COMPLETED
