"""X-Forwarded-For names the client only when the direct peer is a TRUSTED_PROXIES entry: the
throttles and the login lockout cannot be dodged by rotating the header."""

import pytest
from django.test import RequestFactory

from account.tests.factories import UserFactory
from core.net import client_ip

LOGIN = "/api/v1/authentication/login/"
NGINX = "172.30.80.10"


def ip_of(remote_addr: str, forwarded_for: str | None = None) -> str:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=remote_addr, **extra))


def test_by_default_the_header_is_ignored(settings):
    assert settings.TRUSTED_PROXIES == []

    assert ip_of("203.0.113.9", "198.51.100.1") == "203.0.113.9"


def test_from_an_untrusted_peer_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = [NGINX]

    assert ip_of("203.0.113.9", "198.51.100.1, 172.30.80.10") == "203.0.113.9"


def test_from_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client(settings):
    settings.TRUSTED_PROXIES = [NGINX, "10.0.0.0/8"]

    # The caller wrote 198.51.100.1 itself; nginx appended the address it really saw.
    assert ip_of(NGINX, "198.51.100.1, 203.0.113.9") == "203.0.113.9"
    assert ip_of(NGINX, "198.51.100.1, 203.0.113.9, 10.1.2.3") == "203.0.113.9"
    assert ip_of(NGINX, "203.0.113.9:51234") == "203.0.113.9"
    assert ip_of(NGINX, "[2001:db8::1]:443") == "2001:db8::1"
    assert ip_of(NGINX, "::ffff:203.0.113.9") == "203.0.113.9"


def test_a_trusted_proxy_without_the_header_or_with_only_trusted_hops(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    assert ip_of("10.0.0.5") == "10.0.0.5"
    assert ip_of("10.0.0.5", "10.9.9.9, 10.8.8.8") == "10.9.9.9"


def test_a_hop_that_is_not_an_address_stops_at_the_proxy_that_reported_it(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    assert ip_of("10.0.0.5", "203.0.113.9, unknown, 10.0.0.4") == "10.0.0.4"
    assert ip_of("10.0.0.5", "") == "10.0.0.5"


def login(client, email, *, remote_addr, forwarded_for):
    return client.post(
        LOGIN, {"email": email, "password": "wrong"}, REMOTE_ADDR=remote_addr, HTTP_X_FORWARDED_FOR=forwarded_for
    )


@pytest.mark.django_db
def test_rotating_the_header_from_an_untrusted_peer_still_locks_that_ip_out(api_client, settings):
    """The compose setup: only nginx is trusted. A caller that reaches the app directly (or
    forges the header) keeps its own address whatever it sends."""
    settings.TRUSTED_PROXIES = [NGINX]
    UserFactory(email="real@example.com")
    for i in range(5):
        forged = f"198.51.100.{i}"
        assert (
            login(api_client, f"victim{i}@example.com", remote_addr="203.0.113.9", forwarded_for=forged).status_code
            == 401
        )

    blocked = login(api_client, "real@example.com", remote_addr="203.0.113.9", forwarded_for="198.51.100.99")

    assert blocked.status_code == 429
    assert blocked.json()["errors"][0]["code"] == "login_locked"


@pytest.mark.django_db
def test_through_a_trusted_proxy_each_forwarded_client_has_its_own_lockout(api_client, settings):
    settings.TRUSTED_PROXIES = [NGINX]
    for i in range(5):
        assert (
            login(api_client, f"victim{i}@example.com", remote_addr=NGINX, forwarded_for="203.0.113.9").status_code
            == 401
        )

    same_client = login(api_client, "someone@example.com", remote_addr=NGINX, forwarded_for="203.0.113.9")
    other_client = login(api_client, "someone@example.com", remote_addr=NGINX, forwarded_for="203.0.113.10")

    assert same_client.status_code == 429
    assert other_client.status_code == 401  # wrong password, but not locked: nginx's address is not the client


@pytest.mark.django_db
def test_the_scoped_throttle_counts_by_the_same_client_address(api_client, settings, throttle_rates):
    throttle_rates(login="2/hour")
    settings.TRUSTED_PROXIES = [NGINX]

    direct = [
        login(api_client, f"a{i}@example.com", remote_addr="203.0.113.9", forwarded_for=f"198.51.100.{i}").status_code
        for i in range(3)
    ]
    proxied = [
        login(api_client, f"b{i}@example.com", remote_addr=NGINX, forwarded_for=f"192.0.2.{i}").status_code
        for i in range(3)
    ]

    assert direct == [401, 401, 429]
    assert proxied == [401, 401, 401]
