"""The small HTML pages that the links in account emails open when no storefront is configured
(FRONTEND_URL unset; core.links, settings.BUILTIN_PATHS): confirm an email address and choose a new
password. They call the same services as the API, and are plain Django forms with CSRF protection.

Nothing happens on GET: mail scanners and link previews open links, and must not use up a one-time
verification link or reset a password. GET shows a button (or the form); POST acts.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods
from djoser.utils import decode_uid

from core.errors import DomainError

from . import services
from .models import User


def _render(request: HttpRequest, template: str, context: dict, *, status: int = 200) -> HttpResponse:
    context = {
        "shop_name": settings.SHOP_NAME,
        "storefront_url": "/storefront/" if settings.STOREFRONT_ENABLED else "",
        **context,
    }
    return render(request, f"account/{template}", context, status=status)


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def verify_email_page(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        return _render(request, "verify_email.html", {"state": "confirm"})
    try:
        services.user_email_verify(token=token)
    except DomainError as error:
        return _render(
            request, "verify_email.html", {"state": "failed", "error": error.detail}, status=error.status_code
        )
    return _render(request, "verify_email.html", {"state": "verified"})


def _reset_link_user(uid: str, token: str) -> User | None:
    """The active account a reset link (djoser's uid + Django's token) is for, or None."""
    try:
        user = User.objects.filter(pk=decode_uid(uid), is_active=True).first()
    except (ValueError, TypeError, OverflowError, ValidationError):
        return None
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def reset_password_page(request: HttpRequest) -> HttpResponse:
    # The link's uid and token stay in the query string: the form posts back to the same URL.
    uid, token = request.GET.get("uid", ""), request.GET.get("token", "")
    user = _reset_link_user(uid, token)
    if user is None:
        return _render(request, "reset_password.html", {"state": "invalid_link"}, status=400)
    # Django's new password + confirmation, checked by AUTH_PASSWORD_VALIDATORS for this user; the
    # service, not form.save(), sets it (and ends every session).
    form = SetPasswordForm(user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.user_password_reset(user=user, new_password=form.cleaned_data["new_password1"])
        return _render(request, "reset_password.html", {"state": "done"})
    status = 400 if form.is_bound else 200
    return _render(request, "reset_password.html", {"state": "form", "form": form}, status=status)
