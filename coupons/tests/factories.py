"""Coupon factories, plus small catalog factories (shop's models) for the coupon and cart tests."""

from decimal import Decimal

import factory

from coupons.models import Coupon
from shop.models import Category, Product, ProductVariant


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    parent = None


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    category = factory.SubFactory(CategoryFactory)
    is_active = True


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductVariant

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = "Default"
    options = factory.LazyFunction(lambda: {"size": "M"})
    price = Decimal("10.00")
    currency = "USD"
    weight = Decimal("0.500")
    quantity_on_hand = 50
    quantity_allocated = 0
    is_active = True


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"CODE{n}")
    kind = Coupon.Kind.PERCENTAGE
    value = Decimal("10")
    currency = "USD"
    is_active = True

    @factory.post_generation
    def products(self, create, extracted, **kwargs):
        if extracted:
            self.products.set(extracted)

    @factory.post_generation
    def categories(self, create, extracted, **kwargs):
        if extracted:
            self.categories.set(extracted)
