"""Reads of the account app."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from social_django.models import UserSocialAuth

from sms.selectors import sms_messages_for_phone

from . import gdpr
from .models import Address, User

PROFILE_FIELDS = (
    "id",
    "email",
    "pending_email",
    "email_verified",
    "phone",
    "pending_phone",
    "phone_verified",
    "first_name",
    "last_name",
    "marketing_opt_in",
    "sms_opt_in",
    "date_joined",
    "last_login",
)
ADDRESS_EXPORT_FIELDS = (
    "id",
    *Address.POSTAL_FIELDS,
    "is_default_shipping",
    "is_default_billing",
    "created_at",
    "updated_at",
)


def address_list_for_user(*, user: User) -> QuerySet[Address]:
    return Address.objects.filter(user=user).order_by("-created_at", "-pk")


def users_inactive_since(*, cutoff: datetime) -> QuerySet[User]:
    """Customers with no login since `cutoff` (or, never logged in, joined before it), not yet
    anonymised. Staff and superusers are never included."""
    return (
        User.objects.filter(is_staff=False, is_superuser=False, anonymized_at__isnull=True)
        .filter(Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff))
        .order_by("date_joined")
    )


def user_data_export(*, user: User) -> dict[str, Any]:
    """Everything we hold about the user, for the GDPR export: the account's own data, then one
    section per exporter other apps registered in account.gdpr."""
    phones = [phone for phone in (user.phone, user.pending_phone) if phone]
    data: dict[str, Any] = {
        "exported_at": timezone.now(),
        "profile": {name: getattr(user, name) for name in PROFILE_FIELDS},
        "addresses": list(address_list_for_user(user=user).values(*ADDRESS_EXPORT_FIELDS)),
        "social_accounts": list(
            UserSocialAuth.objects.filter(user=user).order_by("provider").values("provider", "uid", "created")
        ),
        "sms_messages": [
            message
            for phone in phones
            for message in sms_messages_for_phone(phone=phone).values("to", "purpose", "status", "body", "created_at")
        ],
    }
    for section, exporter in gdpr.exporters():
        data[section] = exporter(user)
    return data
