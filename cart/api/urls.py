from django.urls import path

from .views import CartCouponView, CartItemDetailView, CartItemListView, CartView, ShippingMethodListView

urlpatterns = [
    path("cart/", CartView.as_view(), name="cart"),
    path("cart/items/", CartItemListView.as_view(), name="cart-items"),
    path("cart/items/<uuid:item_id>/", CartItemDetailView.as_view(), name="cart-item"),
    path("cart/coupon/", CartCouponView.as_view(), name="cart-coupon"),
    # Priced for the caller's cart, so it is served by the cart app (see ShippingMethodListView).
    path("shipping/methods/", ShippingMethodListView.as_view(), name="shipping-methods"),
]
