"""The built-in pages the account emails link to when no storefront is configured (account/pages.py):
confirm an email address, choose a new password. CSRF-checked like a browser would be."""

import re
import runpy
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from djoser.utils import encode_uid

from account.models import User

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/authentication/register/"
RESET = "/api/v1/authentication/password/reset/"
LOGIN = "/api/v1/authentication/login/"
NEW_PASSWORD = "a-fresh-unusual-passphrase"
BASE_SETTINGS = Path(__file__).resolve().parents[2] / "ecommerce_api" / "settings" / "base.py"


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def _link(mail, marker: str) -> str:
    match = re.search(rf"http\S+{marker}\S*", mail.body)
    assert match, mail.body
    return match.group(0)


def _csrf(response) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())
    assert match, response.content.decode()
    return match.group(1)


def _register(api_client, commit, mailoutbox, settings) -> str:
    settings.PUBLIC_URL = "https://api.example.com"
    with commit():
        assert (
            api_client.post(REGISTER, {"email": "nia@example.com", "password": "a-long-unusual-passphrase"}).status_code
            == 201
        )
    return _link(mailoutbox[-1], "/account/verify-email/")


def test_the_verification_link_opens_a_page_that_verifies_only_on_post(
    api_client, browser, commit, mailoutbox, settings
):
    link = _register(api_client, commit, mailoutbox, settings)
    assert link.startswith("https://api.example.com/account/verify-email/")
    path = urlparse(link).path

    page = browser.get(path)

    assert page.status_code == 200
    assert "Confirm my email address" in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0")
    assert User.objects.get(email="nia@example.com").email_verified is False  # a mail scanner's GET

    done = browser.post(path, {"csrfmiddlewaretoken": _csrf(page)})

    assert done.status_code == 200
    assert "Email address confirmed" in done.content.decode()
    assert User.objects.get(email="nia@example.com").email_verified is True
    assert (
        api_client.post(LOGIN, {"email": "nia@example.com", "password": "a-long-unusual-passphrase"}).status_code == 200
    )

    again = browser.post(path, {"csrfmiddlewaretoken": _csrf(page)})
    assert again.status_code == 400
    assert "already been used" in again.content.decode()


def test_the_verification_page_refuses_a_post_without_the_csrf_token(api_client, browser, commit, mailoutbox, settings):
    path = urlparse(_register(api_client, commit, mailoutbox, settings)).path
    browser.get(path)

    response = browser.post(path, {})

    assert response.status_code == 403
    assert User.objects.get(email="nia@example.com").email_verified is False


def test_a_bad_verification_token_shows_the_error(browser):
    page = browser.get("/account/verify-email/not-a-token/")

    response = browser.post("/account/verify-email/not-a-token/", {"csrfmiddlewaretoken": _csrf(page)})

    assert response.status_code == 400
    assert "This verification link is invalid." in response.content.decode()


def _reset_path(api_client, commit, mailoutbox, settings, customer) -> str:
    settings.PUBLIC_URL = "https://api.example.com"
    with commit():
        assert api_client.post(RESET, {"email": customer.email}).status_code == 202
    link = _link(mailoutbox[-1], "/account/reset-password/")
    assert link.startswith("https://api.example.com/account/reset-password/?uid=")
    parsed = urlparse(link)
    return f"{parsed.path}?{parsed.query}"


