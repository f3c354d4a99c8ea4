from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.routers import SimpleRouter

from .views import PaymentConfigView, PaymentViewSet, StripeWebhookAliasView, StripeWebhookView

router = SimpleRouter()
router.register("payments", PaymentViewSet, basename="payment")

urlpatterns = [
    # Before the router, so "stripe" is never read as a payment id.
    path("payments/config/", PaymentConfigView.as_view(), name="payment-config"),
    path("payments/stripe/webhook/", csrf_exempt(StripeWebhookView.as_view()), name="stripe-webhook"),
    path("payments/stripe-webhook/", csrf_exempt(StripeWebhookAliasView.as_view()), name="stripe-webhook-alias"),
    *router.urls,
]
