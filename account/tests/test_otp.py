import re
from datetime import timedelta

import pytest
from django.utils import timezone

from account.models import PhoneOtp, User
from sms.models import SmsMessage

from .factories import UserFactory

pytestmark = pytest.mark.django_db

REQUEST = "/api/v1/authentication/otp/request/"
VERIFY = "/api/v1/authentication/otp/verify/"
PHONE = "+14155552671"


def request_code(client, commit, phone=PHONE, ip="10.2.0.1"):
    with commit():
        return client.post(REQUEST, {"phone": phone}, REMOTE_ADDR=ip)


def code_in(outbox) -> str:
    return re.match(r"(\d{6}) is your", outbox[-1].body).group(1)


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_request_texts_a_six_digit_code_stored_only_as_a_hash(api_client, commit, otp_flag, sms_outbox):
    response = request_code(api_client, commit, phone="+1 415-555-2671")

    assert response.status_code == 202
    assert response.json() == {"detail": "If this number can receive SMS, a code is on its way."}
    assert [sms.to for sms in sms_outbox] == [PHONE]
    code = code_in(sms_outbox)
    otp = PhoneOtp.objects.get()
    assert otp.phone == PHONE
    assert otp.purpose == "login"
    assert code not in otp.code_hash
    assert len(otp.code_hash) == 64
    assert timedelta(minutes=4, seconds=55) < otp.expires_at - otp.created_at <= timedelta(minutes=5)
    log = SmsMessage.objects.get()
    assert (log.purpose, log.status) == ("otp_login", "sent")
    assert code not in log.body  # masked in the log once sent
    assert "******" in log.body


def test_request_answers_the_same_for_known_and_unknown_numbers(api_client, commit, otp_flag):
    UserFactory(phone="+14155552671", phone_verified=True)

    known = request_code(api_client, commit, phone=PHONE)
    unknown = request_code(api_client, commit, phone="+33612345678")

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()


@pytest.mark.parametrize("phone", ["12345", "+1", "0612345678", "not a phone", "+44 7700 900123"])
def test_request_rejects_invalid_numbers(api_client, commit, otp_flag, sms_outbox, phone):
    response = request_code(api_client, commit, phone=phone)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_phone"
    assert response.json()["errors"][0]["attr"] == "phone"
    assert PhoneOtp.objects.count() == 0
    assert sms_outbox == []


@pytest.mark.parametrize("debug", [False, True])
def test_otp_endpoints_are_404_while_the_flag_is_off(api_client, sms_outbox, settings, debug):
    settings.DEBUG = debug  # the 404 keeps the API's error shape in local runs too
    responses = [
        api_client.post(REQUEST, {"phone": PHONE}),
        api_client.post(VERIFY, {"phone": PHONE, "code": "123456"}),
    ]

    for response in responses:
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "not_found"
    assert sms_outbox == []


def test_verify_creates_a_phone_verified_user_on_first_login(api_client, commit, otp_flag, sms_outbox):
    request_code(api_client, commit)

    response = api_client.post(VERIFY, {"phone": PHONE, "code": code_in(sms_outbox)})

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["user", "tokens"]
    user = User.objects.get()
    assert body["user"]["id"] == str(user.id)
    assert (user.phone, user.phone_verified, user.email) == (PHONE, True, None)
    assert user.has_usable_password() is False
    assert user.last_login is not None


def test_verify_logs_an_existing_user_in(api_client, commit, otp_flag, sms_outbox):
    existing = UserFactory(phone=PHONE, phone_verified=True)
    request_code(api_client, commit)

    response = api_client.post(VERIFY, {"phone": PHONE, "code": code_in(sms_outbox)})

    assert response.status_code == 200
    assert response.json()["user"]["id"] == str(existing.id)
    assert User.objects.count() == 1


def test_verify_refuses_a_deactivated_account(api_client, commit, otp_flag, sms_outbox):
    UserFactory(phone=PHONE, phone_verified=True, is_active=False)
    request_code(api_client, commit)

    response = api_client.post(VERIFY, {"phone": PHONE, "code": code_in(sms_outbox)})

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "account_disabled"


