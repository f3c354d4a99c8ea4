"""The demo storefront (storefront/, served at /storefront/) driven in headless Chromium through a
real server: uvicorn serving the project's ASGI app against the test database, websockets included.

A guest browses, searches, buys with a coupon and pays; a customer registers, logs in, buys, watches
the order change live, finds it in the history and chats with support. Any console error, uncaught
page error, failed request or HTTP answer >= 400 fails the test, except the ones a step provokes
on purpose (declared with `browser.expect_failure`).

Needs Debian's chromium (`apt-get install chromium`; .ci/run installs it) and the `playwright`
package (requirements-dev.txt). Playwright's own browser download is not used. Missing either:
skipped locally, failed in CI (CI=true)."""

from __future__ import annotations

import functools
import os
import re
import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest
import requests
from django.core import mail
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken
from waffle.models import Flag

from chat.models import Message
from coupons.tests.factories import CouponFactory
from orders.models import Order
from shipping.tests.factories import ShippingMethodFactory, ShippingZoneFactory
from shop.models import ProductVariant
from shop.tests.factories import CategoryFactory, ProductFactory, ProductImageFactory, ProductVariantFactory
from tests.support.live_server import LiveAsgiServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

STEP_TIMEOUT_MS = 15_000


def _chromium_path() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def _missing_browser_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    if _chromium_path() is None:
        return "chromium is not installed (apt-get install -y chromium)"
    return None


