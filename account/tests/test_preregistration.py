"""Pre-registration takeover: someone registers another person's address first. Whoever proves the
mailbox gets the account, with their own password, and every earlier session ends."""

import re

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from account.models import Address, PendingRegistration, User
from account.tokens import email_verification_token, tokens_for_user
from core.websocket_auth import _user_for_token

from .factories import AddressFactory, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/authentication/register/"
RESEND = "/api/v1/authentication/verify-email/resend/"
LOGIN = "/api/v1/authentication/login/"
REFRESH = "/api/v1/authentication/token/refresh/"
CHANGE = "/api/v1/authentication/password/change/"
ME = "/api/v1/account/me/"
ATTACKER_PASSWORD = "attacker-knows-this-one"
VICTIM_PASSWORD = "victim-own-passphrase-7"


def link_token(mail) -> str:
    return re.search(r"/verify-email/([^/\s]+)/", mail.body).group(1)


def register(client, commit, password, **names):
    with commit():
        response = client.post(REGISTER, {"email": "victim@example.com", "password": password, **names})
    assert response.status_code == 201


def login(client, password):
    return client.post(LOGIN, {"email": "victim@example.com", "password": password})


def test_the_victims_link_gives_the_account_the_victims_password(api_client, commit, mailoutbox):
    register(api_client, commit, ATTACKER_PASSWORD, first_name="Mallory")
    register(api_client, commit, VICTIM_PASSWORD, first_name="Vera", last_name="Owner")
    assert len(mailoutbox) == 2  # the second link is not swallowed by the per-address cooldown

    response = api_client.get(f"/api/v1/authentication/verify-email/{link_token(mailoutbox[1])}/")

    assert response.status_code == 200
    assert login(api_client, VICTIM_PASSWORD).status_code == 200
    attacker = login(api_client, ATTACKER_PASSWORD)
    assert attacker.status_code == 401
    assert attacker.json()["errors"][0]["code"] == "invalid_credentials"
    user = User.objects.get()
    assert (user.email_verified, user.first_name, user.last_name) == (True, "Vera", "Owner")
    assert PendingRegistration.objects.count() == 0


def test_verification_ends_every_session_issued_before_it(api_client, commit, mailoutbox):
    register(api_client, commit, ATTACKER_PASSWORD)
    attacker_tokens = tokens_for_user(User.objects.get())
    legacy_refresh = RefreshToken.for_user(User.objects.get())  # a token without the session claim
    register(api_client, commit, VICTIM_PASSWORD)

    api_client.get(f"/api/v1/authentication/verify-email/{link_token(mailoutbox[1])}/")

    me = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {attacker_tokens['access']}")
    assert me.status_code == 401
    assert me.json()["errors"][0]["code"] == "token_not_valid"
    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {legacy_refresh.access_token}").status_code == 401
    for refresh in (attacker_tokens["refresh"], str(legacy_refresh)):
        response = api_client.post(REFRESH, {"refresh": refresh})
        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == "token_not_valid"
    # Websockets refuse it too (the sync function: channels' wrapper would close the test's connection).
    user, _expires = _user_for_token.func(attacker_tokens["access"])
    assert user.is_authenticated is False
    fresh = login(api_client, VICTIM_PASSWORD).json()["tokens"]
    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {fresh['access']}").status_code == 200


def test_each_link_verifies_its_own_registration_and_the_others_are_then_used(api_client, commit, mailoutbox):
    register(api_client, commit, VICTIM_PASSWORD)
    register(api_client, commit, ATTACKER_PASSWORD)  # a later registration cannot kill the victim's link
    victims_link, attackers_link = (link_token(mail) for mail in mailoutbox)

    assert api_client.get(f"/api/v1/authentication/verify-email/{victims_link}/").status_code == 200
    older = api_client.get(f"/api/v1/authentication/verify-email/{attackers_link}/")

    assert older.status_code == 400
    assert older.json()["errors"][0]["code"] == "token_used"
    assert login(api_client, VICTIM_PASSWORD).status_code == 200
    assert login(api_client, ATTACKER_PASSWORD).status_code == 401


