"""Absolute URLs of stored files (product images, cart and order line images).

Every media URL the API answers is absolute and the same for every client: a storefront on another
origin (or a mobile app) can show it as is. The base is the storage's own URL when that is already
absolute (object storage, a CDN `MEDIA_URL`), else `settings.PUBLIC_URL`, never the request's host:
catalog bodies are cached once for everybody (shop.cache), so a host taken from one request would
leak into the answers of all the others (docs/CATALOG.md, "Media URLs").
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.encoding import filepath_to_uri

_ABSOLUTE_PREFIXES = ("http://", "https://", "//")


def _absolute(url: str) -> str:
    if url.startswith(_ABSOLUTE_PREFIXES):
        return url
    return settings.PUBLIC_URL.rstrip("/") + "/" + url.lstrip("/")


_PROBE = "media-url-probe/x.jpg"


@lru_cache(maxsize=1)
def _url_prefix() -> str | None:
    """The absolute URL prefix of every stored file, computed once: lists build one URL per item, so
    this is the hot path. Local storage: its base_url. Another storage (S3, a CDN domain) is asked
    once for a probe name; when its answer is a plain prefix + the name, that prefix is used too.
    None when the storage's URLs are not a plain prefix (a signature in the query string, hashed
    paths): then it is asked per file."""
    if isinstance(default_storage, FileSystemStorage):
        return _absolute(default_storage.base_url)
    url = default_storage.url(_PROBE)
    if "?" in url or not url.endswith(_PROBE):
        return None
    return _absolute(url[: -len(_PROBE)])


@receiver(setting_changed)
def _reset_base(*, setting: str, **kwargs) -> None:
    if setting in {"MEDIA_URL", "PUBLIC_URL", "STORAGES"}:
        _url_prefix.cache_clear()


def absolute_media_url(file_or_name: object) -> str | None:
    """The absolute URL of a stored file, given its FieldFile or its storage name; None for none."""
    name = getattr(file_or_name, "name", file_or_name)
    if not name:
        return None
    prefix = _url_prefix()
    if prefix is not None:
        # What the storages' url() do (base + the quoted name; S3 adds its `location` before the
        # name, which the prefix holds), without a urljoin or a boto call per file. Our names are
        # generated (products/<id>/<uuid>.<ext>): never `..`, a scheme or a leading slash.
        return prefix + filepath_to_uri(str(name)).lstrip("/")
    return _absolute(default_storage.url(str(name)))
