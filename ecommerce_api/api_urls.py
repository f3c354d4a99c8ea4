"""Everything under /api/v1/. Each app owns its routes in <app>/api/urls.py."""

from django.urls import include, path

from core.api_root import ApiRootView

urlpatterns = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("authentication/", include("account.api.auth_urls")),
    path("account/", include("account.api.urls")),
    path("", include("shop.api.urls")),
    path("", include("cart.api.urls")),
    path("", include("coupons.api.urls")),
    path("", include("shipping.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("payment.api.urls")),
    path("", include("chat.api.urls")),
]
