from django.core.exceptions import ValidationError as DjangoValidationError
from djoser import serializers as djoser_serializers
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from account.models import Address, User
from core.countries import ISO_COUNTRY_CODES
from sms.errors import InvalidPhoneNumber
from sms.phones import phone_to_e164


class PhoneNumberField(serializers.CharField):
    # Accepts what people type, returns E.164.

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("help_text", "International format, e.g. +14155550123; stored as E.164.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not value:
            return value
        try:
            return phone_to_e164(value)
        except InvalidPhoneNumber as exc:
            raise serializers.ValidationError(exc.detail, code=exc.code)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField(read_only=True)


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = [
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
            "is_staff",
            "date_joined",
        ]
        read_only_fields = fields


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True, help_text="JWT access token, sent as `Bearer <t>` or `Token <t>`.")
    refresh = serializers.CharField(read_only=True, help_text="JWT refresh token for token/refresh/ and logout/.")


class LoginResponseSerializer(serializers.Serializer):
    """The answer of every login: exactly `user` and `tokens`."""

    user = UserSerializer(read_only=True)
    tokens = TokenPairSerializer(read_only=True)


# --- Authentication input ------------------------------------------------------------------------


# djoser's create serializer runs Django's password validators against the would-be user. The
# email field is redeclared without its uniqueness check: the service handles a taken address
# without telling the caller.
class RegisterSerializer(djoser_serializers.UserCreateSerializer):
    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    password = serializers.CharField(write_only=True, trim_whitespace=False, style={"input_type": "password"})

    class Meta:
        model = User
        fields = ["email", "password", "first_name", "last_name"]


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False, style={"input_type": "password"})


class EmailSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


# djoser's uid + token + new_password check, with the view's token_generator.
class PasswordResetConfirmSerializer(djoser_serializers.PasswordResetConfirmSerializer):
    def validate(self, attrs):
        try:
            return super().validate(attrs)
        except DjangoValidationError:
            # djoser catches ValueError for a malformed uid, but a UUID primary key raises Django's
            # ValidationError instead.
            raise serializers.ValidationError(
                {"uid": [self.error_messages["invalid_uid"]]}, code="invalid_uid"
            ) from None


# djoser's current_password + new_password check, with the password validators.
class PasswordChangeSerializer(djoser_serializers.SetPasswordSerializer):
    pass


class OtpRequestSerializer(serializers.Serializer):
    phone = PhoneNumberField()


class OtpVerifySerializer(serializers.Serializer):
    phone = PhoneNumberField()
    code = serializers.RegexField(r"^\d{6}$", error_messages={"invalid": "Enter the 6-digit code."})


class SocialLoginSerializer(serializers.Serializer):
    """Exactly one of `access_token`, `id_token` (Google) or `code` (+ `redirect_uri`, `code_verifier`)."""

    CREDENTIALS = ("access_token", "id_token", "code")

    access_token = serializers.CharField(
        max_length=4096, required=False, help_text="The access token the provider gave the client."
    )
    id_token = serializers.CharField(
        max_length=8192,
        required=False,
        help_text="Google only: the ID token (JWT) of Google Sign-In / One Tap (`credential`).",
    )
    code = serializers.CharField(
        max_length=4096, required=False, help_text="An authorization code, redeemed by the API with its client secret."
    )
    code_verifier = serializers.RegexField(
        r"^[A-Za-z0-9._~-]{43,128}$",
        required=False,
        error_messages={"invalid": "A PKCE code_verifier is 43 to 128 characters of A-Z a-z 0-9 - . _ ~."},
        help_text="With `code`: the PKCE verifier of the authorization request.",
    )
    redirect_uri = serializers.CharField(
        max_length=2048,
        required=False,
        help_text="With `code` (required then): the redirect_uri of the authorization request; must be one of "
        "SOCIAL_AUTH_ALLOWED_REDIRECT_URIS.",
    )

    def validate(self, attrs):
        given = [field for field in self.CREDENTIALS if field in attrs]
        if len(given) != 1:
            detail = "Send exactly one of access_token, id_token or code."
            raise serializers.ValidationError(
                {field: [ErrorDetail(detail, code="one_credential_required")] for field in given or self.CREDENTIALS}
            )
        if "code" in attrs and "redirect_uri" not in attrs:
            raise serializers.ValidationError(
                {"redirect_uri": [ErrorDetail("Send the redirect_uri the code was issued for.", code="required")]}
            )
        only_with_code = [
            field for field in ("code_verifier", "redirect_uri") if field in attrs and "code" not in attrs
        ]
        if only_with_code:
            raise serializers.ValidationError(
                {field: [ErrorDetail("Only sent with code.", code="only_with_code")] for field in only_with_code}
            )
        return attrs


class TokenRefreshSerializer(serializers.Serializer):
    """simplejwt's refresh shape: `refresh` in, `access` and `refresh` out."""

    refresh = serializers.CharField()
    access = serializers.CharField(read_only=True)


# --- Account -----------------------------------------------------------------------------------


class MeUpdateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    marketing_opt_in = serializers.BooleanField(required=False)
    sms_opt_in = serializers.BooleanField(required=False)
    email = serializers.EmailField(
        max_length=254, required=False, help_text="Becomes pending_email until the emailed link is opened."
    )
    phone = PhoneNumberField(
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Becomes pending_phone until the texted code is sent to me/phone/verify/; empty removes it.",
    )


class MeDeleteSerializer(serializers.Serializer):
    password = serializers.CharField(required=False, trim_whitespace=False, style={"input_type": "password"})
    code = serializers.RegexField(
        r"^\d{6}$", required=False, help_text="For accounts without a password: a code from otp/request/."
    )


class PhoneVerifySerializer(serializers.Serializer):
    code = serializers.RegexField(r"^\d{6}$", error_messages={"invalid": "Enter the 6-digit code."})


class AddressSerializer(serializers.ModelSerializer):
    country = serializers.CharField(max_length=2, help_text="ISO 3166-1 alpha-2, e.g. US, FR.")
    phone = PhoneNumberField(required=False, allow_blank=True)

    class Meta:
        model = Address
        fields = ["id", *Address.POSTAL_FIELDS, "is_default_shipping", "is_default_billing", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_country(self, value: str) -> str:
        code = value.strip().upper()
        if code not in ISO_COUNTRY_CODES:
            raise serializers.ValidationError(
                f"{value!r} is not an ISO 3166-1 alpha-2 country code.", code="invalid_country"
            )
        return code
