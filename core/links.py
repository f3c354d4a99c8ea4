"""Absolute links for emails: a configured storefront's pages, or this project's own.

Every email builds its links here, so one setting (FRONTEND_URL) moves all of them to a
storefront, and a shop with no storefront still sends links that open a working page.
"""

from urllib.parse import quote

from django.conf import settings


def frontend_link(name: str, **params: object) -> str:
    """The absolute URL of page `name` (a key of settings.FRONTEND_PATHS) with `params` filled in,
    each URL-quoted."""
    quoted = {key: quote(str(value), safe="") for key, value in params.items()}
    if settings.FRONTEND_URL:
        return settings.FRONTEND_URL.rstrip("/") + settings.FRONTEND_PATHS[name].format(**quoted)
    return settings.PUBLIC_URL.rstrip("/") + settings.BUILTIN_PATHS[name].format(**quoted)
