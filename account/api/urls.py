"""/api/v1/account/"""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("addresses", views.AddressViewSet, basename="address")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="account-me"),
    path("me/phone/verify/", views.PhoneVerifyView.as_view(), name="account-phone-verify"),
    path("export/", views.ExportView.as_view(), name="account-export"),
    *router.urls,
]
