"""OpenAPI description of our JWT authentication (account.authentication), which accepts two header forms."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework_simplejwt.settings import api_settings


class JWTBearerOrTokenScheme(OpenApiAuthenticationExtension):
    # drf-spectacular's own simplejwt extension warns when AUTH_HEADER_TYPES has two entries;
    # this one documents both forms. Our class (simplejwt's plus the session check) is the one in use.
    target_class = "account.authentication.JWTAuthentication"
    match_subclasses = True
    name = "jwtAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        forms = " or ".join(f"`Authorization: {kind} <access token>`" for kind in api_settings.AUTH_HEADER_TYPES)
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": f"A JWT access token from authentication/login/, sent as {forms}.",
        }