def test_the_reset_link_opens_a_form_that_sets_the_new_password(
    api_client, browser, commit, mailoutbox, settings, customer
):
    path = _reset_path(api_client, commit, mailoutbox, settings, customer)

    page = browser.get(path)
    assert page.status_code == 200
    assert 'name="new_password1"' in page.content.decode()

    with commit():
        done = browser.post(
            path,
            {"csrfmiddlewaretoken": _csrf(page), "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )

    assert done.status_code == 200, done.content.decode()
    assert "Password changed" in done.content.decode()
    customer.refresh_from_db()
    assert customer.check_password(NEW_PASSWORD)
    assert mailoutbox[-1].subject.startswith("Your E-commerce Shop password was changed")
    assert "https://api.example.com/storefront/" in mailoutbox[-1].body  # frontend_link("home")
    # The link is spent: Django's token covers the password it was made for.
    assert browser.get(path).status_code == 400


def test_the_reset_form_shows_the_password_validators_errors(
    api_client, browser, commit, mailoutbox, settings, customer
):
    path = _reset_path(api_client, commit, mailoutbox, settings, customer)
    page = browser.get(path)

    weak = browser.post(
        path, {"csrfmiddlewaretoken": _csrf(page), "new_password1": "12345678", "new_password2": "12345678"}
    )
    mismatch = browser.post(
        path, {"csrfmiddlewaretoken": _csrf(page), "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"}
    )

    assert weak.status_code == 400
    assert "This password is too common." in weak.content.decode()
    assert "This password is entirely numeric." in weak.content.decode()
    assert mismatch.status_code == 400
    assert "The two password fields" in mismatch.content.decode()
    customer.refresh_from_db()
    assert not customer.check_password("12345678") and not customer.check_password(NEW_PASSWORD)


@pytest.mark.parametrize("query", ["", "?uid=bad&token=bad", "?uid={uid}&token=1-forged"])
def test_a_bad_reset_link_shows_an_error_and_no_form(browser, customer, query):
    response = browser.get("/account/reset-password/" + query.format(uid=encode_uid(customer.pk)))

    assert response.status_code == 400
    assert "invalid, has expired or has already been used" in response.content.decode()
    assert "new_password1" not in response.content.decode()


def test_the_reset_post_rechecks_the_link(browser, customer):
    token = default_token_generator.make_token(customer)
    path = f"/account/reset-password/?uid={encode_uid(customer.pk)}&token={token}"
    page = browser.get(path)
    form = {"csrfmiddlewaretoken": _csrf(page), "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}

    forged = browser.post(f"/account/reset-password/?uid={encode_uid(customer.pk)}&token=1-forged", form)
    no_link = browser.post("/account/reset-password/", {**form, "uid": encode_uid(customer.pk), "token": token})

    assert forged.status_code == no_link.status_code == 400
    customer.refresh_from_db()
    assert not customer.check_password(NEW_PASSWORD)


def test_with_a_storefront_the_links_use_its_paths(api_client, commit, mailoutbox, settings, customer):
    settings.FRONTEND_URL = "https://shop.example.com/"
    settings.FRONTEND_PATHS = {
        **settings.FRONTEND_PATHS,
        "verify_email": "/verify-email?token={token}",
        "reset_password": "/reset?u={uid}&t={token}",
    }
    with commit():
        api_client.post(REGISTER, {"email": "nia@example.com", "password": "a-long-unusual-passphrase"})
        api_client.post(RESET, {"email": customer.email})

    verify = _link(mailoutbox[0], "verify-email")
    reset = _link(mailoutbox[1], "reset")
    assert verify.startswith("https://shop.example.com/verify-email?token=")
    assert reset.startswith("https://shop.example.com/reset?u=")
    query = parse_qs(urlparse(reset).query)
    assert query["u"] == [encode_uid(customer.pk)]
    assert default_token_generator.check_token(customer, query["t"][0])


def test_the_deprecated_path_settings_are_read_as_fallbacks(monkeypatch):
    for name in ("FRONTEND_VERIFY_EMAIL_PATH", "FRONTEND_RESET_PASSWORD_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EMAIL_VERIFICATION_URL_PATH", "/old/verify/{token}/")
    monkeypatch.setenv("PASSWORD_RESET_URL_PATH", "/old/reset/{uid}/{token}/")
    old = runpy.run_path(str(BASE_SETTINGS))["FRONTEND_PATHS"]
    assert (old["verify_email"], old["reset_password"]) == ("/old/verify/{token}/", "/old/reset/{uid}/{token}/")

    monkeypatch.setenv("FRONTEND_VERIFY_EMAIL_PATH", "/new/verify?t={token}")
    assert runpy.run_path(str(BASE_SETTINGS))["FRONTEND_PATHS"]["verify_email"] == "/new/verify?t={token}"

    for name in ("EMAIL_VERIFICATION_URL_PATH", "PASSWORD_RESET_URL_PATH", "FRONTEND_VERIFY_EMAIL_PATH"):
        monkeypatch.delenv(name)
    defaults = runpy.run_path(str(BASE_SETTINGS))["FRONTEND_PATHS"]
    assert defaults["verify_email"] == "/verify-email?token={token}"
    assert defaults["reset_password"] == "/reset-password?uid={uid}&token={token}"
