import re

import pytest
from rest_framework_simplejwt.tokens import RefreshToken
from social_django.models import UserSocialAuth

from account.models import Address, PhoneOtp, User
from account.tokens import email_verification_token
from conftest import bearer_for
from sms.models import SmsMessage

from .factories import AddressFactory, UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/account/me/"
PHONE_VERIFY = "/api/v1/account/me/phone/verify/"
PHONE = "+14155552671"


def code_in(outbox) -> str:
    return re.match(r"(\d{6}) is your", outbox[-1].body).group(1)


def test_get_me(auth_client, user):
    response = auth_client.get(ME)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(user.id)
    assert body["email"] == "customer@example.com"
    assert body["first_name"] == "Cam"
    assert body["is_staff"] is False


def test_patch_updates_profile_fields(auth_client, user):
    response = auth_client.patch(
        ME, {"first_name": "Camille", "last_name": "Doe", "marketing_opt_in": True, "sms_opt_in": True}
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.marketing_opt_in, user.sms_opt_in) == ("Camille", "Doe", True, True)
    assert response.json()["first_name"] == "Camille"


def test_staff_and_verification_flags_are_never_writable(auth_client, user):
    response = auth_client.patch(
        ME,
        {
            "is_staff": True,
            "is_superuser": True,
            "is_active": False,
            "email_verified": False,
            "phone_verified": True,
            "id": "00000000-0000-0000-0000-000000000000",
        },
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser, user.is_active, user.email_verified, user.phone_verified) == (
        False,
        False,
        True,
        True,
        False,
    )


def test_email_change_waits_for_verification(auth_client, user, commit, mailoutbox, api_client):
    with commit():
        response = auth_client.patch(ME, {"email": "New@Example.com"})

    assert response.status_code == 200
    assert response.json()["email"] == "customer@example.com"
    assert response.json()["pending_email"] == "new@example.com"
    assert sorted(mail.to[0] for mail in mailoutbox) == ["customer@example.com", "new@example.com"]
    notice = next(mail for mail in mailoutbox if mail.to == ["customer@example.com"])
    assert "new@example.com" in notice.body
    link = next(mail for mail in mailoutbox if mail.to == ["new@example.com"])
    token = re.search(r"/verify-email/([^/\s]+)/", link.body).group(1)

    assert api_client.get(f"/api/v1/authentication/verify-email/{token}/").status_code == 200

    user.refresh_from_db()
    assert (user.email, user.pending_email, user.email_verified) == ("new@example.com", None, True)


def test_email_change_to_a_taken_address_is_409(auth_client, user, other_user, mailoutbox):
    response = auth_client.patch(ME, {"email": "OTHER@example.com", "first_name": "Changed"})

    assert response.status_code == 409
    assert response.json()["errors"][0] == {
        "code": "email_taken",
        "detail": "Another account uses this email address.",
        "attr": "email",
    }
    user.refresh_from_db()
    assert (user.pending_email, user.first_name) == (None, "Cam")  # all or nothing


def test_pending_email_taken_meanwhile_is_409_at_verification(auth_client, user, api_client):
    auth_client.patch(ME, {"email": "race@example.com"})
    token = email_verification_token(user_id=user.pk, email="race@example.com")
    UserFactory(email="race@example.com")

    response = api_client.get(f"/api/v1/authentication/verify-email/{token}/")

    assert response.status_code == 409
    user.refresh_from_db()
    assert user.email == "customer@example.com"


def test_changing_back_to_the_current_email_cancels_the_pending_one(auth_client, user):
    auth_client.patch(ME, {"email": "new@example.com"})

    auth_client.patch(ME, {"email": "customer@example.com"})

    user.refresh_from_db()
    assert (user.email, user.pending_email) == ("customer@example.com", None)


def test_phone_change_texts_a_code_and_verification_makes_it_the_phone(auth_client, user, commit, sms_outbox):
    with commit():
        response = auth_client.patch(ME, {"phone": "+1 (415) 555-2671"})

    assert response.status_code == 200
    assert (response.json()["phone"], response.json()["pending_phone"]) == (None, PHONE)
    assert [sms.to for sms in sms_outbox] == [PHONE]
    assert SmsMessage.objects.get().purpose == "otp_phone_verify"

    verified = auth_client.post(PHONE_VERIFY, {"code": code_in(sms_outbox)})

    assert verified.status_code == 200
    user.refresh_from_db()
    assert (user.phone, user.pending_phone, user.phone_verified) == (PHONE, None, True)


def test_phone_change_shares_the_otp_limits(auth_client, user, commit, sms_outbox):
    with commit():
        first = auth_client.patch(ME, {"phone": PHONE})
        second = auth_client.patch(ME, {"phone": PHONE, "first_name": "Changed"})

    assert first.status_code == 200
    assert second.status_code == 429
    assert 0 < int(second["Retry-After"]) <= 60
    assert second.json()["errors"][0]["code"] == "otp_rate_limited"
    assert len(sms_outbox) == 1
    user.refresh_from_db()
    assert user.first_name == "Cam"


