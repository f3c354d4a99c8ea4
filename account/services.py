"""Writes and business rules of the account app: registration, login, verification, OTP, social
login, profile changes, addresses and GDPR erasure. No DRF here and no `request`."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import update_last_login
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from djoser.utils import encode_uid
from social_core.exceptions import AuthAssociationError, SocialAuthBaseException
from social_django.models import UserSocialAuth
from social_django.utils import load_backend, load_strategy

from core.jobs import enqueue_on_commit
from core.links import frontend_link
from core.tasks import send_email
from sms.services import sms_messages_anonymize, sms_queue

from . import gdpr, ratelimit, selectors
from .errors import (
    AccountDisabled,
    AccountHasOpenOrders,
    ContactRequired,
    EmailNotVerified,
    EmailTaken,
    InvalidCredentials,
    InvalidPassword,
    NoPendingPhone,
    OtpAttemptsExceeded,
    OtpExpired,
    OtpInvalid,
    OtpUsed,
    PhoneTaken,
    ProviderNotConfigured,
    ProviderNotFound,
    ProviderUnavailable,
    ReauthenticationRequired,
    SocialEmailUnverified,
    SocialTokenInvalid,
    VerificationTokenInvalid,
    VerificationTokenUsed,
)
from .models import Address, PendingRegistration, PhoneOtp, User
from .signals import user_email_confirmed
from .tokens import (
    email_verification_read,
    email_verification_token,
    refresh_token_rotate,
    tokens_for_user,
    user_refresh_tokens_revoke,
)

logger = logging.getLogger(__name__)

SOCIAL_PROVIDERS = ("google-oauth2", "facebook", "instagram")
# Refresh-token use counts as activity for the retention rule, recorded at most this often.
ACTIVITY_TOUCH_INTERVAL = timedelta(days=1)


@dataclass(frozen=True)
class LoginResult:
    user: User
    tokens: dict[str, str]


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _login(user: User) -> LoginResult:
    update_last_login(None, user)
    _email_confirmed(user)
    return LoginResult(user=user, tokens=tokens_for_user(user))


def _email_confirmed(user: User) -> None:
    """Tell the other apps the account's email is the user's (guest orders join the account).
    Nothing for an unverified email: whoever typed it has not shown it is theirs."""
    if user.email and user.email_verified:
        user_email_confirmed.send(sender=User, user=user)


# --- Emails ------------------------------------------------------------------------------------


def _queue_email(*, to: str, subject: str, template: str, context: dict[str, Any], cooldown: str | None = None) -> None:
    if cooldown and not ratelimit.auth_email_cooldown_claim(purpose=cooldown, email=to):
        return
    enqueue_on_commit(send_email, to=to, subject=subject, template=template, context=context)


def _queue_verification_email(
    *, user: User, email: str, registration: PendingRegistration | None = None, cooldown: str | None = "verify"
) -> None:
    token = email_verification_token(
        user_id=user.pk, email=email, registration_id=registration.pk if registration else None
    )
    _queue_email(
        to=email,
        subject=f"Confirm your email address for {settings.SHOP_NAME}",
        template="verify_email",
        context={
            "first_name": registration.first_name if registration else user.first_name,
            "email": email,
            "verify_url": frontend_link("verify_email", token=token),
            "expires_hours": settings.EMAIL_VERIFICATION_MAX_AGE_HOURS,
        },
        cooldown=cooldown,
    )


def _password_reset_url(user: User) -> str:
    return frontend_link("reset_password", uid=encode_uid(user.pk), token=default_token_generator.make_token(user))


def _queue_password_changed_email(user: User) -> None:
    if user.email:
        _queue_email(
            to=user.email,
            subject=f"Your {settings.SHOP_NAME} password was changed",
            template="password_changed",
            context={"first_name": user.first_name},
        )


# --- Registration and email verification -------------------------------------------------------


def _registration_latest(*, user: User) -> PendingRegistration | None:
    """For a resent link. Its row is kept as long as that new link lives."""
    registration = PendingRegistration.objects.filter(user=user).order_by("-created_at").first()
    if registration is not None:
        registration.created_at = timezone.now()
        registration.save(update_fields=["created_at"])
    return registration


def pending_registrations_delete_expired(*, now: datetime | None = None) -> int:
    """Registrations whose links have expired hold only a password hash and names nobody can claim."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.EMAIL_VERIFICATION_MAX_AGE_HOURS)
    deleted, _ = PendingRegistration.objects.filter(created_at__lte=cutoff).delete()
    return deleted


