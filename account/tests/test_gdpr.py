"""Export, erasure hooks for other apps, and the retention purge."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.utils import timezone
from social_django.models import UserSocialAuth

from account import gdpr
from account.models import User
from account.services import user_anonymize, users_purge_inactive
from account.tasks import purge_inactive_users
from sms.models import SmsMessage

from .factories import AddressFactory, UserFactory

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/account/export/"


@pytest.fixture
def hooks():
    registered = []

    def register(kind, name, func):
        (gdpr.register_exporter if kind == "export" else gdpr.register_anonymizer)(name, func)
        registered.append(name)

    yield register
    for name in registered:
        gdpr.unregister(name)


def test_export_contains_profile_addresses_social_accounts_and_sms(auth_client, user):
    user.phone, user.phone_verified = "+14155552671", True
    user.save()
    address = AddressFactory(user=user, city="Lyon")
    AddressFactory(city="Elsewhere")  # another user's
    UserSocialAuth.objects.create(user=user, provider="google-oauth2", uid="g-1")
    SmsMessage.objects.create(to="+14155552671", body="Your order shipped", purpose="order_shipped", status="sent")
    SmsMessage.objects.create(to="+33612345678", body="Not yours", purpose="order_shipped")

    response = auth_client.get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="account-export-')
    body = response.json()
    # The account's own sections, then one per app that registered an exporter.
    assert set(body) == gdpr.ACCOUNT_SECTIONS | {name for name, _ in gdpr.exporters()}
    assert {"orders", "payments", "reviews", "wishlist", "chat", "cart"} <= set(body)
    assert body["profile"]["id"] == str(user.id)
    assert body["profile"]["email"] == "customer@example.com"
    assert body["profile"]["phone"] == "+14155552671"
    assert [item["id"] for item in body["addresses"]] == [str(address.id)]
    assert body["addresses"][0]["city"] == "Lyon"
    assert [(item["provider"], item["uid"]) for item in body["social_accounts"]] == [("google-oauth2", "g-1")]
    assert [item["body"] for item in body["sms_messages"]] == ["Your order shipped"]


def test_export_includes_sections_registered_by_other_apps(auth_client, user, hooks):
    hooks("export", "loyalty", lambda exported_user: [{"points": 1001, "user": str(exported_user.id)}])

    body = auth_client.get(EXPORT).json()

    assert body["loyalty"] == [{"points": 1001, "user": str(user.id)}]


def test_export_sections_cannot_collide():
    with pytest.raises(ImproperlyConfigured):
        gdpr.register_exporter("profile", lambda user: {})
    with pytest.raises(ImproperlyConfigured):
        gdpr.register_exporter("orders", lambda user: [])  # taken by the orders app


def test_export_needs_authentication(api_client):
    assert api_client.get(EXPORT).status_code == 401


@pytest.mark.parametrize("addresses", [1, 10])
def test_export_query_count_does_not_grow(auth_client, user, django_assert_max_num_queries, addresses):
    AddressFactory.create_batch(addresses, user=user)

    # 3 for the account's own sections and the caller, 1 for each other app's empty section (the
    # apps test their own sections with data at several sizes).
    with django_assert_max_num_queries(3 + len(gdpr.exporters())):
        auth_client.get(EXPORT)


def test_anonymizers_run_before_the_personal_data_is_cleared_and_only_once(hooks):
    seen = []
    hooks("anonymize", "loyalty", lambda user: seen.append(user.email))
    user = UserFactory(email="leaving@example.com")

    user_anonymize(user=user)
    user_anonymize(user=user)

    assert seen == ["leaving@example.com"]


def test_a_failing_anonymizer_aborts_the_erasure(hooks):
    def broken(user):
        raise RuntimeError("orders could not be scrubbed")

    hooks("anonymize", "broken", broken)
    user = UserFactory(email="leaving@example.com")
    AddressFactory(user=user)

    with pytest.raises(RuntimeError):
        user_anonymize(user=user)

    user.refresh_from_db()
    assert (user.email, user.is_active, user.addresses.count()) == ("leaving@example.com", True, 1)


# --- Retention purge ------------------------------------------------------------------------------


@pytest.fixture
def population(settings):
    settings.PERSONAL_DATA_RETENTION_DAYS = 365
    now = timezone.now()
    old = now - timedelta(days=400)
    recent = now - timedelta(days=10)
    return {
        "stale_login": UserFactory(email="stale@example.com", last_login=old, date_joined=old),
        "never_logged_in_old": UserFactory(email="ghost@example.com", last_login=None, date_joined=old),
        "active": UserFactory(email="active@example.com", last_login=recent, date_joined=old),
        "new_never_logged_in": UserFactory(email="new@example.com", last_login=None, date_joined=recent),
        "stale_staff": UserFactory(email="staff-old@example.com", is_staff=True, last_login=old, date_joined=old),
        "stale_superuser": UserFactory(
            email="root-old@example.com", is_superuser=True, last_login=old, date_joined=old
        ),
    }


def state(population):
    return {name: User.objects.get(pk=user.pk).anonymized_at is not None for name, user in population.items()}


def test_purge_anonymises_only_inactive_customers(population):
    purged = users_purge_inactive()

    assert {user.pk for user in purged} == {population["stale_login"].pk, population["never_logged_in_old"].pk}
    assert state(population) == {
        "stale_login": True,
        "never_logged_in_old": True,
        "active": False,
        "new_never_logged_in": False,
        "stale_staff": False,
        "stale_superuser": False,
    }
    stale = User.objects.get(pk=population["stale_login"].pk)
    assert (stale.email, stale.is_active) == (None, False)


def test_purge_command_dry_run_lists_and_changes_nothing(population):
    out = StringIO()

    call_command("purge_inactive_users", "--dry-run", stdout=out)

    text = out.getvalue()
    assert "would anonymise" in text
    assert "stale@example.com" in text and "ghost@example.com" in text
    assert "active@example.com" not in text and "staff-old@example.com" not in text
    assert "2 account(s) inactive for over 365 days would be anonymised." in text
    assert not any(state(population).values())


def test_purge_command_anonymises(population):
    out = StringIO()

    call_command("purge_inactive_users", stdout=out)

    assert "2 account(s) inactive for over 365 days anonymised." in out.getvalue()
    assert "stale@example.com" not in out.getvalue()  # nothing personal left to print
    assert sum(state(population).values()) == 2


def test_purge_beat_task_is_scheduled_and_runs(population):
    from ecommerce_api.schedule import BEAT_SCHEDULE

    assert BEAT_SCHEDULE["account-purge-inactive-users"]["task"] == purge_inactive_users.name

    assert purge_inactive_users.delay().get() == 2
    assert purge_inactive_users.delay().get() == 0  # already anonymised: nothing to do
