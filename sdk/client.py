"""`ECommerceClient`: one method per customer-facing operation of the API (SPEC.md section 5).

Naming: `get_*` reads one object or one page, `iter_*` walks every page, `create_*`, `update_*`,
`delete_*` write. Methods return typed models (`sdk.models`), pages as `Page[T]`, and raise
`sdk.errors.APIError` subclasses carrying the API's error code.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

import requests

from .errors import AuthenticationError
from .http import TokenCallback, Transport
from .models import (
    Address,
    AuthResult,
    Cart,
    Category,
    Conversation,
    CursorPage,
    Id,
    Message,
    Model,
    Order,
    OrderEvent,
    Page,
    Payment,
    Product,
    ProductDetail,
    ProductFacets,
    ReadReceipt,
    RelatedProducts,
    Review,
    ShippingMethod,
    Suggestions,
    Tokens,
    User,
    WishlistItem,
)

M = TypeVar("M", bound=Model)


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


def _segment(value: Id) -> str:
    """A path segment from a slug or id, escaped so a hostile value cannot change the path."""
    return quote(str(value), safe="")


def _money(value: Decimal | str | int | None) -> str | None:
    # Decimal strings on the wire, never floats (SPEC.md section 4).
    if value is None:
        return None
    if isinstance(value, float):
        raise TypeError("Pass amounts as Decimal or str, not float.")
    return str(value)


def _without_none(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def _detail(data: Any) -> str:
    return str(data.get("detail", "")) if isinstance(data, dict) else ""


def _timestamp(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def _catalog_filters(
    category: str | None,
    q: str | None,
    min_price: Decimal | str | int | None,
    max_price: Decimal | str | int | None,
    in_stock: bool | None,
    rating_min: Decimal | str | int | None,
) -> dict[str, Any]:
    return {
        "category": category,
        "q": q,
        "min_price": _money(min_price),
        "max_price": _money(max_price),
        "in_stock": in_stock,
        "rating_min": _money(rating_min),
    }


_ADDRESS_INPUT_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "line1",
    "line2",
    "city",
    "region",
    "postal_code",
    "country",
    "phone",
)


def _address_input(address: Address) -> dict[str, Any]:
    return _without_none({name: getattr(address, name) for name in _ADDRESS_INPUT_FIELDS})


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


class ECommerceClient:
    """A client for the e-commerce API.

    >>> client = ECommerceClient("https://api.example.com", token="<access>", refresh_token="<refresh>")
    >>> for product in client.iter_products(category="shoes", in_stock=True):
    ...     print(product.name, product.price, product.currency)

    `token`/`refresh_token`: a JWT pair from an earlier login (or call `login()`). When the access
    token expires the client refreshes it once per 401 and reports the rotated pair to `on_tokens`
    (called with `None` when the tokens become invalid), so an app can persist them.
    `cart_token`: an anonymous cart's token from an earlier session; the client also remembers the
    `X-Cart-Token` the server returns and sends it on later calls.
    `max_retries`, `backoff_factor`, `max_backoff`, `max_retry_after`, `timeout`: see `sdk.http`.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        refresh_token: str | None = None,
        on_tokens: TokenCallback | None = None,
        cart_token: str | None = None,
        timeout: float | tuple[float, float] = 10.0,
        max_retries: int = 3,
        backoff_factor: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_after: float = 30.0,
        session: requests.Session | None = None,
        user_agent: str | None = None,
    ) -> None:
        self.http = Transport(
            base_url,
            access_token=token,
            refresh_token=refresh_token,
            on_tokens=on_tokens,
            cart_token=cart_token,
            timeout=timeout,
            max_retries=max_retries,
            backoff_factor=backoff_factor,
            max_backoff=max_backoff,
            max_retry_after=max_retry_after,
            session=session,
            user_agent=user_agent,
        )

    # --- state and plumbing -------------------------------------------------------------------

    @property
    def token(self) -> str | None:
        return self.http.access_token

    @property
    def refresh_token(self) -> str | None:
        return self.http.refresh_token

    @property
    def tokens(self) -> Tokens | None:
        if not (self.http.access_token or self.http.refresh_token):
            return None
        return Tokens(access=self.http.access_token, refresh=self.http.refresh_token)

    @property
    def cart_token(self) -> str | None:
        return self.http.cart_token

    @cart_token.setter
    def cart_token(self, value: str | None) -> None:
        self.http.cart_token = value

    def set_tokens(self, access: str | None, refresh: str | None = None) -> None:
        """Use a token pair obtained elsewhere (does not call `on_tokens`)."""
        self.http.set_tokens(access, refresh, notify=False)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ECommerceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call any endpoint under /api/v1/ (for what this SDK version has no method for yet);
        returns the decoded JSON. Same auth, refresh, retries and errors as every method."""
        return self.http.request(method, path, **kwargs).data

    def _get(self, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.http.request("GET", path, params=params, **kwargs).data

    def _post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.http.request("POST", path, json=json, **kwargs).data

    def _patch(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.http.request("PATCH", path, json=json, **kwargs).data

    def _delete(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.http.request("DELETE", path, json=json, **kwargs).data

    def _page(self, path: str, model: type[M], params: Mapping[str, Any] | None = None) -> Page[M]:
        return Page.parse(self._get(path, params), model)

    def _all(self, path: str, model: type[M], params: Mapping[str, Any] | None = None) -> list[M]:
        """Every item of a short list, whether the server paginates it or answers a bare list."""
        return list(self._iterate(lambda: self._page(path, model, params), model))

    def _iterate(self, first: Callable[[], Page[M]], model: type[M], page_type: type[Page] = Page) -> Iterator[M]:
        """Yield every item of every page, following `next` links (the server's own, so filters and
        ordering stay exactly as the first page had them)."""
        page = first()
        while True:
            yield from page.results
            if not page.next:
                return
            page = page_type.parse(self._get(page.next), model)

    def _auth_result(self, data: Any) -> AuthResult:
        result = AuthResult.from_dict(data)
        if result.tokens and result.tokens.access:
            self.http.set_tokens(result.tokens.access, result.tokens.refresh)
        return result

    # --- authentication -----------------------------------------------------------------------

    def register(
        self,
        email: str,
        password: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> str:
        """Create an account; the server emails a verification link (log in after opening it).
        The answer is the same whether or not the address was already registered."""
        body = _without_none({"email": email, "password": password, "first_name": first_name, "last_name": last_name})
        return _detail(self._post("authentication/register/", body, authenticate=False))

    def verify_email(self, token: str) -> str:
        """Confirm an email address with the token from the verification link; returns the message."""
        return _detail(self._get(f"authentication/verify-email/{_segment(token)}/", authenticate=False))

    def resend_verification(self, email: str) -> str:
        return _detail(self._post("authentication/verify-email/resend/", {"email": email}, authenticate=False))

    def login(self, email: str, password: str) -> AuthResult:
        """Log in; the tokens are kept on the client and handed to `on_tokens`. A wrong password or
        an unknown email is 401 `invalid_credentials`, an unverified address 401
        `email_not_verified`, too many failures 429 `login_locked` (see `RateLimited.retry_after`)."""
        body = {"email": email, "password": password}
        return self._auth_result(self._post("authentication/login/", body, authenticate=False))

    def refresh(self) -> Tokens:
        """Rotate the token pair now (the client also does this by itself on a 401)."""
        return self.http.refresh()

    def logout(self) -> None:
        """Blacklist the refresh token on the server and forget the tokens and the cart token."""
        try:
            if self.http.refresh_token:
                self._post("authentication/logout/", {"refresh": self.http.refresh_token}, authenticate=False)
        except AuthenticationError:
            pass  # the refresh token was already dead: that is logged out too
        finally:
            self.http.set_tokens(None, None)
            self.http.cart_token = None

    def request_password_reset(self, email: str) -> str:
        """Email a reset link (the answer is the same whether or not the address is known)."""
        return _detail(self._post("authentication/password/reset/", {"email": email}, authenticate=False))

    def confirm_password_reset(self, uid: str, token: str, new_password: str) -> None:
        """Set a new password with the `uid` and `token` of the emailed reset link."""
        self._post(
            "authentication/password/reset/confirm/",
            {"uid": uid, "token": token, "new_password": new_password},
            authenticate=False,
        )

    def change_password(self, current_password: str, new_password: str) -> AuthResult:
        """Change the password. Other sessions end; this client continues with the fresh token
        pair of the answer."""
        body = {"current_password": current_password, "new_password": new_password}
        return self._auth_result(self._post("authentication/password/change/", body))

    def request_otp(self, phone: str) -> str:
        """Text a one-time login code to `phone` (international format, e.g. "+14155550123")."""
        return _detail(self._post("authentication/otp/request/", {"phone": phone}, authenticate=False))

    def verify_otp(self, phone: str, code: str) -> AuthResult:
        """Log in with the texted 6-digit code; the tokens are kept on the client."""
        body = {"phone": phone, "code": code}
        return self._auth_result(self._post("authentication/otp/verify/", body, authenticate=False))

    def social_login(
        self,
        provider: str,
        access_token: str | None = None,
        *,
        id_token: str | None = None,
        code: str | None = None,
        redirect_uri: str | None = None,
        code_verifier: str | None = None,
    ) -> AuthResult:
        """Log in with what the provider (`google-oauth2`, `facebook`, `instagram`) gave the client:
        an `access_token`, a Google `id_token` (One Tap), or an authorization `code` with the
        `redirect_uri` it was issued for (and the PKCE `code_verifier`). Send exactly one of the
        three; the server answers 400 otherwise."""
        body = {
            name: value
            for name, value in (
                ("access_token", access_token),
                ("id_token", id_token),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", code_verifier),
            )
            if value is not None
        }
        path = f"authentication/social/{_segment(provider)}/"
        return self._auth_result(self._post(path, body, authenticate=False))

    # --- account ----------------------------------------------------------------------------

    def get_me(self) -> User:
        return User.from_dict(self._get("account/me/"))

    def update_me(
        self,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        marketing_opt_in: bool | None = None,
        sms_opt_in: bool | None = None,
        email: str | None = None,
        phone: str | None = None,
        **fields: Any,
    ) -> User:
        """Change profile fields; only those given are sent. A new `email` or `phone` stays in
        `pending_email`/`pending_phone` until verified (link by email; `verify_phone(code)`);
        `phone=""` removes the phone."""
        changes = _without_none(
            {
                "first_name": first_name,
                "last_name": last_name,
                "marketing_opt_in": marketing_opt_in,
                "sms_opt_in": sms_opt_in,
                "email": email,
                "phone": phone,
                **fields,
            }
        )
        return User.from_dict(self._patch("account/me/", changes))

    def verify_phone(self, code: str) -> User:
        """Confirm the pending phone with the texted code."""
        return User.from_dict(self._post("account/me/phone/verify/", {"code": code}))

    def delete_me(self, password: str | None = None, *, code: str | None = None) -> None:
        """Anonymise and deactivate the account (orders are kept); the client forgets its tokens.
        Accounts without a password confirm with a `code` from `request_otp`."""
        if password is None and code is None:
            raise ValueError("Pass the password (or, for accounts without one, an OTP code).")
        self._delete("account/me/", _without_none({"password": password, "code": code}))
        self.http.set_tokens(None, None)
        self.http.cart_token = None

    def export_my_data(self) -> dict[str, Any]:
        """Everything the shop stores about the caller, as one JSON document (GDPR export)."""
        return self._get("account/export/")

    def list_addresses(self, *, page: int | None = None, page_size: int | None = None) -> Page[Address]:
        return self._page("account/addresses/", Address, {"page": page, "page_size": page_size})

    get_addresses = list_addresses

    def iter_addresses(self) -> Iterator[Address]:
        return self._iterate(lambda: self.list_addresses(page_size=100), Address)

    def get_address(self, address_id: Id) -> Address:
        return Address.from_dict(self._get(f"account/addresses/{_segment(address_id)}/"))

    def create_address(
        self,
        *,
        first_name: str,
        last_name: str,
        line1: str,
        city: str,
        country: str,
        line2: str | None = None,
        company: str | None = None,
        region: str | None = None,
        postal_code: str | None = None,
        phone: str | None = None,
        is_default_shipping: bool | None = None,
        is_default_billing: bool | None = None,
        **fields: Any,
    ) -> Address:
        """Add an address; `country` is an ISO 3166-1 alpha-2 code. Making it a default takes the
        flag from the previous default."""
        payload = _without_none(
            {
                "first_name": first_name,
                "last_name": last_name,
                "company": company,
                "line1": line1,
                "line2": line2,
                "city": city,
                "region": region,
                "postal_code": postal_code,
                "country": country,
                "phone": phone,
                "is_default_shipping": is_default_shipping,
                "is_default_billing": is_default_billing,
                **fields,
            }
        )
        return Address.from_dict(self._post("account/addresses/", payload))

    def update_address(self, address_id: Id, **fields: Any) -> Address:
        """Change some fields, e.g. `update_address(id, city="Lyon", is_default_billing=True)`."""
        return Address.from_dict(self._patch(f"account/addresses/{_segment(address_id)}/", fields))

    def delete_address(self, address_id: Id) -> None:
        self._delete(f"account/addresses/{_segment(address_id)}/")

    # --- catalog ----------------------------------------------------------------------------

    def get_categories(self) -> list[Category]:
        """The category tree: root categories, each with its `children`."""
        return self._all("categories/", Category)

    def get_category(self, slug: str) -> Category:
        """A category with its `parent`, `ancestors` (root first) and subtree (`children`)."""
        return Category.from_dict(self._get(f"categories/{_segment(slug)}/"))

    def get_products(
        self,
        *,
        category: str | None = None,
        q: str | None = None,
        min_price: Decimal | str | int | None = None,
        max_price: Decimal | str | int | None = None,
        in_stock: bool | None = None,
        rating_min: Decimal | str | int | None = None,
        ordering: str | None = None,
        page: int | None = None,
        page_size: int | None = None,
        **filters: Any,
    ) -> Page[Product]:
        """One page of products. `category` is a slug (sub-categories included); `ordering` one of
        `price`, `-price`, `-created_at`, `-rating`, `name`, `relevance` (the default with `q`)."""
        params = {
            **_catalog_filters(category, q, min_price, max_price, in_stock, rating_min),
            "ordering": ordering,
            "page": page,
            "page_size": page_size,
            **filters,
        }
        return self._page("products/", Product, params)

    def iter_products(self, *, page_size: int = 100, **filters: Any) -> Iterator[Product]:
        """Every product matching the filters of `get_products`, page after page (lazily)."""
        return self._iterate(lambda: self.get_products(page_size=page_size, **filters), Product)

    def get_product_facets(
        self,
        *,
        category: str | None = None,
        q: str | None = None,
        min_price: Decimal | str | int | None = None,
        max_price: Decimal | str | int | None = None,
        in_stock: bool | None = None,
        rating_min: Decimal | str | int | None = None,
        **filters: Any,
    ) -> ProductFacets:
        """Counts for the same filters as `get_products`: per category, price range, in stock."""
        params = {**_catalog_filters(category, q, min_price, max_price, in_stock, rating_min), **filters}
        return ProductFacets.from_dict(self._get("products/facets/", params))

    def suggest_products(self, q: str) -> Suggestions:
        """Autocomplete (at least 2 characters): matching products and categories."""
        return Suggestions.from_dict(self._get("products/suggest/", {"q": q}))

    def get_product(self, slug: str) -> ProductDetail:
        """A product page: variants (SKU, options, price, stock), images, attributes, rating."""
        return ProductDetail.from_dict(self._get(f"products/{_segment(slug)}/"))

    def get_related_products(self, slug: str) -> RelatedProducts:
        """Products of the same category and products bought together with this one."""
        return RelatedProducts.from_dict(self._get(f"products/{_segment(slug)}/related/"))

    def get_reviews(self, slug: str, *, page: int | None = None, page_size: int | None = None) -> Page[Review]:
        return self._page(f"products/{_segment(slug)}/reviews/", Review, {"page": page, "page_size": page_size})

    def iter_reviews(self, slug: str) -> Iterator[Review]:
        return self._iterate(lambda: self.get_reviews(slug, page_size=100), Review)

    def get_review(self, slug: str, review_id: Id) -> Review:
        return Review.from_dict(self._get(f"products/{_segment(slug)}/reviews/{_segment(review_id)}/"))

    def create_review(self, slug: str, *, rating: int, title: str | None = None, body: str | None = None) -> Review:
        """Review a product you bought and paid for (one review per product; rating 1 to 5)."""
        payload = _without_none({"rating": rating, "title": title, "body": body})
        return Review.from_dict(self._post(f"products/{_segment(slug)}/reviews/", payload))

    def update_review(
        self,
        slug: str,
        review_id: Id,
        *,
        rating: int | None = None,
        title: str | None = None,
        body: str | None = None,
    ) -> Review:
        payload = _without_none({"rating": rating, "title": title, "body": body})
        return Review.from_dict(self._patch(f"products/{_segment(slug)}/reviews/{_segment(review_id)}/", payload))

    def delete_review(self, slug: str, review_id: Id) -> None:
        self._delete(f"products/{_segment(slug)}/reviews/{_segment(review_id)}/")

    def get_wishlist(self, *, page: int | None = None, page_size: int | None = None) -> Page[WishlistItem]:
        return self._page("wishlist/", WishlistItem, {"page": page, "page_size": page_size})

    def iter_wishlist(self) -> Iterator[WishlistItem]:
        return self._iterate(lambda: self.get_wishlist(page_size=100), WishlistItem)

    def add_to_wishlist(self, product_slug: str) -> WishlistItem:
        """Add a product (by slug); adding it again is harmless."""
        return WishlistItem.from_dict(self._post("wishlist/", {"product_slug": product_slug}))

    def remove_from_wishlist(self, product_slug: str) -> None:
        self._delete(f"wishlist/{_segment(product_slug)}/")

    # --- cart, coupons, shipping ------------------------------------------------------------

    def get_cart(self) -> Cart:
        """The current cart, priced (an empty cart with `id=None` before the first item)."""
        return Cart.from_dict(self._get("cart/"))

    def add_cart_item(self, variant_id: Id, quantity: int = 1) -> Cart:
        """Add a variant (quantities of a variant already in the cart add up). For an anonymous
        client this creates the cart, whose token the client keeps for later calls."""
        return Cart.from_dict(self._post("cart/items/", {"variant_id": variant_id, "quantity": quantity}))

    def update_cart_item(self, item_id: Id, quantity: int) -> Cart:
        return Cart.from_dict(self._patch(f"cart/items/{_segment(item_id)}/", {"quantity": quantity}))

    def remove_cart_item(self, item_id: Id) -> Cart:
        return Cart.from_dict(self._delete(f"cart/items/{_segment(item_id)}/"))

    def update_cart(
        self,
        *,
        country: str | None | _Unset = UNSET,
        region: str | None | _Unset = UNSET,
        shipping_method_id: Id | None | _Unset = UNSET,
    ) -> Cart:
        """Choose where and how the cart ships (the destination sets the tax). Arguments left out
        are kept; `None` clears them."""
        changes = {
            name: (str(value) if name == "shipping_method_id" and value is not None else value)
            for name, value in (("country", country), ("region", region), ("shipping_method_id", shipping_method_id))
            if value is not UNSET
        }
        return Cart.from_dict(self._patch("cart/", changes))

    def clear_cart(self) -> None:
        """Empty the cart: lines, coupon and shipping method."""
        self._delete("cart/")

    def apply_coupon(self, code: str) -> Cart:
        """Apply a coupon code (case-insensitive); refusals carry codes such as `coupon_expired`."""
        return Cart.from_dict(self._post("cart/coupon/", {"code": code}))

    def remove_coupon(self) -> Cart:
        return Cart.from_dict(self._delete("cart/coupon/"))

    def get_shipping_methods(self, country: str) -> list[ShippingMethod]:
        """Methods that deliver to `country` (ISO code), each priced for the current cart."""
        return self._all("shipping/methods/", ShippingMethod, {"country": country})

    # --- orders and payments ----------------------------------------------------------------

    def create_order(
        self,
        *,
        shipping_method_id: Id,
        shipping_address_id: Id | None = None,
        shipping_address: Mapping[str, Any] | Address | None = None,
        billing_address_id: Id | None = None,
        expected_total: Decimal | str | None = None,
        email: str | None = None,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Order:
        """Check out the cart into an order in `pending_payment` (stock and coupon reserved).

        Give an address-book id or a typed address (`first_name`, `last_name`, `line1`, `city`,
        `country`, ...). Pass the total you showed the customer as `expected_total`: if the server's
        differs the call fails with 409 `total_mismatch` and nothing is written. Not enough stock:
        409 `insufficient_stock`. An Idempotency-Key is generated unless given, and retries reuse
        it, so an order is never placed twice.

        Guest checkout (not logged in): pass `email` and a typed `shipping_address`; the anonymous
        cart of `cart_token` is checked out. The returned order's `order_token` is the only way to
        open it again (`get_order(..., order_token=)`, `create_payment(..., order_token=)`): keep it.
        A replayed retry answers the order without it (the confirmation email has the link).
        """
        if (shipping_address_id is None) == (shipping_address is None):
            raise ValueError("Pass exactly one of shipping_address_id or shipping_address.")
        if email is not None and (shipping_address is None or billing_address_id is not None):
            raise ValueError("A guest checkout (email) takes a typed shipping_address and no address-book ids.")
        if isinstance(shipping_address, Address):
            shipping_address = _address_input(shipping_address)
        payload = _without_none(
            {
                "shipping_method_id": str(shipping_method_id),
                "shipping_address_id": str(shipping_address_id) if shipping_address_id is not None else None,
                "shipping_address": dict(shipping_address) if shipping_address is not None else None,
                "billing_address_id": str(billing_address_id) if billing_address_id is not None else None,
                "expected_total": _money(expected_total),
                "email": email,
                **fields,
            }
        )
        key = idempotency_key or new_idempotency_key()
        return Order.from_dict(self._post("orders/", payload, idempotency_key=key))

    def get_orders(
        self,
        *,
        status: str | Sequence[str] | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        page: int | None = None,
        page_size: int | None = None,
    ) -> Page[Order]:
        """Your orders, newest first; `status` may be one status or several."""
        params = {
            "status": [status] if isinstance(status, str) else status,
            "created_after": _timestamp(created_after),
            "created_before": _timestamp(created_before),
            "page": page,
            "page_size": page_size,
        }
        return self._page("orders/", Order, params)

    def iter_orders(
        self,
        *,
        status: str | Sequence[str] | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
    ) -> Iterator[Order]:
        return self._iterate(
            lambda: self.get_orders(
                status=status, created_after=created_after, created_before=created_before, page_size=100
            ),
            Order,
        )

    def get_order(self, order_id: Id, *, order_token: str | None = None) -> Order:
        """One of your orders, or with `order_token` a guest order (no login needed)."""
        params = _without_none({"order_token": order_token})
        return Order.from_dict(self._get(f"orders/{_segment(order_id)}/", params or None))

    def get_order_events(self, order_id: Id, *, order_token: str | None = None) -> list[OrderEvent]:
        """The order's timeline (every change of state, with who made it and when)."""
        params = _without_none({"order_token": order_token})
        return self._all(f"orders/{_segment(order_id)}/events/", OrderEvent, params or None)

    def cancel_order(self, order_id: Id, *, reason: str | None = None) -> Order:
        """Cancel an unpaid order (its stock and coupon use are released); 409 otherwise."""
        return Order.from_dict(self._post(f"orders/{_segment(order_id)}/cancel/", _without_none({"reason": reason})))

    def create_payment(
        self, order_id: Id, *, order_token: str | None = None, idempotency_key: str | None = None
    ) -> Payment:
        """Start paying an order (a guest's: with its `order_token`). With Stripe, confirm
        `client_secret` with Stripe.js on the device; with the dummy gateway of local runs the
        payment succeeds at once. An Idempotency-Key is generated unless given, and retries reuse it."""
        key = idempotency_key or new_idempotency_key()
        payload = _without_none({"order_id": str(order_id), "order_token": order_token})
        return Payment.from_dict(self._post("payments/", payload, idempotency_key=key))

    def get_payment(self, payment_id: Id) -> Payment:
        return Payment.from_dict(self._get(f"payments/{_segment(payment_id)}/"))

    # --- support chat history ---------------------------------------------------------------

    def list_conversations(
        self,
        *,
        status: str | None = None,
        unread: bool | None = None,
        page: int | None = None,
        page_size: int | None = None,
    ) -> Page[Conversation]:
        """The caller's support conversations, most recently active first (`status`: open/closed)."""
        params = {"status": status, "unread": unread, "page": page, "page_size": page_size}
        return self._page("chat/conversations/", Conversation, params)

    def iter_conversations(self, *, status: str | None = None, unread: bool | None = None) -> Iterator[Conversation]:
        return self._iterate(lambda: self.list_conversations(status=status, unread=unread, page_size=100), Conversation)

    def create_conversation(
        self,
        body: str,
        *,
        subject: str | None = None,
        product: str | None = None,
        order_id: Id | None = None,
    ) -> Conversation:
        """Open a support conversation with its first message, optionally about a product (slug)
        or an order; the subject defaults to the start of the message."""
        payload = _without_none(
            {"body": body, "subject": subject, "product": product, "order_id": str(order_id) if order_id else None}
        )
        return Conversation.from_dict(self._post("chat/conversations/", payload))

    def get_conversation(self, conversation_id: Id) -> Conversation:
        return Conversation.from_dict(self._get(f"chat/conversations/{_segment(conversation_id)}/"))

    def get_messages(
        self, conversation_id: Id, *, cursor: str | None = None, page_size: int | None = None
    ) -> CursorPage[Message]:
        """One page of history, newest first; pass `page.next_cursor` as `cursor` for older ones."""
        path = f"chat/conversations/{_segment(conversation_id)}/messages/"
        return CursorPage.parse(self._get(path, {"cursor": cursor, "page_size": page_size}), Message)

    def iter_messages(self, conversation_id: Id, *, page_size: int = 100) -> Iterator[Message]:
        """The whole history, newest first."""
        return self._iterate(
            lambda: self.get_messages(conversation_id, page_size=page_size), Message, page_type=CursorPage
        )

    def send_message(self, conversation_id: Id, body: str) -> Message:
        """Post a message over HTTP (the websocket `/ws/chat/<id>/` is the live channel)."""
        path = f"chat/conversations/{_segment(conversation_id)}/messages/"
        return Message.from_dict(self._post(path, {"body": body}))

    def mark_messages_read(self, conversation_id: Id, message_id: Id) -> ReadReceipt:
        """Mark messages from the other side read, up to and including `message_id`."""
        path = f"chat/conversations/{_segment(conversation_id)}/read/"
        return ReadReceipt.from_dict(self._post(path, {"message_id": str(message_id)}))