def _registration_record(*, user: User, password_hash: str, first_name: str, last_name: str) -> PendingRegistration:
    cutoff = timezone.now() - timedelta(hours=settings.EMAIL_VERIFICATION_MAX_AGE_HOURS)
    PendingRegistration.objects.filter(user=user, created_at__lte=cutoff).delete()  # their links have expired
    return PendingRegistration.objects.create(
        user=user, password=password_hash, first_name=first_name, last_name=last_name
    )


@transaction.atomic
def user_register(*, email: str, password: str, first_name: str = "", last_name: str = "") -> User | None:
    """Create an unverified account and email a verification link. For an address that already has
    an account nothing is overwritten and the address gets an email instead: "you already have an
    account" if verified, else a link for this registration (see user_email_verify), so the answer
    never tells a stranger the address is registered. Every path hashes the password once and queues
    one email (none for a disabled account), so the time taken tells nothing either.
    Returns the new user, or None when the address was taken."""
    email = normalize_email(email)
    password_hash = make_password(password)
    existing = User.objects.select_for_update().filter(email__iexact=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create(
                    email=email, password=password_hash, first_name=first_name, last_name=last_name
                )
        except IntegrityError:  # a concurrent registration of the same address won
            existing = User.objects.select_for_update().get(email__iexact=email)
        else:
            registration = _registration_record(
                user=user, password_hash=password_hash, first_name=first_name, last_name=last_name
            )
            _queue_verification_email(user=user, email=email, registration=registration, cooldown=None)
            return user
    if not existing.is_active:
        return None
    # No per-address cooldown on these emails: the register throttle bounds them, and a cooldown
    # would swallow the real owner's link right after someone else registered their address.
    if existing.email_verified:
        _queue_email(
            to=email,
            subject=f"You already have a {settings.SHOP_NAME} account",
            template="account_exists",
            context={"first_name": existing.first_name, "email": email, "reset_url": _password_reset_url(existing)},
        )
    else:
        registration = _registration_record(
            user=existing, password_hash=password_hash, first_name=first_name, last_name=last_name
        )
        _queue_verification_email(user=existing, email=email, registration=registration, cooldown=None)
    return None


def _registration_claim(*, user: User, registration: PendingRegistration) -> None:
    """The mailbox owner clicked the link of `registration`: the account becomes theirs. Whatever an
    earlier, unproven registration set goes: its password and names (replaced by this
    registration's), opt-ins, pending changes, an unverified phone, addresses, social links, sessions."""
    user.password = registration.password
    user.first_name, user.last_name = registration.first_name, registration.last_name
    user.email_verified = True
    user.marketing_opt_in = user.sms_opt_in = False
    user.pending_email = user.pending_phone = None
    if not user.phone_verified:
        user.phone = None
    user.save(
        update_fields=[
            "password",
            "first_name",
            "last_name",
            "email_verified",
            "marketing_opt_in",
            "sms_opt_in",
            "pending_email",
            "pending_phone",
            "phone",
        ]
    )
    Address.objects.filter(user=user).delete()
    UserSocialAuth.objects.filter(user=user).delete()
    PendingRegistration.objects.filter(user=user).delete()  # the other links now answer token_used
    user_refresh_tokens_revoke(user)  # access and refresh tokens issued before this click


@transaction.atomic
def user_email_verify(*, token: str) -> User:
    """Mark the address in a verification link as verified: the account's email (a sign-up: the
    account takes the password of the registration whose link this is, and every earlier session
    ends), or its pending new email, which then becomes the login email."""
    user_id, email, registration_id = email_verification_read(token)
    user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
    if user is None:
        raise VerificationTokenInvalid(attr="token")
    if user.pending_email and user.pending_email.lower() == email:
        if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
            raise EmailTaken(attr="email")
        user.email, user.pending_email, user.email_verified = email, None, True
        try:
            with transaction.atomic():
                user.save(update_fields=["email", "pending_email", "email_verified"])
        except IntegrityError:
            raise EmailTaken(attr="email")
        _email_confirmed(user)
        return user
    if user.email and user.email.lower() == email:
        if user.email_verified:
            raise VerificationTokenUsed(attr="token")
        if registration_id is not None:
            registration = PendingRegistration.objects.filter(pk=registration_id, user=user).first()
            if registration is None:  # pruned after its link expired
                raise VerificationTokenInvalid(attr="token")
            _registration_claim(user=user, registration=registration)
            _email_confirmed(user)
            return user
        # A link without a registration (accounts from before registrations were recorded, or made by
        # staff) keeps the current password, unless a registration is waiting: then only its link counts.
        if PendingRegistration.objects.filter(user=user).exists():
            raise VerificationTokenInvalid(attr="token")
        user.email_verified = True
        user.save(update_fields=["email_verified"])
        user_refresh_tokens_revoke(user)
        _email_confirmed(user)
        return user
    # The account's address changed after this link was sent.
    raise VerificationTokenInvalid(attr="token")


def user_verification_resend(*, email: str) -> None:
    """Send the link again to an unverified (or pending) address: for a sign-up, the link of the
    latest registration. Silent for anything else."""
    email = normalize_email(email)
    user = (
        User.objects.filter(is_active=True)
        .filter(Q(email__iexact=email, email_verified=False) | Q(pending_email__iexact=email))
        .order_by("-date_joined")
        .first()
    )
    if user is None:
        return
    registration = None
    if user.email and user.email.lower() == email and not user.email_verified:
        registration = _registration_latest(user=user)
    _queue_verification_email(user=user, email=email, registration=registration)


# --- Login, passwords, sessions ------------------------------------------------------------------


def auth_login(*, email: str, password: str, ip: str) -> LoginResult:
    """Email and password login with lockout after repeated failures (per account and per IP)."""
    email = normalize_email(email)
    ratelimit.login_lock_check(email=email, ip=ip)
    user = authenticate(None, email=email, password=password)
    if user is None:
        ratelimit.login_failure_record(email=email, ip=ip)
        raise InvalidCredentials()
    if not user.email_verified:
        raise EmailNotVerified()
    ratelimit.login_failures_clear(email=email)
    return _login(user)


def auth_token_refresh(*, refresh: str) -> dict[str, str]:
    """Rotate a refresh token (exactly one of concurrent uses wins, see refresh_token_rotate); using
    it counts as activity for the retention purge."""
    user, tokens = refresh_token_rotate(refresh=refresh)
    user_activity_touch(user_id=user.pk)
    return tokens


def user_activity_touch(*, user_id: str) -> None:
    """A refresh token was used: the customer is active, which the retention purge must know."""
    now = timezone.now()
    User.objects.filter(pk=user_id).filter(
        Q(last_login__isnull=True) | Q(last_login__lt=now - ACTIVITY_TOUCH_INTERVAL)
    ).update(last_login=now)


def password_reset_request(*, email: str) -> None:
    """Queue the reset email for any address. The same work whatever the address (one cooldown claim,
    one queued task, no query): the worker looks the account up (password_reset_email_send), so the
    answer's timing does not tell whether the address has an account."""
    from .tasks import send_password_reset_email

    email = normalize_email(email)
    if ratelimit.auth_email_cooldown_claim(purpose="reset", email=email):
        enqueue_on_commit(send_password_reset_email, email=email)


def password_reset_email_send(*, email: str) -> bool:
    """Email a reset link (djoser's uid + Django's token) to an active account. Silent otherwise."""
    user = User.objects.filter(email__iexact=normalize_email(email), is_active=True).first()
    if user is None:
        return False
    _queue_email(
        to=user.email,
        subject=f"Reset your {settings.SHOP_NAME} password",
        template="password_reset",
        context={
            "first_name": user.first_name,
            "reset_url": _password_reset_url(user),
            "expires_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
        },
    )
    return True


@transaction.atomic
def user_password_reset(*, user: User, new_password: str) -> None:
    """Set the password from a checked reset link; every session ends."""
    user.set_password(new_password)
    user.email_verified = True  # the link reached this inbox
    user.save(update_fields=["password", "email_verified"])
    _email_confirmed(user)
    PendingRegistration.objects.filter(user=user).delete()  # unproven sign-ups: their links are void now
    user_refresh_tokens_revoke(user)
    ratelimit.login_failures_clear(email=user.email or "")
    _queue_password_changed_email(user)


@transaction.atomic
def user_password_change(*, user: User, new_password: str) -> LoginResult:
    """Change the password (the current one was checked by the caller); other sessions end and this
    client gets a fresh token pair."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
    user_refresh_tokens_revoke(user)
    _queue_password_changed_email(user)
    return _login(user)


# --- One-time codes by SMS ---------------------------------------------------------------------


def _otp_hash(*, phone: str, purpose: str, code: str) -> str:
    # Keyed with SECRET_KEY: six digits are too few to survive an offline guess of a plain hash.
    return salted_hmac("account.otp", f"{phone}:{purpose}:{code}", algorithm="sha256").hexdigest()


def otp_request(*, phone: str, purpose: str = PhoneOtp.Purpose.LOGIN, user: User | None = None) -> None:
    """Text a 6-digit code to `phone` (E.164). Limited per phone; only the newest code counts."""
    ratelimit.otp_request_count(phone=phone)
    code = f"{secrets.randbelow(1_000_000):06d}"
    minutes = max(1, settings.OTP_CODE_TTL_SECONDS // 60)
    with transaction.atomic():
        PhoneOtp.objects.create(
            phone=phone,
            purpose=purpose,
            user=user,
            code_hash=_otp_hash(phone=phone, purpose=purpose, code=code),
            expires_at=timezone.now() + timedelta(seconds=settings.OTP_CODE_TTL_SECONDS),
        )
        sms_queue(
            to=phone,
            body=f"{code} is your {settings.SHOP_NAME} code. It expires in {minutes} minutes. Never share it.",
            purpose=f"otp_{purpose}",
            sensitive=True,
        )


def _otp_consume(*, phone: str, purpose: str, code: str, user: User | None = None) -> None:
    """Check `code` against the newest code for the phone and spend it, or raise. A wrong guess is
    committed before the error is raised, so attempts really run out."""
    failure: Exception | None = None
    now = timezone.now()
    with transaction.atomic():
        candidates = PhoneOtp.objects.select_for_update().filter(phone=phone, purpose=purpose)
        if user is not None:
            candidates = candidates.filter(user=user)
        otp = candidates.order_by("-created_at", "-pk").first()
        if otp is None:
            failure = OtpInvalid(attr="code")
        elif otp.used_at is not None:
            failure = OtpUsed(attr="code")
        elif otp.expires_at <= now:
            failure = OtpExpired(attr="code")
        elif otp.attempts >= settings.OTP_MAX_ATTEMPTS:
            failure = OtpAttemptsExceeded(attr="code")
        elif not hmac.compare_digest(otp.code_hash, _otp_hash(phone=phone, purpose=purpose, code=code)):
            otp.attempts += 1
            otp.save(update_fields=["attempts"])
            failure = OtpInvalid(attr="code")
        else:
            otp.used_at = now
            otp.save(update_fields=["used_at"])
    if failure is not None:
        raise failure


def otp_login(*, phone: str, code: str) -> LoginResult:
    """Log in with a code texted to `phone`. The first login creates the account (phone verified,
    no email or password yet)."""
    _otp_consume(phone=phone, purpose=PhoneOtp.Purpose.LOGIN, code=code)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(phone=phone).first()
        if user is None:
            try:
                with transaction.atomic():
                    user = User.objects.create_user(phone=phone, phone_verified=True)
            except IntegrityError:  # the same phone's first login, twice at once
                user = User.objects.get(phone=phone)
        if not user.is_active:
            raise AccountDisabled()
        if not user.phone_verified:
            user.phone_verified = True
            user.save(update_fields=["phone_verified"])
    return _login(user)


def user_phone_verify(*, user: User, code: str) -> User:
    """Confirm the pending phone with the code texted to it; it becomes the account's phone."""
    phone = User.objects.filter(pk=user.pk).values_list("pending_phone", flat=True).first()
    if not phone:
        raise NoPendingPhone(attr="code")
    # Spent outside the transaction below, so a wrong guess stays counted.
    _otp_consume(phone=phone, purpose=PhoneOtp.Purpose.PHONE_VERIFY, code=code, user=user)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.pending_phone != phone:
            raise NoPendingPhone(attr="code")
        if User.objects.filter(phone=phone).exclude(pk=user.pk).exists():
            raise PhoneTaken(attr="phone")
        user.phone, user.pending_phone, user.phone_verified = phone, None, True
        user.save(update_fields=["phone", "pending_phone", "phone_verified"])
    return user


# --- Profile -----------------------------------------------------------------------------------


@transaction.atomic
def user_profile_update(*, user: User, changes: Mapping[str, Any]) -> User:
    """Apply profile changes. A new email or phone is only pending until verified (link by email,
    code by SMS); the current one keeps working meanwhile. Only profile fields are accepted: staff
    and verification flags never change here."""
    user = User.objects.select_for_update().get(pk=user.pk)
    plain_fields = [name for name in ("first_name", "last_name", "marketing_opt_in", "sms_opt_in") if name in changes]
    for name in plain_fields:
        setattr(user, name, changes[name])
    if plain_fields:
        user.save(update_fields=plain_fields)
    if "email" in changes:
        _email_change_request(user=user, email=changes["email"])
    if "phone" in changes:
        _phone_change_request(user=user, phone=changes["phone"])
    return user


def _email_change_request(*, user: User, email: str) -> None:
    email = normalize_email(email)
    if user.email and user.email.lower() == email:
        if user.pending_email:  # changing back to the current address cancels the change
            user.pending_email = None
            user.save(update_fields=["pending_email"])
        return
    if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
        raise EmailTaken(attr="email")
    user.pending_email = email
    user.save(update_fields=["pending_email"])
    _queue_verification_email(user=user, email=email)
    if user.email and user.email_verified:
        _queue_email(
            to=user.email,
            subject=f"Email change requested for your {settings.SHOP_NAME} account",
            template="email_change_requested",
            context={"first_name": user.first_name, "new_email": email},
        )


def _phone_change_request(*, user: User, phone: str | None) -> None:
    if not phone:  # removing the phone
        if not user.email:
            raise ContactRequired(attr="phone")
        user.phone, user.pending_phone, user.phone_verified = None, None, False
        user.save(update_fields=["phone", "pending_phone", "phone_verified"])
        return
    if phone == user.phone and user.phone_verified:
        if user.pending_phone:
            user.pending_phone = None
            user.save(update_fields=["pending_phone"])
        return
    if User.objects.filter(phone=phone).exclude(pk=user.pk).exists():
        raise PhoneTaken(attr="phone")
    otp_request(phone=phone, purpose=PhoneOtp.Purpose.PHONE_VERIFY, user=user)
    user.pending_phone = phone
    user.save(update_fields=["pending_phone"])


# --- Addresses ---------------------------------------------------------------------------------

ADDRESS_FIELDS = (*Address.POSTAL_FIELDS, "is_default_shipping", "is_default_billing")


def _lock_address_book(user: User) -> None:
    # One lock per user serialises default changes, so two concurrent "make default" requests
    # queue up instead of colliding on the partial unique indexes.
    User.objects.select_for_update().filter(pk=user.pk).first()


def _unset_other_defaults(address: Address, fields: list[str]) -> None:
    for flag in fields:
        Address.objects.filter(user_id=address.user_id, **{flag: True}).exclude(pk=address.pk).update(
            **{flag: False, "updated_at": timezone.now()}
        )


@transaction.atomic
def address_create(*, user: User, **fields: Any) -> Address:
    """Add an address. The first one becomes the default shipping and billing address; a new default
    replaces the old one in the same transaction."""
    _lock_address_book(user)
    data = {name: fields[name] for name in ADDRESS_FIELDS if name in fields}
    if not Address.objects.filter(user=user).exists():
        data.setdefault("is_default_shipping", True)
        data.setdefault("is_default_billing", True)
    address = Address(user=user, **data)
    address.full_clean(exclude=["user"])
    new_defaults = [flag for flag in ("is_default_shipping", "is_default_billing") if getattr(address, flag)]
    _unset_other_defaults(address, new_defaults)
    address.save()
    return address


@transaction.atomic
def address_update(*, address: Address, **fields: Any) -> Address:
    _lock_address_book(address.user)
    address = Address.objects.select_for_update().get(pk=address.pk)
    for name in ADDRESS_FIELDS:
        if name in fields:
            setattr(address, name, fields[name])
    address.full_clean(exclude=["user"])
    _unset_other_defaults(address, [flag for flag in ("is_default_shipping", "is_default_billing") if fields.get(flag)])
    address.save()
    return address


@transaction.atomic
def address_delete(*, address: Address) -> None:
    _lock_address_book(address.user)
    address.delete()


# --- Social login --------------------------------------------------------------------------------


def social_login(*, provider: str, access_token: str) -> LoginResult:
    """Log in with an access token the client got from the provider (social-auth's do_auth reads the
    profile from the provider's API, then our pipeline in account.social finds or creates the user)."""
    if provider not in SOCIAL_PROVIDERS:
        raise ProviderNotFound()
    backend = load_backend(load_strategy(), provider, redirect_uri=None)
    key, secret = backend.get_key_and_secret()
    if not key or not secret:
        raise ProviderNotConfigured(attr="provider")
    try:
        with transaction.atomic():
            user = backend.do_auth(access_token)
    except SocialAuthBaseException as exc:
        raise _social_error(exc)
    if user is None:
        raise SocialTokenInvalid(attr="access_token")
    if not user.is_active:
        raise AccountDisabled()
    return _login(user)


def _social_error(exc: SocialAuthBaseException) -> Exception:
    if exc.recovery == "retry_later":
        return ProviderUnavailable()
    if exc.claim == "email_verified":
        return SocialEmailUnverified(attr="access_token")
    if isinstance(exc, AuthAssociationError):
        return EmailTaken(str(exc), attr="access_token")
    return SocialTokenInvalid(attr="access_token")


@transaction.atomic
def user_create_from_social(
    *, email: str | None, email_verified: bool, first_name: str = "", last_name: str = ""
) -> User:
    """A first social login. A provider-verified email becomes the login email; an unconfirmed one
    waits in pending_email until our own verification link is clicked."""
    user = User(first_name=first_name[:150], last_name=last_name[:150])
    if email and email_verified:
        user.email, user.email_verified = email, True
    elif email:
        user.pending_email = email
    user.set_unusable_password()
    user.save()
    if user.pending_email:
        _queue_verification_email(user=user, email=email)
    return user


@transaction.atomic
def user_link_verified_social_email(*, user: User) -> User:
    """Link a social login to an existing account because the provider verified its email. If our
    account had not verified that address, whoever registered it did not prove they own it: their
    password is dropped so they cannot keep a way into the real owner's account."""
    if not user.email_verified:
        user.email_verified = True
        user.set_unusable_password()
        user.save(update_fields=["email_verified", "password"])
        PendingRegistration.objects.filter(user=user).delete()
        user_refresh_tokens_revoke(user)
    return user


# --- GDPR ------------------------------------------------------------------------------------------


def user_delete_self(*, user: User, password: str | None = None, code: str | None = None) -> User:
    """Close one's own account after re-authentication: the password, or for an account without one,
    a login code texted to its verified phone."""
    if user.has_usable_password():
        if not password or not user.check_password(password):
            raise InvalidPassword(attr="password")
    elif user.phone and user.phone_verified and code:
        _otp_consume(phone=user.phone, purpose=PhoneOtp.Purpose.LOGIN, code=code)
    else:
        raise ReauthenticationRequired()
    return user_anonymize(user=user, reason="deleted by the user")


@transaction.atomic
def user_anonymize(*, user: User, reason: str = "") -> User:
    """Erase the personal data of an account and deactivate it. The row stays, so what other apps
    keep for the law (orders, invoices) still points at it; apps scrub their own copies through
    anonymizers registered in account.gdpr. Safe to run twice. Refused (AccountHasOpenOrders from
    the orders app's erasure check) while an order still needs the personal data."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.anonymized_at is not None:
        return user
    # Under the row lock: a checkout locks this row too, so no order can open between the check
    # and the erasure (orders.services.order_place).
    for _name, check in gdpr.erasure_checks():
        check(user)
    for _name, anonymizer in gdpr.anonymizers():
        anonymizer(user)
    phones = {phone for phone in (user.phone, user.pending_phone) if phone}
    for phone in phones:
        sms_messages_anonymize(phone=phone)
    PhoneOtp.objects.filter(Q(user=user) | Q(phone__in=phones)).delete()
    Address.objects.filter(user=user).delete()
    UserSocialAuth.objects.filter(user=user).delete()
    PendingRegistration.objects.filter(user=user).delete()  # names and password hashes
    user_refresh_tokens_revoke(user)
    user.email = user.pending_email = user.phone = user.pending_phone = None
    user.email_verified = user.phone_verified = False
    user.first_name = user.last_name = ""
    user.marketing_opt_in = user.sms_opt_in = False
    user.is_active = False
    user.set_unusable_password()
    user.anonymized_at = timezone.now()
    user.save()
    logger.info("Account %s anonymised: %s", user.pk, reason or "no reason given")
    return user


def users_purge_inactive(*, dry_run: bool = False, now: datetime | None = None) -> list[User]:
    """Anonymise customers inactive for PERSONAL_DATA_RETENTION_DAYS (no login since then, or never
    logged in and joined before then). Staff are never purged. Each account is its own
    transaction, so one failure does not hold back the rest; an account with open orders is skipped
    (logged) until a later run finds them closed. Returns the accounts anonymised (the dry run: the
    candidates)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS)
    candidates = list(selectors.users_inactive_since(cutoff=cutoff))
    if dry_run:
        return candidates
    purged = []
    for user in candidates:
        try:
            purged.append(user_anonymize(user=user, reason="retention period over"))
        except AccountHasOpenOrders as refused:
            # Tried again on the next run: the account stays inactive, and the order will close.
            logger.info("Account %s not anonymised: %s", user.pk, refused.detail)
        except Exception:
            logger.exception("Could not anonymise account %s", user.pk)
    return purged


def otp_codes_delete_expired(*, older_than: timedelta = timedelta(days=1)) -> int:
    deleted, _ = PhoneOtp.objects.filter(expires_at__lt=timezone.now() - older_than).delete()
    return deleted