def test_wrong_code_is_400_otp_invalid_and_counts_an_attempt(api_client, commit, otp_flag, sms_outbox):
    request_code(api_client, commit)

    response = api_client.post(VERIFY, {"phone": PHONE, "code": other_code(code_in(sms_outbox))})

    assert response.status_code == 400
    assert response.json()["errors"] == [{"code": "otp_invalid", "detail": "This code is not valid.", "attr": "code"}]
    assert PhoneOtp.objects.get().attempts == 1
    assert User.objects.count() == 0


def test_used_code_is_400_otp_used(api_client, commit, otp_flag, sms_outbox):
    request_code(api_client, commit)
    code = code_in(sms_outbox)
    assert api_client.post(VERIFY, {"phone": PHONE, "code": code}).status_code == 200

    response = api_client.post(VERIFY, {"phone": PHONE, "code": code})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "otp_used"


def test_expired_code_is_400_otp_expired(api_client, commit, otp_flag, sms_outbox):
    request_code(api_client, commit)
    PhoneOtp.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = api_client.post(VERIFY, {"phone": PHONE, "code": code_in(sms_outbox)})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "otp_expired"
    assert User.objects.count() == 0


def test_five_wrong_attempts_burn_the_code(api_client, commit, otp_flag, sms_outbox):
    request_code(api_client, commit)
    code = code_in(sms_outbox)
    wrong = [
        api_client.post(VERIFY, {"phone": PHONE, "code": other_code(code)}).json()["errors"][0]["code"]
        for _ in range(5)
    ]

    response = api_client.post(VERIFY, {"phone": PHONE, "code": code})

    assert wrong == ["otp_invalid"] * 5
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "otp_attempts_exceeded"
    assert User.objects.count() == 0


def test_no_code_requested_is_otp_invalid(api_client, otp_flag):
    response = api_client.post(VERIFY, {"phone": PHONE, "code": "123456"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "otp_invalid"


def test_code_must_be_six_digits(api_client, otp_flag):
    response = api_client.post(VERIFY, {"phone": PHONE, "code": "12ab"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "code"


def test_only_the_newest_code_counts(api_client, commit, otp_flag, sms_outbox, clear_cache):
    request_code(api_client, commit)
    first = code_in(sms_outbox)
    clear_cache()  # past the one-per-minute limit
    request_code(api_client, commit)
    second = code_in(sms_outbox)
    if first == second:
        pytest.skip("two random codes happened to be equal")

    assert api_client.post(VERIFY, {"phone": PHONE, "code": first}).json()["errors"][0]["code"] == "otp_invalid"
    assert api_client.post(VERIFY, {"phone": PHONE, "code": second}).status_code == 200


def test_one_request_per_phone_per_minute(api_client, commit, otp_flag, sms_outbox):
    first = request_code(api_client, commit, ip="10.2.1.1")
    second = request_code(api_client, commit, ip="10.2.1.2")

    assert first.status_code == 202
    assert second.status_code == 429
    assert 0 < int(second["Retry-After"]) <= 60
    assert second.json()["errors"][0]["code"] == "otp_rate_limited"
    assert len(sms_outbox) == 1
    assert PhoneOtp.objects.count() == 1
    assert request_code(api_client, commit, phone="+33612345678", ip="10.2.1.3").status_code == 202


def test_five_requests_per_phone_per_hour(api_client, commit, otp_flag, sms_outbox, settings):
    settings.OTP_MAX_PER_PHONE_PER_MINUTE = 100
    codes = [request_code(api_client, commit, ip=f"10.2.2.{i}").status_code for i in range(6)]

    assert codes == [202] * 5 + [429]
    assert len(sms_outbox) == 5
    assert PhoneOtp.objects.count() == 5


def test_otp_requests_are_throttled_per_ip(api_client, commit, otp_flag, throttle_rates):
    throttle_rates(otp="2/hour")
    phones = ["+14155552671", "+33612345678", "+4915112345678"]

    codes = [request_code(api_client, commit, phone=phone, ip="10.2.3.1").status_code for phone in phones]

    assert codes == [202, 202, 429]
    assert PhoneOtp.objects.count() == 2