def skip_or_fail(reason: str) -> None:
    """Locally a missing browser skips, with the reason; in CI it is a failure, never a quiet skip."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"storefront browser test cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium_executable() -> str:
    reason = _missing_browser_reason()
    if reason:
        skip_or_fail(reason)
    return _chromium_path()


@pytest.mark.django_db(transaction=False)
def test_a_missing_browser_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception, match="cannot run in CI: chromium is not installed"):
        skip_or_fail("chromium is not installed")


@pytest.mark.django_db(transaction=False)
def test_a_missing_browser_skips_locally(monkeypatch):
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception, match="chromium is not installed"):
        skip_or_fail("chromium is not installed")


# ---- servers ----------------------------------------------------------------------------------


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:  # the access log would flood the test output
        pass


@pytest.fixture
def media_server(settings):
    """Product images from another origin, as from object storage or a CDN: an absolute MEDIA_URL
    (the test settings do not serve /media/ themselves)."""
    handler = functools.partial(_QuietFiles, directory=settings.MEDIA_ROOT)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.MEDIA_URL = f"http://127.0.0.1:{server.server_address[1]}/"
    yield settings.MEDIA_URL
    server.shutdown()
    server.server_close()


@pytest.fixture
def asgi_server(settings, media_server, monkeypatch):
    from ecommerce_api.asgi import application

    # The server's threads open their own connections; close them after every request so none is
    # left behind when the test database is flushed.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    with LiveAsgiServer(application) as server:
        # No external storefront: email links land on this one, at this server.
        settings.PUBLIC_URL, settings.FRONTEND_URL = server.url, ""
        yield server


# ---- the shop ---------------------------------------------------------------------------------


@dataclass
class Shop:
    lantern_slug: str
    tent_slug: str
    standard_method: str
    staff_token: str
    coupon: str = "SPRING10"
    skus: dict = field(default_factory=dict)


@pytest.fixture
def shop(db, staff_user) -> Shop:
    Flag.objects.update_or_create(name="support_chat", defaults={"everyone": True})
    outdoor = CategoryFactory(name="Outdoor", slug="outdoor")
    lights = CategoryFactory(name="Camp Lights", slug="camp-lights", parent=outdoor)
    tents = CategoryFactory(name="Tents", slug="tents", parent=outdoor)
    CategoryFactory(name="Kitchen", slug="kitchen")
    lantern = ProductFactory(name="Storm Lantern", slug="storm-lantern", category=lights, variants=0)
    ProductVariantFactory(product=lantern, sku="LANT-S", name="Small", options={"size": "S"}, price=Decimal("20.00"))
    ProductVariantFactory(product=lantern, sku="LANT-L", name="Large", options={"size": "L"}, price=Decimal("30.00"))
    ProductImageFactory(product=lantern, alt_text="Storm Lantern, lit", sort_order=0)
    ProductImageFactory(product=lantern, alt_text="Storm Lantern, side", sort_order=1)
    tent = ProductFactory(name="Ridge Tent", slug="ridge-tent", category=tents, variants=0)
    ProductVariantFactory(
        product=tent, sku="TENT-2P", name="2 person", options={"capacity": "2"}, price=Decimal("120.00")
    )
    ProductImageFactory(product=tent, alt_text="Ridge Tent")
    zone = ShippingZoneFactory(name="United States", countries=["US"])
    standard = ShippingMethodFactory(zone=zone, name="Standard", flat_price=Decimal("5.00"), currency="USD")
    ShippingMethodFactory(zone=zone, name="Express", flat_price=Decimal("15.00"), currency="USD")
    CouponFactory(code="SPRING10", value=Decimal("10"))
    return Shop(
        skus={variant.sku: variant.pk for variant in ProductVariant.objects.all()},
        lantern_slug=lantern.slug,
        tent_slug=tent.slug,
        standard_method=str(standard.pk),
        staff_token=str(AccessToken.for_user(staff_user)),
    )


# ---- the browser ------------------------------------------------------------------------------


@dataclass
class Problems:
    """What went wrong in the page, minus what a step provoked on purpose."""

    base_url: str
    seen: list[str] = field(default_factory=list)
    allowed: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path, status)
    allowed_urls: set[str] = field(default_factory=set)

    def on_console(self, message) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        # Chrome logs every failed resource as a console error too; a provoked answer is expected.
        if "Failed to load resource" in message.text and any(url.startswith(allowed) for allowed in self.allowed_urls):
            return
        self.seen.append(f"console error: {message.text} ({url})")

    def on_page_error(self, error) -> None:
        self.seen.append(f"uncaught error: {error}")

    def on_request_failed(self, request) -> None:
        failure = request.failure or ""
        # An image still loading when the next page replaces it is cancelled by the browser.
        if request.resource_type == "image" and "ERR_ABORTED" in failure:
            return
        self.seen.append(f"request failed: {request.method} {request.url} ({failure})")

    def on_response(self, response) -> None:
        if response.status < 400:
            return
        path = response.url.split("?")[0]
        for index, (method, allowed_path, status) in enumerate(self.allowed):
            if response.request.method == method and path.endswith(allowed_path) and response.status == status:
                del self.allowed[index]
                return
        self.seen.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    @contextmanager
    def expect_failure(self, method: str, path: str, status: int):
        """The step inside provokes this one answer on purpose; it must happen."""
        entry = (method, path, status)
        self.allowed.append(entry)
        self.allowed_urls.add(f"{self.base_url}/api/v1/{path.lstrip('/')}".split("?")[0])
        yield
        assert entry not in self.allowed, f"expected {method} {path} to answer {status}"


@contextmanager
def browser_page(chromium_executable: str, base_url: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable, headless=True, args=["--no-sandbox"])
        try:
            context = browser.new_context(locale="en-US", timezone_id="UTC")
            page = context.new_page()
            page.set_default_timeout(STEP_TIMEOUT_MS)
            problems = Problems(base_url=base_url)
            page.on("console", problems.on_console)
            page.on("pageerror", problems.on_page_error)
            page.on("requestfailed", problems.on_request_failed)
            page.on("response", problems.on_response)
            yield page, problems
        finally:
            browser.close()


def open_storefront(page, base_url: str, route: str = "#/") -> None:
    page.goto(f"{base_url}/storefront/{route}")
    page.wait_for_selector("body[data-ready=true]")


def assert_images_loaded(page, selector: str) -> None:
    page.wait_for_function(
        """selector => {
            const images = [...document.querySelectorAll(selector)];
            return images.length > 0 && images.every(image => image.complete && image.naturalWidth > 0);
        }""",
        arg=selector,
    )


def choose_shipping(page, expect) -> None:
    page.select_option("#shipping-country", "US")
    page.get_by_label(re.compile(r"Standard: \$5\.00")).check()
    expect(page.locator("#cart-shipping")).to_have_text("$5.00")


def fill_address(page) -> None:
    form = page.locator("#checkout-form")
    for name, value in {
        "first_name": "Robin",
        "last_name": "Buyer",
        "line1": "1 Market Street",
        "city": "Austin",
        "postal_code": "78701",
    }.items():
        form.locator(f"input[name={name}]").fill(value)
    form.locator("select[name=country]").select_option("US")


def place_order(page, expect) -> str:
    page.click("#place-order")
    page.wait_for_url(re.compile(r"#/orders/[0-9a-f-]{36}"))
    expect(page.locator("#order-status")).to_have_attribute("data-status", "pending_payment")
    return re.search(r"#/orders/([0-9a-f-]{36})", page.url).group(1)


# ---- the purchases ----------------------------------------------------------------------------


def test_a_guest_browses_searches_and_buys_with_a_coupon(chromium_executable, asgi_server, shop):
    from playwright.sync_api import expect

    base = asgi_server.url
    with browser_page(chromium_executable, base) as (page, problems):
        # Browse: a root category lists its sub-categories' products, facets count them.
        open_storefront(page, base)
        page.click("#categories a[data-category=outdoor]")
        expect(page.locator("#products .card")).to_have_count(2)
        expect(page.locator("#facet-categories a[data-facet-category=tents]")).to_have_text("Tents (1)")
        assert_images_loaded(page, "#products img")
        page.click("#facet-categories a[data-facet-category=tents]")
        expect(page.locator("#products .card")).to_have_count(1)
        expect(page.locator("#products .card .name")).to_have_text("Ridge Tent")

        # Search with suggestions.
        page.fill("#search", "lant")
        page.locator("#suggestions a[data-slug=storm-lantern]").click()
        page.wait_for_url(re.compile(r"#/p/storm-lantern$"))

        # Product page: two images, two variants, pick the large one.
        expect(page.locator("h1")).to_have_text("Storm Lantern")
        expect(page.locator(".thumbs img")).to_have_count(2)
        assert_images_loaded(page, ".gallery img")
        page.check("#variants input[data-sku=LANT-L]")
        expect(page.locator("#variant-price")).to_have_text("$30.00")
        page.fill("#quantity", "2")
        page.click("#add-to-cart")
        expect(page.locator("#cart-count")).to_have_text("2")

        # Cart: a wrong code is refused and explained, the right one applies.
        page.click("#nav-cart")
        expect(page.locator("#cart-lines tr[data-sku=LANT-L]")).to_be_visible()
        page.fill("#coupon-code", "NOPE")
        with problems.expect_failure("POST", "cart/coupon/", 400):
            page.click("#coupon-form button[type=submit]")
            expect(page.locator("#cart-problems .error")).to_have_attribute("data-code", "coupon_not_found")
        page.fill("#coupon-code", "spring10")
        page.click("#coupon-form button[type=submit]")
        expect(page.locator("#cart-discount")).to_have_text("-$6.00")
        choose_shipping(page, expect)
        expect(page.locator("#cart-total")).to_have_text("$59.00")  # 60 - 6 + 5, no tax rate for US

        # Guest checkout and payment with the dummy gateway.
        page.click("#to-checkout")
        page.fill("#checkout-form input[name=email]", "guest.buyer@example.com")
        fill_address(page)
        order_id = place_order(page, expect)
        page.click("#pay")
        expect(page.locator("#order-status")).to_have_attribute("data-status", "paid")
        expect(page.locator("#order-lines")).to_contain_text("Storm Lantern")
        assert_images_loaded(page, "#order-lines img")
        # The order socket (/ws/orders/<id>/?order_token=) answers with the status on connect.
        expect(page.locator("#live-note")).to_contain_text("Live")

        # The link in the confirmation email opens the same order in a fresh browser tab.
        token_links = [m for m in mail.outbox if order_id in m.body]
        assert token_links, "no email links to the order"
        link = re.search(r"https?://\S*#/orders/" + order_id + r"\?order_token=\S+", token_links[0].body)
        assert link, token_links[0].body
        fresh = page.context.new_page()
        fresh.on("console", problems.on_console)
        fresh.on("response", problems.on_response)
        fresh.goto(link.group(0))
        fresh.wait_for_selector("body[data-ready=true]")
        expect(fresh.locator("#order-status")).to_have_attribute("data-status", "paid")
        fresh.close()

        assert problems.seen == []

    order = Order.objects.get(pk=order_id)
    assert (order.status, order.guest_email, order.coupon_code, order.total) == (
        "paid",
        "guest.buyer@example.com",
        "SPRING10",
        Decimal("59.00"),
    )
    assert order.user_id is None


def test_a_customer_registers_buys_follows_the_order_live_and_chats(chromium_executable, asgi_server, shop):
    from playwright.sync_api import expect

    base = asgi_server.url
    staff = {"Authorization": f"Bearer {shop.staff_token}"}
    with browser_page(chromium_executable, base) as (page, problems):
        # Register, verify the address from the email, log in.
        open_storefront(page, base, "#/register")
        form = page.locator("#register-form")
        form.locator("input[name=first_name]").fill("Casey")
        form.locator("input[name=last_name]").fill("Customer")
        form.locator("input[name=email]").fill("casey@example.com")
        form.locator("input[name=password]").fill("a-long-Secret-42")
        form.locator("button[type=submit]").click()
        expect(page.locator("#register-done")).to_be_visible()
        verification = next(m for m in mail.outbox if "casey@example.com" in m.to)
        token = re.search(r"verify-email(?:/|\?token=)([^/\s&]+)", verification.body)
        assert token, verification.body
        verified = requests.get(f"{base}/api/v1/authentication/verify-email/{unquote(token.group(1))}/", timeout=10)
        assert verified.status_code == 200, verified.text

        page.goto(f"{base}/storefront/#/login")
        page.fill("#login-form input[name=email]", "casey@example.com")
        page.fill("#login-form input[name=password]", "a-long-Secret-42")
        page.click("#login-form button[type=submit]")
        expect(page.locator("#whoami")).to_have_text("casey@example.com")
        page.wait_for_url(re.compile(r"/storefront/#/$"))  # back where the login was asked from

        # Buy the tent.
        page.goto(f"{base}/storefront/#/p/{shop.tent_slug}")
        page.click("#add-to-cart")
        expect(page.locator("#cart-count")).to_have_text("1")
        page.click("#nav-cart")
        choose_shipping(page, expect)
        page.click("#to-checkout")
        expect(page.locator("#checkout-form")).to_contain_text("Ordering as casey@example.com")
        fill_address(page)
        order_id = place_order(page, expect)
        page.click("#pay")
        expect(page.locator("#order-status")).to_have_attribute("data-status", "paid")

        # Staff ship it: the open page changes by itself, through /ws/orders/<id>/.
        expect(page.locator("#live-note")).to_contain_text("Live")
        shipped = requests.post(
            f"{base}/api/v1/orders/{order_id}/ship/",
            json={"carrier": "UPS", "tracking_number": "1Z999"},
            headers=staff,
            timeout=10,
        )
        assert shipped.status_code == 200, shipped.text
        expect(page.locator("#order-status")).to_have_attribute("data-status", "shipped", timeout=5_000)

        # History.
        page.click("#nav-orders")
        row = page.locator(f"#order-history tr[data-order-id='{order_id}']")
        expect(row.locator(".status")).to_have_attribute("data-status", "shipped")

        # Support chat: open a conversation, talk over the socket, get an answer live.
        page.click("#chat-toggle")
        page.fill("#chat-first", "Where is my tent?")
        page.click("#chat-start button[type=submit]")
        expect(page.locator("#chat-status")).to_have_attribute("data-state", "open")
        expect(page.locator("#chat-messages .msg-customer .body")).to_have_text(["Where is my tent?"])
        page.fill("#chat-input", "It is order " + order_id[:8])
        page.click("#chat-send")
        expect(page.locator("#chat-messages .msg-customer")).to_have_count(2)
        conversations = requests.get(f"{base}/api/v1/chat/conversations/", headers=staff, timeout=10).json()
        conversation_id = conversations["results"][0]["id"]
        answered = requests.post(
            f"{base}/api/v1/chat/conversations/{conversation_id}/messages/",
            json={"body": "It ships today."},
            headers=staff,
            timeout=10,
        )
        assert answered.status_code == 201, answered.text
        expect(page.locator("#chat-messages .msg-agent .body")).to_have_text(["It ships today."])

        assert problems.seen == []

    order = Order.objects.get(pk=order_id)
    assert (order.status, order.user.email, order.total) == ("shipped", "casey@example.com", Decimal("125.00"))
    assert list(Message.objects.order_by("created_at").values_list("body", "sender_role")) == [
        ("Where is my tent?", "customer"),
        ("It is order " + order_id[:8], "customer"),
        ("It ships today.", "agent"),
    ]


def _guest_order(base: str, shop: Shop) -> tuple[str, str]:
    """A guest's unpaid order placed through the API, as the storefront would place it."""
    added = requests.post(
        f"{base}/api/v1/cart/items/", json={"variant_id": shop.skus["LANT-S"], "quantity": 1}, timeout=10
    )
    assert added.status_code == 201, added.text
    placed = requests.post(
        f"{base}/api/v1/orders/",
        json={
            "email": "guest@example.com",
            "shipping_method_id": shop.standard_method,
            "shipping_address": {
                "first_name": "G",
                "last_name": "Uest",
                "line1": "1 Road",
                "city": "Austin",
                "country": "US",
            },
        },
        headers={"X-Cart-Token": added.headers["X-Cart-Token"], "Idempotency-Key": "guard-test"},
        timeout=10,
    )
    assert placed.status_code == 201, placed.text
    return placed.json()["id"], placed.json()["order_token"]


