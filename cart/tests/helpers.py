"""URLs and small helpers shared by the cart tests."""

CART_URL = "/api/v1/cart/"
ITEMS_URL = "/api/v1/cart/items/"
COUPON_URL = "/api/v1/cart/coupon/"
METHODS_URL = "/api/v1/shipping/methods/"


def item_url(item_id) -> str:
    return f"{ITEMS_URL}{item_id}/"


def token_headers(token) -> dict:
    return {"HTTP_X_CART_TOKEN": str(token)}
