"""DRF's throttles with one change: the caller's address comes from `core.net.client_ip`, so
X-Forwarded-For counts only from `TRUSTED_PROXIES` (DRF's own NUM_PROXIES rule trusts the header
from any peer). settings.REST_FRAMEWORK names these classes."""

from rest_framework import throttling

from .net import client_ip


class ClientIpMixin:
    def get_ident(self, request) -> str:
        return client_ip(request)


class AnonRateThrottle(ClientIpMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(ClientIpMixin, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(ClientIpMixin, throttling.ScopedRateThrottle):
    pass
