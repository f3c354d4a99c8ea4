"""register/ and password/reset/ do the same work whether or not the address has an account, so
neither the answer nor the time it takes tells a stranger who is registered. Counted, not timed:
password hashes, queued jobs and queries per path."""

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .factories import UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/authentication/register/"
RESET = "/api/v1/authentication/password/reset/"


class CountingHasher(MD5PasswordHasher):
    encoded = 0

    def encode(self, password, salt):
        CountingHasher.encoded += 1
        return super().encode(password, salt)


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.encoded = 0
    return CountingHasher


def seed(state: str) -> None:
    if state == "verified":
        UserFactory(email="someone@example.com", email_verified=True)
    elif state == "unverified":
        UserFactory(email="someone@example.com", email_verified=False)
    elif state == "disabled":
        UserFactory(email="someone@example.com", is_active=False)


@pytest.mark.parametrize("state", ["unknown", "unverified", "verified"])
def test_register_hashes_once_and_queues_one_email_whoever_owns_the_address(
    api_client, django_capture_on_commit_callbacks, counting_hasher, state
):
    seed(state)
    counting_hasher.encoded = 0

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api_client.post(REGISTER, {"email": "someone@example.com", "password": "a-long-unusual-passphrase"})

    assert response.status_code == 201
    assert response.json() == {"detail": "Check your inbox: we sent a link to verify your email address."}
    assert counting_hasher.encoded == 1
    assert len(queued) == 1


def test_register_of_a_verified_address_twice_in_a_row_still_queues_an_email(
    api_client, django_capture_on_commit_callbacks
):
    seed("verified")
    api_client.post(REGISTER, {"email": "someone@example.com", "password": "a-long-unusual-passphrase"})

    with django_capture_on_commit_callbacks(execute=False) as queued:
        api_client.post(REGISTER, {"email": "someone@example.com", "password": "a-long-unusual-passphrase"})

    assert len(queued) == 1  # as for a new address: no per-address cooldown on this path


@pytest.mark.parametrize("state", ["unknown", "verified", "unverified", "disabled"])
def test_password_reset_request_does_the_same_work_for_any_address(
    api_client, django_capture_on_commit_callbacks, state
):
    seed(state)

    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=False) as queued:
        response = api_client.post(RESET, {"email": "someone@example.com"})

    assert response.status_code == 202
    assert response.json() == {"detail": "If an account uses this address, a password reset link is on its way."}
    assert len(queries) == 0  # the account is looked up by the worker, not while the client waits
    assert len(queued) == 1


@pytest.mark.parametrize(("state", "sent"), [("unknown", 0), ("verified", 1), ("unverified", 1), ("disabled", 0)])
def test_the_queued_reset_job_emails_only_an_active_account(api_client, commit, mailoutbox, state, sent):
    seed(state)

    with commit():
        api_client.post(RESET, {"email": "someone@example.com"})

    assert [mail.to for mail in mailoutbox] == [["someone@example.com"]] * sent