def test_verification_drops_the_profile_an_unproven_registration_set(api_client, commit, mailoutbox):
    register(api_client, commit, ATTACKER_PASSWORD, first_name="Mallory", last_name="Evil")
    squatted = User.objects.get()
    AddressFactory(user=squatted, line1="1 Attacker Road")
    User.objects.filter(pk=squatted.pk).update(
        marketing_opt_in=True, phone="+14155550100", pending_email="mallory@example.com"
    )
    register(api_client, commit, VICTIM_PASSWORD, first_name="Vera")

    api_client.get(f"/api/v1/authentication/verify-email/{link_token(mailoutbox[1])}/")

    user = User.objects.get(pk=squatted.pk)
    assert (user.first_name, user.last_name, user.marketing_opt_in) == ("Vera", "", False)
    assert (user.phone, user.pending_email) == (None, None)
    assert Address.objects.filter(user=user).count() == 0


def test_a_link_without_a_registration_does_not_verify_while_one_waits(api_client, commit, mailoutbox):
    register(api_client, commit, ATTACKER_PASSWORD)
    user = User.objects.get()
    plain = email_verification_token(user_id=user.pk, email="victim@example.com")  # the old link format

    response = api_client.get(f"/api/v1/authentication/verify-email/{plain}/")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "token_invalid"
    user.refresh_from_db()
    assert user.email_verified is False


def test_resend_sends_the_link_of_the_latest_registration(api_client, commit, mailoutbox, clear_cache):
    register(api_client, commit, ATTACKER_PASSWORD)
    register(api_client, commit, VICTIM_PASSWORD)
    clear_cache()
    with commit():
        api_client.post(RESEND, {"email": "victim@example.com"})

    api_client.get(f"/api/v1/authentication/verify-email/{link_token(mailoutbox[2])}/")

    assert login(api_client, VICTIM_PASSWORD).status_code == 200


def test_a_link_without_a_registration_still_verifies_an_account_made_before_them(api_client):
    user = UserFactory(email="legacy@example.com", email_verified=False)
    old_access = tokens_for_user(user)["access"]

    response = api_client.get(
        f"/api/v1/authentication/verify-email/{email_verification_token(user_id=user.pk, email=user.email)}/"
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email_verified is True
    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {old_access}").status_code == 401


def test_password_change_ends_the_other_access_tokens_at_once(auth_client, user, api_client):
    other_device = tokens_for_user(user)["access"]

    response = auth_client.post(CHANGE, {"current_password": "correct-horse-battery", "new_password": VICTIM_PASSWORD})

    assert response.status_code == 200
    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {other_device}").status_code == 401
    fresh = response.json()["tokens"]["access"]
    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {fresh}").status_code == 200


def test_anonymising_an_account_deletes_its_pending_registrations(api_client, commit, mailoutbox):
    from account.services import user_anonymize

    register(api_client, commit, ATTACKER_PASSWORD, first_name="Mallory")

    user_anonymize(user=User.objects.get())

    assert PendingRegistration.objects.count() == 0


def test_a_password_reset_voids_the_sign_ups_nobody_proved(api_client, commit, mailoutbox):
    from account.services import user_password_reset

    register(api_client, commit, ATTACKER_PASSWORD, first_name="Mallory")
    user_password_reset(user=User.objects.get(), new_password=VICTIM_PASSWORD)

    assert PendingRegistration.objects.count() == 0
    assert api_client.get(f"/api/v1/authentication/verify-email/{link_token(mailoutbox[0])}/").status_code == 400
    assert login(api_client, VICTIM_PASSWORD).status_code == 200


def test_expired_sign_ups_are_deleted_by_the_hourly_job(api_client, commit, settings):
    from datetime import timedelta

    from django.utils import timezone

    from account.tasks import delete_expired_registrations
    from ecommerce_api.schedule import BEAT_SCHEDULE

    register(api_client, commit, ATTACKER_PASSWORD)
    register(api_client, commit, VICTIM_PASSWORD)
    stale = PendingRegistration.objects.order_by("created_at").first()
    PendingRegistration.objects.filter(pk=stale.pk).update(
        created_at=timezone.now() - timedelta(hours=settings.EMAIL_VERIFICATION_MAX_AGE_HOURS, minutes=1)
    )

    assert delete_expired_registrations() == 1
    assert not PendingRegistration.objects.filter(pk=stale.pk).exists()
    assert PendingRegistration.objects.count() == 1
    assert BEAT_SCHEDULE["account-delete-expired-registrations"]["task"] == delete_expired_registrations.name
