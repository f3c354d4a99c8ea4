import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from core.countries import validate_country_code
from core.models import TimeStampedModel, UUIDModel


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        # Email login is case-insensitive.
        return self.get(email__iexact=username)

    def _create_user(self, email, password, **extra_fields):
        # Phone-only accounts come from OTP login; everyone else logs in by email.
        if not email and not extra_fields.get("phone"):
            raise ValueError("An email address or a phone number is required.")
        email = self.normalize_email(email).lower() if email else None
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("email_verified", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff and is_superuser set.")
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A customer or a staff member. Email is the login; a phone (E.164) may log in by OTP.
    Users created by OTP login have no email until they complete their profile.

    A new email or phone waits in `pending_email` / `pending_phone` until it is verified, so the
    address the account logs in with never changes to one nobody has proven to own."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", max_length=254, unique=True, null=True, blank=True)
    email_verified = models.BooleanField(default=False)
    pending_email = models.EmailField(max_length=254, null=True, blank=True, help_text="Waiting for verification.")
    phone = models.CharField(max_length=16, null=True, blank=True, help_text="E.164, e.g. +14155550123")
    phone_verified = models.BooleanField(default=False)
    pending_phone = models.CharField(max_length=16, null=True, blank=True, help_text="Waiting for an SMS code.")
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    marketing_opt_in = models.BooleanField(default=False)
    sms_opt_in = models.BooleanField(default=False)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    anonymized_at = models.DateTimeField(null=True, blank=True)
    # Every JWT carries the value it was issued under; bumping it ends every session at once
    # (access tokens included), which a blacklist of refresh tokens alone cannot do.
    session_version = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
            models.UniqueConstraint(fields=["phone"], name="user_phone_unique"),
        ]
        ordering = ["-date_joined"]

    def __str__(self) -> str:
        return self.email or self.phone or str(self.id)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name


class Address(UUIDModel, TimeStampedModel):
    """A postal address in the customer's address book. At most one default shipping and one
    default billing address per user, enforced by partial unique indexes."""

    # What makes up the postal part: copied into order snapshots, exported, edited by customers.
    POSTAL_FIELDS = (
        "first_name",
        "last_name",
        "company",
        "line1",
        "line2",
        "city",
        "region",
        "postal_code",
        "country",
        "phone",
    )

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses")
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    company = models.CharField(max_length=200, blank=True)
    line1 = models.CharField("address line 1", max_length=255)
    line2 = models.CharField("address line 2", max_length=255, blank=True)
    city = models.CharField(max_length=120)
    region = models.CharField(max_length=120, blank=True, help_text="State, province or county.")
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, validators=[validate_country_code], help_text="ISO 3166-1 alpha-2.")
    phone = models.CharField(max_length=16, blank=True, help_text="E.164")
    is_default_shipping = models.BooleanField(default=False)
    is_default_billing = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_default_shipping=True), name="address_one_default_shipping_per_user"
            ),
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_default_billing=True), name="address_one_default_billing_per_user"
            ),
            models.CheckConstraint(condition=Q(country__regex=r"^[A-Z]{2}$"), name="address_country_is_alpha2"),
        ]
        indexes = [models.Index(fields=["user", "created_at"], name="address_user_created_idx")]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}, {self.line1}, {self.city} {self.country}"


class PhoneOtp(models.Model):
    """A one-time code sent by SMS. Only its keyed hash is stored; the newest code for a phone and
    purpose is the only one that counts."""

    class Purpose(models.TextChoices):
        LOGIN = "login", "Login"
        PHONE_VERIFY = "phone_verify", "Phone verification"

    phone = models.CharField(max_length=16)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    code_hash = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["phone", "purpose", "-created_at"], name="phoneotp_latest_idx")]
        verbose_name = "phone OTP"

    def __str__(self) -> str:
        return f"{self.purpose} code for {self.phone}"


class PendingRegistration(UUIDModel):
    """One `register/` call for an address whose account is not verified yet. Its id travels in the
    verification link, and the link that is clicked decides the account's password and names: whoever
    proves the mailbox owns the account, not whoever registered it first."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    password = models.CharField(max_length=128, help_text="A password hash, never the password.")
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"], name="pendingreg_user_created_idx")]

    def __str__(self) -> str:
        return f"registration of {self.user_id} at {self.created_at:%Y-%m-%d %H:%M}"


class AuthCounter(models.Model):
    """A fixed-window counter of the brute-force protection (account.ratelimit): failed logins per
    account and per IP, their lockouts, code requests per phone. In the database rather than the
    fail-open cache, so the limits hold while Redis is down. `key` is a hash of what was typed."""

    key = models.CharField(max_length=80, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    window_ends = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "account_authcounter"  # named in account.ratelimit's upsert

    def __str__(self) -> str:
        return f"{self.key}: {self.count} until {self.window_ends:%Y-%m-%d %H:%M:%S}"
