"""Factories for the orders tests: the catalog, shipping and cart rows a checkout needs."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from account.models import Address
from cart.models import Cart, CartLine
from coupons.models import Coupon
from orders.models import Order, OrderLine
from shipping.models import ShippingMethod, ShippingZone, ShippingZoneCountry, TaxRate
from shop.models import Category, Product, ProductVariant


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Orders category {n}")
    slug = factory.Sequence(lambda n: f"orders-category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"orders-product-{n}")
    category = factory.SubFactory(CategoryFactory)


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductVariant

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"ORD-SKU-{n:05d}")
    name = "Default"
    price = Decimal("10.00")
    currency = "USD"
    weight = Decimal("0.500")
    quantity_on_hand = 10
    quantity_allocated = 0


class ShippingZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingZone
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Orders zone {n}")

    @factory.post_generation
    def countries(self, create, extracted, **kwargs):
        for country in extracted or ():
            ShippingZoneCountry.objects.create(zone=self, country=country)


class ShippingMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingMethod

    zone = factory.SubFactory(ShippingZoneFactory, countries=["US"])
    name = factory.Sequence(lambda n: f"Standard {n}")
    description = "Ground shipping"
    rate_type = ShippingMethod.RateType.FLAT
    flat_price = Decimal("5.00")
    currency = "USD"
    min_delivery_days = 2
    max_delivery_days = 5


class TaxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxRate

    country = "US"
    region = ""
    name = "Sales tax"
    rate = Decimal("10")


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon

    code = factory.Sequence(lambda n: f"ORDERS{n}")
    kind = Coupon.Kind.PERCENTAGE
    value = Decimal("10")
    currency = "USD"


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    first_name = "Cam"
    last_name = "Buyer"
    line1 = "1 Market Street"
    city = "San Francisco"
    region = "CA"
    postal_code = "94105"
    country = "US"
    phone = "+14155550123"


class CartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cart

    currency = "USD"


class CartLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CartLine

    cart = factory.SubFactory(CartFactory)
    variant = factory.SubFactory(VariantFactory)
    quantity = 1
    unit_price_when_set = factory.LazyAttribute(lambda line: line.variant.price)


class OrderFactory(factory.django.DjangoModelFactory):
    """An order as checkout would write it, for tests that start after checkout."""

    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"TEST-{n:08d}")
    email = factory.LazyAttribute(lambda order: order.user.email if order.user else "")
    currency = "USD"
    subtotal = Decimal("20.00")
    shipping_total = Decimal("5.00")
    tax_total = Decimal("2.50")
    total = Decimal("27.50")
    shipping_address = factory.LazyFunction(
        lambda: {"first_name": "Cam", "last_name": "Buyer", "line1": "1 Market Street", "city": "SF", "country": "US"}
    )
    billing_address = factory.SelfAttribute("shipping_address")
    payment_due_by = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=30))


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    variant = factory.SubFactory(VariantFactory)
    product_id = factory.LazyAttribute(lambda line: line.variant.product_id)
    product_name = factory.LazyAttribute(lambda line: line.variant.product.name)
    sku = factory.LazyAttribute(lambda line: line.variant.sku)
    unit_price = Decimal("10.00")
    quantity = 2
    line_total = Decimal("20.00")
