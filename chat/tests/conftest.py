import pytest
from channels.layers import channel_layers
from waffle.models import Flag

from chat.flags import SUPPORT_CHAT_FLAG
from shop.models import Category, Product


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test runs its own event loop; a channel layer kept from an earlier test still holds
    locks and connections bound to that loop (channels-redis), so every test gets a new one."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def chat_on(db):
    """The `support_chat` flag on for everyone, as in the sample data."""
    return Flag.objects.update_or_create(name=SUPPORT_CHAT_FLAG, defaults={"everyone": True})[0]


@pytest.fixture
def chat_off(db):
    return Flag.objects.update_or_create(name=SUPPORT_CHAT_FLAG, defaults={"everyone": False})[0]


@pytest.fixture
def product(db):
    category = Category.objects.create(name="Shoes", slug="shoes")
    return Product.objects.create(name="Trail Runner", slug="trail-runner", category=category)


@pytest.fixture
def chat_settings(settings):
    settings.CHAT_MESSAGE_MAX_LENGTH = 20
    settings.CHAT_REPLY_EMAIL_COOLDOWN_MINUTES = 15
    return settings


def make_order(customer):
    """A bare order of `customer`, enough to serve as a conversation's context."""
    from decimal import Decimal

    from django.utils import timezone

    from orders.models import Order

    return Order.objects.create(
        number=f"CHAT-{Order.objects.count() + 1:04d}",
        user=customer,
        email=customer.email or "",
        currency="USD",
        subtotal=Decimal("10.00"),
        total=Decimal("10.00"),
        payment_due_by=timezone.now(),
    )