def test_phone_verification_with_a_wrong_code_keeps_the_old_state(auth_client, user, commit, sms_outbox):
    with commit():
        auth_client.patch(ME, {"phone": PHONE})
    wrong = f"{(int(code_in(sms_outbox)) + 1) % 1_000_000:06d}"

    response = auth_client.post(PHONE_VERIFY, {"code": wrong})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "otp_invalid"
    assert PhoneOtp.objects.get().attempts == 1
    user.refresh_from_db()
    assert (user.phone, user.pending_phone) == (None, PHONE)


def test_a_login_code_cannot_verify_a_phone(auth_client, user, api_client, commit, sms_outbox, otp_flag):
    with commit():
        auth_client.patch(ME, {"phone": PHONE})
    with commit():
        api_client.post("/api/v1/authentication/otp/request/", {"phone": "+33612345678"})

    response = auth_client.post(PHONE_VERIFY, {"code": code_in(sms_outbox)})

    assert response.status_code == 400
    user.refresh_from_db()
    assert user.phone is None


def test_phone_verify_without_a_pending_phone_is_400(auth_client):
    response = auth_client.post(PHONE_VERIFY, {"code": "123456"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "no_pending_phone"


def test_phone_taken_by_another_account_is_409_and_texts_nothing(auth_client, other_user, commit, sms_outbox):
    other_user.phone, other_user.phone_verified = PHONE, True
    other_user.save()

    with commit():
        response = auth_client.patch(ME, {"phone": PHONE})

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "phone_taken"
    assert sms_outbox == []


def test_invalid_phone_is_400(auth_client):
    response = auth_client.patch(ME, {"phone": "555"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_phone"


def test_phone_can_be_removed_when_the_account_has_an_email(auth_client, user):
    user.phone, user.phone_verified = PHONE, True
    user.save()

    response = auth_client.patch(ME, {"phone": None})

    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.phone, user.phone_verified) == (None, False)


def test_phone_only_account_cannot_remove_its_phone(api_client):
    phone_user = User.objects.create_user(phone=PHONE, phone_verified=True)
    api_client.credentials(HTTP_AUTHORIZATION=bearer_for(phone_user))

    response = api_client.patch(ME, {"phone": ""})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "contact_required"
    phone_user.refresh_from_db()
    assert phone_user.phone == PHONE


# --- DELETE me/ ------------------------------------------------------------------------------------


def test_delete_needs_the_right_password(auth_client, user):
    response = auth_client.delete(ME, {"password": "wrong"})

    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "code": "invalid_password",
        "detail": "The password is not correct.",
        "attr": "password",
    }
    user.refresh_from_db()
    assert (user.is_active, user.email, user.anonymized_at) == (True, "customer@example.com", None)


def test_delete_without_password_is_refused(auth_client, user):
    response = auth_client.delete(ME, {})

    assert response.status_code == 400
    user.refresh_from_db()
    assert user.is_active is True


def test_delete_anonymises_and_deactivates(auth_client, user, api_client):
    user.phone, user.phone_verified, user.last_name, user.marketing_opt_in = PHONE, True, "Doe", True
    user.save()
    AddressFactory(user=user)
    keep = AddressFactory()  # someone else's
    UserSocialAuth.objects.create(user=user, provider="google-oauth2", uid="g-1")
    SmsMessage.objects.create(to=PHONE, body="Your order shipped", purpose="order_shipped")
    refresh = RefreshToken.for_user(user)

    response = auth_client.delete(ME, {"password": "correct-horse-battery"})

    assert response.status_code == 204
    user.refresh_from_db()
    assert user.is_active is False
    assert user.anonymized_at is not None
    assert (user.email, user.phone, user.first_name, user.last_name) == (None, None, "", "")
    assert (user.marketing_opt_in, user.email_verified, user.phone_verified) == (False, False, False)
    assert user.has_usable_password() is False
    assert list(Address.objects.all()) == [keep]
    assert UserSocialAuth.objects.count() == 0
    assert SmsMessage.objects.get().to == ""
    assert auth_client.get(ME).status_code == 401
    assert api_client.post("/api/v1/authentication/token/refresh/", {"refresh": str(refresh)}).status_code == 401
    login = api_client.post(
        "/api/v1/authentication/login/", {"email": "customer@example.com", "password": "correct-horse-battery"}
    )
    assert login.status_code == 401


def test_phone_only_account_deletes_with_a_login_code(api_client, commit, sms_outbox, otp_flag, clear_cache):
    with commit():
        api_client.post("/api/v1/authentication/otp/request/", {"phone": PHONE})
    tokens = api_client.post(
        "/api/v1/authentication/otp/verify/", {"phone": PHONE, "code": code_in(sms_outbox)}
    ).json()["tokens"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api_client.delete(ME, {}).json()["errors"][0]["code"] == "reauthentication_required"
    api_client.credentials()
    clear_cache()  # past the one-code-per-minute limit
    with commit():
        api_client.post("/api/v1/authentication/otp/request/", {"phone": PHONE})
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    code = code_in(sms_outbox)
    wrong = api_client.delete(ME, {"code": f"{(int(code) + 1) % 1_000_000:06d}"})
    assert wrong.json()["errors"][0]["code"] == "otp_invalid"
    assert User.objects.get().is_active is True

    response = api_client.delete(ME, {"code": code})

    assert response.status_code == 204
    user = User.objects.get()
    assert (user.is_active, user.phone) == (False, None)
    assert PhoneOtp.objects.count() == 0
