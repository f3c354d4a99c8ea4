from io import StringIO

import pytest
from django.urls import reverse

from account import seed as account_seed
from account.models import Address, PhoneOtp, User
from core.seeding import SeedContext

from .factories import AddressFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = User.objects.create_superuser(email="admin@example.com", password="admin-pass-123456")
    client.force_login(admin)
    return client


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:account_user_changelist",
        "admin:account_user_add",
        "admin:account_address_changelist",
        "admin:account_phoneotp_changelist",
        "admin:sms_smsmessage_changelist",
    ],
)
def test_admin_pages_render(admin_client, url_name):
    UserFactory(phone="+14155552671")
    AddressFactory()

    response = admin_client.get(reverse(url_name))

    assert response.status_code == 200


def test_admin_user_search_by_phone_and_change_page(admin_client):
    user = UserFactory(email="findme@example.com", phone="+14155552671")
    UserFactory(email="other@example.com")

    listing = admin_client.get(reverse("admin:account_user_changelist"), {"q": "+1415555"})
    change = admin_client.get(reverse("admin:account_user_change", args=[user.pk]))

    assert b"findme@example.com" in listing.content
    assert b"other@example.com" not in listing.content
    assert change.status_code == 200


def test_admin_can_add_a_user(admin_client):
    response = admin_client.post(
        reverse("admin:account_user_add"),
        {
            "email": "Added@Example.com",
            "password1": "a-long-unusual-passphrase",
            "password2": "a-long-unusual-passphrase",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302
    assert User.objects.get(email__iexact="added@example.com").check_password("a-long-unusual-passphrase")


def test_admin_anonymise_action_skips_staff(admin_client):
    customer = UserFactory(email="bye@example.com")
    staff = UserFactory(email="colleague@example.com", is_staff=True)

    admin_client.post(
        reverse("admin:account_user_changelist"),
        {"action": "anonymize_selected", "_selected_action": [customer.pk, staff.pk]},
    )

    customer.refresh_from_db()
    staff.refresh_from_db()
    assert (customer.email, customer.is_active) == (None, False)
    assert (staff.email, staff.is_active) == ("colleague@example.com", True)


def test_seed_creates_the_demo_users_idempotently(settings):
    settings.DEMO_USER_PASSWORD = "demo-pass-123456"
    settings.DEMO_STAFF_PASSWORD = ""
    out = StringIO()

    account_seed.seed(SeedContext(stdout=out))
    account_seed.seed(SeedContext(stdout=out))

    demo = User.objects.get(email="demo@example.com")
    staff = User.objects.get(email="staff@example.com")
    assert (demo.email_verified, demo.is_staff, demo.check_password("demo-pass-123456")) == (True, False, True)
    assert (staff.email_verified, staff.is_staff, staff.is_superuser) == (True, True, True)
    assert User.objects.count() == 2
    assert Address.objects.filter(user=demo, is_default_shipping=True).count() == 1
    text = out.getvalue()
    printed = text.split("created staff@example.com (password: ")[1].split(")")[0]
    assert staff.check_password(printed)
    assert "staff@example.com exists; password unchanged" in text


def test_phone_otp_admin_is_read_only(admin_client):
    otp = PhoneOtp.objects.create(
        phone="+14155552671", purpose="login", code_hash="x" * 64, expires_at="2030-01-01T00:00Z"
    )

    page = admin_client.get(reverse("admin:account_phoneotp_change", args=[otp.pk]))

    assert page.status_code == 200
    assert b"x" * 64 not in page.content