@pytest.mark.parametrize(
    ("close_code", "note", "console_error"),
    [
        # A server without /ws/orders/ (or an order the socket cannot open): poll quietly.
        (4404, "live updates unavailable", None),
        # A real failure is reported, not hidden; the page still keeps the status current by polling.
        (1011, "connection lost", "order status socket closed (code 1011"),
    ],
)
def test_the_order_page_falls_back_to_polling_when_the_status_socket_is_refused(
    chromium_executable, asgi_server, shop, close_code, note, console_error
):
    from playwright.sync_api import expect

    base = asgi_server.url
    order_id, order_token = _guest_order(base, shop)
    with browser_page(chromium_executable, base) as (page, problems):
        page.route_web_socket(re.compile(r"/ws/orders/"), lambda socket: socket.close(code=close_code))
        open_storefront(page, base, f"#/orders/{order_id}?order_token={order_token}")
        expect(page.locator("#order-status")).to_have_attribute("data-status", "pending_payment")
        expect(page.locator("#live-note")).to_contain_text(note)
        # Paid elsewhere (another tab): the polling page notices within its interval.
        paid = requests.post(
            f"{base}/api/v1/payments/",
            json={"order_id": order_id, "order_token": order_token},
            headers={"Idempotency-Key": "guard-pay"},
            timeout=10,
        )
        assert paid.status_code == 201, paid.text
        expect(page.locator("#order-status")).to_have_attribute("data-status", "paid", timeout=15_000)

        if console_error is None:
            assert problems.seen == []
        else:
            assert any(console_error in problem for problem in problems.seen), problems.seen
            assert all(problem.startswith("console error: order status socket closed") for problem in problems.seen)
