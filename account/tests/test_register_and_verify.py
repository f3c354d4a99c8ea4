import re
import time

import pytest
from django.core import signing

from account.models import User
from account.tokens import EMAIL_VERIFICATION_SALT, email_verification_token

from .factories import UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/authentication/register/"
RESEND = "/api/v1/authentication/verify-email/resend/"


def verify_url(token: str) -> str:
    return f"/api/v1/authentication/verify-email/{token}/"


def token_from(mail) -> str:
    match = re.search(r"/verify-email/([^/\s]+)/", mail.body)
    assert match, mail.body
    return match.group(1)


def test_register_creates_an_unverified_user_and_emails_a_link(api_client, commit, mailoutbox):
    with commit():
        response = api_client.post(
            REGISTER,
            {"email": "New.Person@Example.com", "password": "a-long-unusual-passphrase", "first_name": "Nia"},
        )

    assert response.status_code == 201
    assert response.json() == {"detail": "Check your inbox: we sent a link to verify your email address."}
    user = User.objects.get()
    assert user.email == "new.person@example.com"
    assert user.first_name == "Nia"
    assert user.email_verified is False
    assert user.check_password("a-long-unusual-passphrase")
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["new.person@example.com"]
    assert mail.subject == "Confirm your email address for E-commerce Shop"
    assert "http://127.0.0.1:8000/account/verify-email/" in mail.body  # the built-in page (core.links)
    html = mail.alternatives[0]
    assert html[1] == "text/html"
    assert token_from(mail) in html[0]


def test_register_sends_nothing_before_the_transaction_commits(
    api_client, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        api_client.post(REGISTER, {"email": "x@example.com", "password": "a-long-unusual-passphrase"})

    assert len(callbacks) == 1
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("password", "message_part"),
    [
        ("short1", "too short"),
        ("password123", "too common"),
        ("83749265018", "entirely numeric"),
        ("jane.doe.example", "too similar"),
    ],
)
def test_register_applies_password_validators(api_client, mailoutbox, password, message_part):
    response = api_client.post(REGISTER, {"email": "jane.doe@example.com", "password": password})

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert {error["attr"] for error in body["errors"]} == {"password"}
    assert any(message_part in error["detail"] for error in body["errors"])
    assert User.objects.count() == 0
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"password": "a-long-unusual-passphrase"}, "email"),
        ({"email": "not-an-email", "password": "a-long-unusual-passphrase"}, "email"),
        ({"email": "a@example.com"}, "password"),
    ],
)
def test_register_rejects_missing_or_invalid_fields(api_client, payload, attr):
    response = api_client.post(REGISTER, payload)

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == attr
    assert User.objects.count() == 0


def test_register_with_a_taken_email_answers_the_same_and_warns_the_owner(api_client, commit, mailoutbox, customer):
    with commit():
        response = api_client.post(REGISTER, {"email": "JANE@example.com", "password": "another-long-passphrase"})

    assert response.status_code == 201
    assert response.json() == {"detail": "Check your inbox: we sent a link to verify your email address."}
    assert User.objects.count() == 1
    customer.refresh_from_db()
    assert customer.check_password("correct-horse-battery")  # never overwritten
    assert [mail.subject for mail in mailoutbox] == ["You already have a E-commerce Shop account"]
    assert "http://127.0.0.1:8000/account/reset-password/?uid=" in mailoutbox[0].body


def test_register_again_while_unverified_resends_the_link(api_client, commit, mailoutbox):
    UserFactory(email="slow@example.com", email_verified=False)

    with commit():
        response = api_client.post(REGISTER, {"email": "slow@example.com", "password": "another-long-passphrase"})

    assert response.status_code == 201
    assert [mail.subject for mail in mailoutbox] == ["Confirm your email address for E-commerce Shop"]


def test_register_is_throttled_per_ip(api_client, throttle_rates):
    throttle_rates(register="2/hour")
    codes = [
        api_client.post(REGISTER, {"email": f"p{i}@example.com", "password": "a-long-unusual-passphrase"}).status_code
        for i in range(3)
    ]

    assert codes == [201, 201, 429]
    assert User.objects.count() == 2


def test_verify_email_marks_the_address_verified(api_client, commit, mailoutbox):
    with commit():
        api_client.post(REGISTER, {"email": "v@example.com", "password": "a-long-unusual-passphrase"})
    token = token_from(mailoutbox[0])

    response = api_client.get(verify_url(token))

    assert response.status_code == 200
    assert response.json() == {"detail": "Email verified."}
    assert User.objects.get().email_verified is True


def test_verify_email_token_is_single_use(api_client):
    user = UserFactory(email_verified=False)
    token = email_verification_token(user_id=user.pk, email=user.email)
    assert api_client.get(verify_url(token)).status_code == 200

    response = api_client.get(verify_url(token))

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "token_used", "detail": "This verification link has already been used.", "attr": "token"}
    ]


def test_verify_email_token_expires(api_client, settings):
    user = UserFactory(email_verified=False)

    class SignedTwoDaysAgo(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - settings.EMAIL_VERIFICATION_MAX_AGE_HOURS * 3600 - 60)

    token = SignedTwoDaysAgo(salt=EMAIL_VERIFICATION_SALT).sign_object(
        {"u": str(user.pk), "e": user.email}, compress=True
    )

    response = api_client.get(verify_url(token))

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "token_expired"
    user.refresh_from_db()
    assert user.email_verified is False


@pytest.mark.parametrize("tamper", ["garbage", "signed-with-another-salt", "flipped-character"])
def test_verify_email_rejects_forged_tokens(api_client, tamper):
    user = UserFactory(email_verified=False)
    good = email_verification_token(user_id=user.pk, email=user.email)
    token = {
        "garbage": "not-a-token",
        "signed-with-another-salt": signing.dumps({"u": str(user.pk), "e": user.email}, salt="other"),
        "flipped-character": good[:-1] + ("A" if good[-1] != "A" else "B"),
    }[tamper]

    response = api_client.get(verify_url(token))

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "token_invalid"
    user.refresh_from_db()
    assert user.email_verified is False


def test_verify_email_token_for_an_old_address_is_refused(api_client):
    user = UserFactory(email="old@example.com", email_verified=False)
    token = email_verification_token(user_id=user.pk, email="old@example.com")
    User.objects.filter(pk=user.pk).update(email="new@example.com")

    response = api_client.get(verify_url(token))

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "token_invalid"


def test_resend_answers_the_same_for_unknown_verified_and_unverified_addresses(api_client, commit, mailoutbox):
    UserFactory(email="pending@example.com", email_verified=False)
    UserFactory(email="done@example.com", email_verified=True)

    with commit():
        answers = [
            api_client.post(RESEND, {"email": email})
            for email in ("nobody@example.com", "done@example.com", "PENDING@example.com")
        ]

    assert {response.status_code for response in answers} == {202}
    assert len({response.content for response in answers}) == 1
    assert [mail.to for mail in mailoutbox] == [["pending@example.com"]]


def test_resend_sends_at_most_one_email_per_cooldown(api_client, commit, mailoutbox, clear_cache):
    UserFactory(email="pending@example.com", email_verified=False)

    with commit():
        first = api_client.post(RESEND, {"email": "pending@example.com"})
        second = api_client.post(RESEND, {"email": "pending@example.com"})

    assert first.status_code == second.status_code == 202
    assert len(mailoutbox) == 1
    clear_cache()
    with commit():
        api_client.post(RESEND, {"email": "pending@example.com"})
    assert len(mailoutbox) == 2
