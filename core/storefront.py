"""The demo storefront (storefront/ at the repository root) served at /storefront/ by the project
itself, so `make run` shows a shop in the browser. Plain files, no build step: index.html and the
ES modules and styles beside it. Off with STOREFRONT_ENABLED=false (docs/STOREFRONT.md)."""

import mimetypes
from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.urls import path
from django.utils._os import safe_join
from django.utils.http import http_date
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from django.views.static import was_modified_since

STOREFRONT_ROOT = Path(settings.BASE_DIR) / "storefront"


def _file(request, relative: str) -> HttpResponse:
    """One file under storefront/, read whole: the files are small, and a plain response avoids
    streaming a synchronous file iterator through the ASGI handler."""
    if not settings.STOREFRONT_ENABLED:
        raise Http404("The demo storefront is disabled.")
    if any(part.startswith(".") for part in Path(relative).parts):
        raise Http404("Not found.")
    try:
        full_path = Path(safe_join(STOREFRONT_ROOT, relative))
    except SuspiciousFileOperation as error:  # a path that leaves storefront/
        raise Http404("Not found.") from error
    if not full_path.is_file():
        raise Http404("Not found.")
    modified = full_path.stat().st_mtime
    if not was_modified_since(request.META.get("HTTP_IF_MODIFIED_SINCE"), modified):
        return HttpResponseNotModified()
    content_type = mimetypes.guess_type(full_path.name)[0] or "application/octet-stream"
    if content_type.startswith("text/"):
        content_type += "; charset=utf-8"
    response = HttpResponse(full_path.read_bytes(), content_type=content_type)
    response["Last-Modified"] = http_date(modified)
    return response


# no-cache: browsers revalidate (If-Modified-Since, answered 304), so an edited module is picked up
# on reload without a build step renaming files.
@require_safe
@cache_control(no_cache=True)
def storefront_index(request):
    return _file(request, "index.html")


@require_safe
@cache_control(no_cache=True)
def storefront_asset(request, asset: str):
    return _file(request, asset)


urlpatterns = [
    path("", storefront_index, name="storefront"),
    path("<path:asset>", storefront_asset, name="storefront-asset"),
]
