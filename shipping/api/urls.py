from rest_framework.routers import SimpleRouter

from .views import TaxRateViewSet

# GET shipping/methods/ is priced for the caller's cart, so cart/api/urls.py serves it.
router = SimpleRouter()
router.register("shipping/tax-rates", TaxRateViewSet, basename="tax-rate")

urlpatterns = router.urls
