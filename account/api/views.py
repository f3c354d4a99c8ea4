import waffle
from django.contrib.auth.tokens import default_token_generator
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, Throttled
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views

from account import selectors, services
from account.errors import RateLimited
from account.models import Address
from account.social_credentials import social_login_with_credential
from core.net import client_ip as trusted_client_ip
from core.openapi import ErrorResponseSerializer, error_responses
from core.viewsets import OwnedModelViewSet

from . import serializers as s

REGISTERED = "Check your inbox: we sent a link to verify your email address."
VERIFICATION_SENT = "If this address waits for verification, a new link is on its way."
RESET_SENT = "If an account uses this address, a password reset link is on its way."
OTP_SENT = "If this number can receive SMS, a code is on its way."


def unauthorized(description: str) -> dict[int, OpenApiResponse]:
    return {401: OpenApiResponse(ErrorResponseSerializer, description=description)}


def client_ip(request) -> str:
    # The throttles' rule (core.net): X-Forwarded-For only from a TRUSTED_PROXIES peer.
    return trusted_client_ip(request) or "unknown"


def login_response(result: services.LoginResult, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(s.LoginResponseSerializer({"user": result.user, "tokens": result.tokens}).data, status=status_code)


class RetryAfterMixin:
    """Our rate limits (login lockout, OTP limits) answer 429 with Retry-After, like DRF's throttles."""

    def handle_exception(self, exc):
        if isinstance(exc, RateLimited):
            exc = Throttled(wait=exc.retry_after, detail=exc.detail, code=exc.code)
        return super().handle_exception(exc)


class PublicAPIView(RetryAfterMixin, APIView):
    """Anonymous endpoints. No authentication classes, so a stale Authorization header cannot turn
    a login or a password reset into a 401."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


class FeatureFlagMixin:
    """404 while the waffle flag is off. Checked inside DRF (not in dispatch like waffle's own mixin)
    so the 404 keeps the API's error shape even with DEBUG on."""

    waffle_flag: str

    def initial(self, request, *args, **kwargs):
        if not waffle.flag_is_active(request, self.waffle_flag):
            raise NotFound()
        super().initial(request, *args, **kwargs)


class RegisterView(PublicAPIView):
    throttle_scope = "register"

    @extend_schema(
        request=s.RegisterSerializer,
        responses={201: s.DetailSerializer},
        summary="Create an account and email a verification link",
        description="The same 201 answer whether or not the address already has an account (its owner gets an "
        "email instead), so the endpoint cannot be used to find out who is registered.",
    )
    def post(self, request):
        params = s.RegisterSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        services.user_register(**params.validated_data)
        return Response({"detail": REGISTERED}, status=status.HTTP_201_CREATED)


class VerifyEmailView(PublicAPIView):
    @extend_schema(
        request=None,
        responses={200: s.DetailSerializer, **error_responses(409)},
        summary="Verify an email address with the emailed token",
    )
    def get(self, request, token: str):
        services.user_email_verify(token=token)
        return Response({"detail": "Email verified."})


class ResendVerificationView(PublicAPIView):
    throttle_scope = "auth_email"

    @extend_schema(request=s.EmailSerializer, responses={202: s.DetailSerializer}, summary="Send the link again")
    def post(self, request):
        params = s.EmailSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        services.user_verification_resend(email=params.validated_data["email"])
        return Response({"detail": VERIFICATION_SENT}, status=status.HTTP_202_ACCEPTED)


class LoginView(PublicAPIView):
    throttle_scope = "login"

    @extend_schema(
        request=s.LoginSerializer,
        responses={
            200: s.LoginResponseSerializer,
            **unauthorized("`invalid_credentials` or `email_not_verified`."),
        },
        summary="Log in with email and password",
        description="401 `invalid_credentials` for an unknown email or a wrong password, 401 `email_not_verified` "
        "for a right password on an unverified address. After LOGIN_FAILURE_LIMIT failures for one account or one "
        "IP: 429 `login_locked` with Retry-After.",
    )
    def post(self, request):
        params = s.LoginSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return login_response(services.auth_login(**params.validated_data, ip=client_ip(request)))


class TokenRefreshView(PublicAPIView):
    @extend_schema(
        request=s.TokenRefreshSerializer,
        responses={
            200: s.TokenRefreshSerializer,
            **unauthorized("`token_not_valid` (expired, blacklisted, forged, already used) or `no_active_account`."),
        },
        summary="Exchange a refresh token for a new pair",
        description="The refresh token rotates: the one sent is blacklisted and cannot be used again. Of concurrent "
        "uses of one token exactly one succeeds.",
    )
    def post(self, request):
        params = s.TokenRefreshSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return Response(services.auth_token_refresh(refresh=params.validated_data["refresh"]))


class LogoutView(jwt_views.TokenBlacklistView):
    """simplejwt's blacklisting of the refresh token, answered with 204."""

    @extend_schema(
        responses={
            204: None,
            **unauthorized("`token_not_valid`: the refresh token is invalid or already blacklisted."),
        },
        summary="Log out: blacklist the refresh token",
    )
    def post(self, request, *args, **kwargs):
        super().post(request, *args, **kwargs)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(PublicAPIView):
    throttle_scope = "auth_email"

    @extend_schema(request=s.EmailSerializer, responses={202: s.DetailSerializer}, summary="Email a reset link")
    def post(self, request):
        params = s.EmailSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        services.password_reset_request(email=params.validated_data["email"])
        return Response({"detail": RESET_SENT}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(PublicAPIView):
    token_generator = default_token_generator  # read by djoser's serializer

    @extend_schema(
        request=s.PasswordResetConfirmSerializer,
        responses={204: None},
        summary="Set a new password with the emailed uid and token",
        description="Every session of the account ends.",
    )
    def post(self, request):
        params = s.PasswordResetConfirmSerializer(data=request.data, context={"request": request, "view": self})
        params.is_valid(raise_exception=True)
        services.user_password_reset(user=params.user, new_password=params.validated_data["new_password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=s.PasswordChangeSerializer,
        responses={200: s.LoginResponseSerializer},
        summary="Change the password (current password required)",
        description="Other sessions end; the answer carries a fresh token pair for this client.",
    )
    def post(self, request):
        params = s.PasswordChangeSerializer(data=request.data, context={"request": request})
        params.is_valid(raise_exception=True)
        result = services.user_password_change(user=request.user, new_password=params.validated_data["new_password"])
        return login_response(result)


class OtpRequestView(FeatureFlagMixin, PublicAPIView):
    waffle_flag = "otp_login"
    throttle_scope = "otp"

    @extend_schema(
        request=s.OtpRequestSerializer,
        responses={202: s.DetailSerializer},
        summary="Text a 6-digit login code",
        description="The same 202 whether or not the number has an account. 429 `otp_rate_limited` beyond "
        "OTP_MAX_PER_PHONE_PER_MINUTE / _PER_HOUR. 404 while the `otp_login` flag is off.",
    )
    def post(self, request):
        params = s.OtpRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        services.otp_request(phone=params.validated_data["phone"])
        return Response({"detail": OTP_SENT}, status=status.HTTP_202_ACCEPTED)


class OtpVerifyView(FeatureFlagMixin, PublicAPIView):
    waffle_flag = "otp_login"
    throttle_scope = "otp"

    @extend_schema(
        request=s.OtpVerifySerializer,
        responses={200: s.LoginResponseSerializer, **unauthorized("`account_disabled`.")},
        summary="Log in with the texted code",
        description="Creates the account on a number's first login. 400 `otp_invalid`, `otp_expired`, `otp_used` "
        "or `otp_attempts_exceeded`.",
    )
    def post(self, request):
        params = s.OtpVerifySerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return login_response(services.otp_login(**params.validated_data))


class SocialLoginView(FeatureFlagMixin, PublicAPIView):
    waffle_flag = "social_login"
    throttle_scope = "login"

    @extend_schema(
        request=s.SocialLoginSerializer,
        responses={200: s.LoginResponseSerializer, **unauthorized("`account_disabled`."), **error_responses(409, 502)},
        parameters=[
            OpenApiParameter("provider", OpenApiTypes.STR, OpenApiParameter.PATH, enum=services.SOCIAL_PROVIDERS)
        ],
        summary="Log in with a provider's access token, Google ID token or authorization code",
        description="Send exactly one of `access_token`, `id_token` (Google) or `code` with `redirect_uri` (and "
        "`code_verifier` for PKCE); otherwise 400 `one_credential_required` on each of those fields. 400 "
        "`provider_not_configured` when the provider has no credentials, `invalid_social_token` when the provider "
        "or the ID token check refuses, `redirect_uri_not_allowed`, `id_token_not_supported`; 409 `email_taken` when "
        "an account has the email and the provider did not verify it; 502 `provider_unavailable`; 404 while the "
        "`social_login` flag is off.",
    )
    def post(self, request, provider: str):
        params = s.SocialLoginSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return login_response(social_login_with_credential(provider=provider, **params.validated_data))


# --- /api/v1/account/ ------------------------------------------------------------------------------


class MeView(RetryAfterMixin, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.UserSerializer}, summary="The current user")
    def get(self, request):
        return Response(s.UserSerializer(request.user).data)

    @extend_schema(
        request=s.MeUpdateSerializer,
        responses={200: s.UserSerializer, **error_responses(409)},
        summary="Update the profile",
        description="A new email or phone is pending until verified. Staff and verification flags are not writable.",
    )
    def patch(self, request):
        params = s.MeUpdateSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        user = services.user_profile_update(user=request.user, changes=params.validated_data)
        return Response(s.UserSerializer(user).data)

    @extend_schema(
        request=s.MeDeleteSerializer,
        responses={204: None, **error_responses(409)},
        summary="Delete the account (anonymise and deactivate)",
        description="Needs the password (or, without one, a code from otp/request/). Orders are kept, without "
        "personal data. 409 `account_has_open_orders` while an order waits for payment, is paid or shipped.",
    )
    def delete(self, request):
        params = s.MeDeleteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        services.user_delete_self(user=request.user, **params.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PhoneVerifyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=s.PhoneVerifySerializer,
        responses={200: s.UserSerializer, **error_responses(409)},
        summary="Confirm the pending phone with the texted code",
    )
    def post(self, request):
        params = s.PhoneVerifySerializer(data=request.data)
        params.is_valid(raise_exception=True)
        user = services.user_phone_verify(user=request.user, code=params.validated_data["code"])
        return Response(s.UserSerializer(user).data)


class ExportView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="All personal data, as a JSON file.")},
        summary="Download all personal data (GDPR)",
    )
    def get(self, request):
        data = selectors.user_data_export(user=request.user)
        filename = f"account-export-{timezone.now():%Y%m%d}.json"
        return Response(data, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class AddressViewSet(OwnedModelViewSet):
    """The caller's address book; another user's address is a 404."""

    queryset = Address.objects.order_by("-created_at", "-pk")
    serializer_class = s.AddressSerializer
    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = services.address_create(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.address_update(address=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.address_delete(address=instance)
