"""Error codes of the account app. Clients may switch on `code`; the HTTP status is on the class."""

from http import HTTPStatus

from core.errors import BadGateway, Conflict, DomainError, NotFound

# --- Login -------------------------------------------------------------------------------------


class InvalidCredentials(DomainError):
    # One answer for an unknown email and a wrong password, so the login form cannot be used to
    # find out who has an account.
    status_code = HTTPStatus.UNAUTHORIZED
    code = "invalid_credentials"
    detail = "Invalid email or password."


class EmailNotVerified(DomainError):
    status_code = HTTPStatus.UNAUTHORIZED
    code = "email_not_verified"
    detail = "Verify your email address before logging in; verify-email/resend/ sends the link again."


class AccountDisabled(DomainError):
    status_code = HTTPStatus.UNAUTHORIZED
    code = "account_disabled"
    detail = "This account is disabled."


class RefreshTokenInvalid(DomainError):
    # simplejwt's code, so clients see the same answer as for a forged or expired token.
    status_code = HTTPStatus.UNAUTHORIZED
    code = "token_not_valid"
    detail = "Token is invalid, expired or already used."


class NoActiveAccount(DomainError):
    status_code = HTTPStatus.UNAUTHORIZED
    code = "no_active_account"
    detail = "No active account found for the given token."


class RateLimited(DomainError):
    """Too many attempts; the API answers 429 with `Retry-After: <retry_after>`."""

    status_code = HTTPStatus.TOO_MANY_REQUESTS
    code = "throttled"
    detail = "Too many attempts. Try again later."

    def __init__(self, detail: str | None = None, *, retry_after: int, **kwargs) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(detail, **kwargs)


class LoginLocked(RateLimited):
    code = "login_locked"
    detail = "Too many failed logins. Try again later."


class OtpRateLimited(RateLimited):
    code = "otp_rate_limited"
    detail = "Too many codes requested for this phone number. Try again later."


# --- Email verification ------------------------------------------------------------------------


class VerificationTokenInvalid(DomainError):
    code = "token_invalid"
    detail = "This verification link is invalid."


class VerificationTokenExpired(DomainError):
    code = "token_expired"
    detail = "This verification link has expired; ask for a new one."


class VerificationTokenUsed(DomainError):
    code = "token_used"
    detail = "This verification link has already been used."


class EmailTaken(Conflict):
    code = "email_taken"
    detail = "Another account uses this email address."


class PhoneTaken(Conflict):
    code = "phone_taken"
    detail = "Another account uses this phone number."


# --- One-time codes ----------------------------------------------------------------------------


class OtpInvalid(DomainError):
    code = "otp_invalid"
    detail = "This code is not valid."


class OtpExpired(DomainError):
    code = "otp_expired"
    detail = "This code has expired; ask for a new one."


class OtpUsed(DomainError):
    code = "otp_used"
    detail = "This code has already been used; ask for a new one."


class OtpAttemptsExceeded(DomainError):
    code = "otp_attempts_exceeded"
    detail = "Too many wrong codes; ask for a new one."


class NoPendingPhone(DomainError):
    code = "no_pending_phone"
    detail = "There is no new phone number waiting for verification."


# --- Profile and deletion ------------------------------------------------------------------------


class InvalidPassword(DomainError):
    code = "invalid_password"
    detail = "The password is not correct."


class ReauthenticationRequired(DomainError):
    code = "reauthentication_required"
    detail = (
        "Confirm with your password, or, for an account without one, with a code sent by "
        "authentication/otp/request/ to your verified phone."
    )


class ContactRequired(DomainError):
    code = "contact_required"
    detail = "An account needs an email address or a phone number to log in with."


class AccountHasOpenOrders(Conflict):
    # Staff may still ship or refund these orders, which needs the address and email on them.
    code = "account_has_open_orders"
    detail = "This account has orders that are not finished yet."

    def __init__(self, *, open_orders: int) -> None:
        noun = "order is" if open_orders == 1 else "orders are"
        super().__init__(
            f"{open_orders} {noun} not finished yet (waiting for payment, paid or shipped). The account can be "
            "deleted once every order is delivered, cancelled or refunded.",
            open_orders=open_orders,
        )


# --- Social login ------------------------------------------------------------------------------


class ProviderNotFound(NotFound):
    code = "provider_not_found"
    detail = "Unknown login provider."


class ProviderNotConfigured(DomainError):
    code = "provider_not_configured"
    detail = "Login with this provider is not configured."


class SocialTokenInvalid(DomainError):
    code = "invalid_social_token"
    detail = "The provider did not accept this access token."


class SocialEmailUnverified(DomainError):
    code = "social_email_unverified"
    detail = "The provider did not confirm your email address."


class SocialEmailInUse(Conflict):
    code = "email_taken"
    detail = (
        "An account with this email address exists, and the provider did not confirm the address: "
        "log in with your password instead."
    )


class ProviderUnavailable(BadGateway):
    code = "provider_unavailable"
    detail = "The login provider could not be reached. Try again later."


class IdTokenNotSupported(DomainError):
    code = "id_token_not_supported"
    detail = "This provider does not log in with an ID token; send an access_token or a code."


class RedirectUriNotAllowed(DomainError):
    # Our client secret redeems the code, so only the storefront's own redirect URIs may be used.
    code = "redirect_uri_not_allowed"
    detail = "This redirect_uri is not allowed (SOCIAL_AUTH_ALLOWED_REDIRECT_URIS)."
