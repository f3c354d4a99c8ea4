from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from account import pages as account_pages
from core import health, views

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"

docs_urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema-v1"),
    path("api/v1/schema/swagger-ui/", SpectacularSwaggerView.as_view(url_name="schema-v1"), name="swagger-ui-v1"),
    path("api/v1/schema/redoc/", SpectacularRedocView.as_view(url_name="schema-v1"), name="redoc-v1"),
]

urlpatterns = [
    # The root has no page of its own: the API's documentation (and the API root at /api/v1/).
    path("", RedirectView.as_view(pattern_name="swagger-ui", permanent=False), name="root"),
    path("admin/", admin.site.urls),
    path("health/live/", health.live, name="health-live"),
    path("health/ready/", health.ready, name="health-ready"),
    # django-prometheus' export behind METRICS_TOKEN (core.views.metrics), same route name.
    path("metrics", views.metrics, name="prometheus-django-metrics"),
    *docs_urlpatterns,
    path("api/v1/", include("ecommerce_api.api_urls")),
    path("storefront/", include("core.storefront")),  # the demo shop (docs/STOREFRONT.md)
    # The pages the links in account emails open when no storefront is configured (core.links).
    path("account/verify-email/<str:token>/", account_pages.verify_email_page, name="page-verify-email"),
    path("account/reset-password/", account_pages.reset_password_page, name="page-reset-password"),
    # Any other /api/ path is a 404 in the error shape, whatever the method.
    re_path(r"^api/", views.not_found),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
