from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

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
    path("admin/", admin.site.urls),
    path("health/live/", health.live, name="health-live"),
    path("health/ready/", health.ready, name="health-ready"),
    # django-prometheus' export behind METRICS_TOKEN (core.views.metrics), same route name.
    path("metrics", views.metrics, name="prometheus-django-metrics"),
    *docs_urlpatterns,
    path("api/v1/", include("ecommerce_api.api_urls")),
    # Any other /api/ path is a 404 in the error shape, whatever the method.
    re_path(r"^api/", views.not_found),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
