"""The demo customer and the staff user of SPEC.md section 3 (idempotent)."""

from django.conf import settings

from core.seeding import random_password

from .models import Address, User

DEMO_EMAIL = "demo@example.com"
STAFF_EMAIL = "staff@example.com"


def _ensure_user(ctx, *, email: str, password_setting: str, **fields) -> User:
    password = getattr(settings, password_setting, "")
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(email=email)
        chosen = password or random_password()
        user.set_password(chosen)
        source = f"from {password_setting}" if password else f"password: {chosen}"
        ctx.say(f"created {email} ({source})")
    elif password:
        user.set_password(password)
        ctx.say(f"{email} exists; password set from {password_setting}")
    else:
        ctx.say(f"{email} exists; password unchanged (set {password_setting} to choose one)")
    for name, value in fields.items():
        setattr(user, name, value)
    user.save()
    return user


def seed(ctx) -> None:
    demo = _ensure_user(
        ctx,
        email=DEMO_EMAIL,
        password_setting="DEMO_USER_PASSWORD",
        first_name="Demo",
        last_name="Customer",
        email_verified=True,
        is_active=True,
    )
    staff = _ensure_user(
        ctx,
        email=STAFF_EMAIL,
        password_setting="DEMO_STAFF_PASSWORD",
        first_name="Shop",
        last_name="Staff",
        email_verified=True,
        is_active=True,
        is_staff=True,
        # The demo admin sees every screen without configuring groups first.
        is_superuser=True,
    )
    Address.objects.get_or_create(
        user=demo,
        line1="1 Market Street",
        defaults={
            "first_name": "Demo",
            "last_name": "Customer",
            "city": "San Francisco",
            "region": "CA",
            "postal_code": "94105",
            "country": "US",
            "phone": "+14155550123",
            "is_default_shipping": True,
            "is_default_billing": True,
        },
    )
    ctx.shared["demo_user"] = demo
    ctx.shared["staff_user"] = staff
