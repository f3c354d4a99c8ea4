from django.urls import include, path
from rest_framework.routers import SimpleRouter

from shop.api import views

router = SimpleRouter()
router.register("categories", views.CategoryViewSet, basename="category")
router.register("products", views.ProductViewSet, basename="product")
router.register(r"products/(?P<product_slug>[-\w]+)/variants", views.ProductVariantViewSet, basename="product-variant")
router.register(r"products/(?P<product_slug>[-\w]+)/images", views.ProductImageViewSet, basename="product-image")
router.register(r"products/(?P<product_slug>[-\w]+)/reviews", views.ReviewViewSet, basename="product-review")
router.register("wishlist", views.WishlistViewSet, basename="wishlist")

urlpatterns = [path("", include(router.urls))]
