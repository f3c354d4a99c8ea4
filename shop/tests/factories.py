"""Catalog factories (other apps' tests may use them too).

`ProductFactory()` makes an active product with one in-stock variant; `ProductFactory(variants=3)`
makes three, `ProductFactory(variants=0)` none, and `variants__price=...` sets the variants' fields.
Creating a variant through `ProductVariantFactory` keeps the product's lowest price current.
"""

from __future__ import annotations

import io
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.text import slugify
from factory.django import DjangoModelFactory
from PIL import Image

from shop.models import Category, Product, ProductImage, ProductPurchase, ProductVariant, Review, WishlistItem
from shop.services import product_price_summary_refresh, product_rating_refresh


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


class ProductVariantFactory(DjangoModelFactory):
    class Meta:
        model = ProductVariant

    product = factory.SubFactory("shop.tests.factories.ProductFactory", variants=0)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = "Default"
    options = factory.LazyFunction(dict)
    price = Decimal("10.00")
    quantity_on_hand = 10

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        variant = super()._create(model_class, *args, **kwargs)
        product_price_summary_refresh(product_ids=[variant.product_id])
        return variant


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    category = factory.SubFactory(CategoryFactory)
    brand = "Acme"
    description = "A fine product."

    @factory.post_generation
    def variants(self, create, extracted, **kwargs):
        if not create:
            return
        count = 1 if extracted is None else extracted
        for _ in range(count):
            ProductVariantFactory(product=self, **kwargs)
        self.refresh_from_db()


def image_bytes(*, image_format: str = "PNG", size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=image_format)
    return buffer.getvalue()


def image_upload(name: str = "photo.png", *, image_format: str = "PNG", size: tuple[int, int] = (8, 8)):
    content_type = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "BMP": "image/bmp"}[image_format]
    return SimpleUploadedFile(name, image_bytes(image_format=image_format, size=size), content_type=content_type)


class ProductImageFactory(DjangoModelFactory):
    class Meta:
        model = ProductImage

    product = factory.SubFactory(ProductFactory)
    image = factory.LazyFunction(lambda: image_upload())
    alt_text = "A photo"


class ProductPurchaseFactory(DjangoModelFactory):
    class Meta:
        model = ProductPurchase

    product = factory.SubFactory(ProductFactory)
    order_id = factory.Faker("uuid4", cast_to=None)
    purchased_at = factory.LazyFunction(timezone.now)


class ReviewFactory(DjangoModelFactory):
    class Meta:
        model = Review

    product = factory.SubFactory(ProductFactory)
    rating = 5
    title = "Great"
    body = "Really good."

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        review = super()._create(model_class, *args, **kwargs)
        product_rating_refresh(product_id=review.product_id)
        return review


class WishlistItemFactory(DjangoModelFactory):
    class Meta:
        model = WishlistItem

    product = factory.SubFactory(ProductFactory)
