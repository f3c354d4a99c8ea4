from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from shop.models import Product, ProductImage, ProductVariant
from shop.tests.factories import CategoryFactory, ProductFactory, ProductVariantFactory, image_upload

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


@pytest.fixture
def category():
    return CategoryFactory(name="Hoodies", slug="hoodies")


def product_payload(**overrides):
    return {
        "name": "Cotton Hoodie",
        "category": "hoodies",
        "brand": "Northwind",
        "description": "Soft.",
        "attributes": {"material": "cotton"},
        "variants": [
            {"sku": "HOOD-M", "name": "M", "options": {"size": "M"}, "price": "45.00", "quantity_on_hand": 4},
            {"sku": "HOOD-L", "name": "L", "options": {"size": "L"}, "price": "39.90", "weight": "0.650"},
        ],
        **overrides,
    }


def test_staff_create_a_product_with_variants(staff_client, category):
    response = staff_client.post(PRODUCTS, product_payload(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "cotton-hoodie"
    assert body["price"] == "39.90"
    assert body["in_stock"] is True
    assert [(v["sku"], v["price"], v["available_quantity"]) for v in body["variants"]] == [
        ("HOOD-M", "45.00", 4),
        ("HOOD-L", "39.90", 0),
    ]
    product = Product.objects.get(slug="cotton-hoodie")
    assert product.lowest_price == Decimal("39.90")
    assert product.attributes == {"material": "cotton"}
    assert ProductVariant.objects.get(sku="HOOD-L").weight == Decimal("0.650")


def test_fields_staff_may_not_set_are_ignored(staff_client, category):
    payload = product_payload(rating_average="5.00", rating_count=999, lowest_price="0.01", id=12345)
    payload["variants"][0]["quantity_allocated"] = 3

    response = staff_client.post(PRODUCTS, payload, format="json")

    assert response.status_code == 201
    product = Product.objects.get(slug="cotton-hoodie")
    assert (product.rating_average, product.rating_count, product.lowest_price) == (Decimal("0"), 0, Decimal("39.90"))
    assert product.pk != 12345
    assert ProductVariant.objects.get(sku="HOOD-M").quantity_allocated == 0

    patched = staff_client.patch(
        f"{PRODUCTS}cotton-hoodie/", {"rating_average": "4.90", "name": "Hoodie"}, format="json"
    )
    assert patched.status_code == 200
    product.refresh_from_db()
    assert (product.name, product.rating_average) == ("Hoodie", Decimal("0"))


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        ({"variants": []}, "variants"),
        ({"category": "missing"}, "category"),
        ({"slug": "facets"}, "slug"),
        ({"variants": [{"sku": "A", "price": "-1.00"}]}, "variants.0.price"),
        ({"variants": [{"sku": "bad sku!", "price": "1.00"}]}, "variants.0.sku"),
        ({"variants": [{"sku": "A", "price": "1.00"}, {"sku": "A", "price": "2.00"}]}, "variants"),
    ],
)
def test_invalid_products_are_refused_and_nothing_is_written(staff_client, category, change, attr):
    response = staff_client.post(PRODUCTS, product_payload(**change), format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == attr
    assert Product.objects.count() == 0
    assert ProductVariant.objects.count() == 0


def test_a_sku_taken_by_another_product_is_409_and_nothing_is_written(staff_client, category):
    ProductVariantFactory(sku="HOOD-L")

    response = staff_client.post(PRODUCTS, product_payload(), format="json")

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "duplicate_sku"
    assert not Product.objects.filter(slug="cotton-hoodie").exists()
    assert not ProductVariant.objects.filter(sku="HOOD-M").exists()


def test_customers_cannot_write_products(api_client, auth_client, category):
    product = ProductFactory(slug="p", category=category)
    variant = product.variants.get()

    assert api_client.post(PRODUCTS, product_payload(), format="json").status_code == 401
    assert auth_client.post(PRODUCTS, product_payload(), format="json").status_code == 403
    assert auth_client.patch(f"{PRODUCTS}p/", {"name": "Changed"}, format="json").status_code == 403
    assert auth_client.get(f"{PRODUCTS}p/variants/").status_code == 403
    assert auth_client.post(f"{PRODUCTS}p/variants/", {"sku": "X", "price": "1.00"}, format="json").status_code == 403
    stock_url = f"{PRODUCTS}p/variants/{variant.sku}/stock/"
    assert auth_client.post(stock_url, {"quantity_on_hand": 99}, format="json").status_code == 403
    upload = auth_client.post(f"{PRODUCTS}p/images/", {"image": image_upload()}, format="multipart")
    assert upload.status_code == 403
    assert Product.objects.get().name == product.name
    assert Product.objects.count() == 1
    assert ProductVariant.objects.get().quantity_on_hand == 10
    assert ProductImage.objects.count() == 0


def test_staff_edit_a_product_and_move_it(staff_client, category, api_client):
    ProductFactory(slug="p", category=category)
    shoes = CategoryFactory(slug="shoes")

    response = staff_client.patch(
        f"{PRODUCTS}p/", {"category": "shoes", "is_active": False, "seo_title": "Buy it"}, format="json"
    )

    assert response.status_code == 200
    product = Product.objects.get(slug="p")
    assert (product.category_id, product.is_active, product.seo_title) == (shoes.pk, False, "Buy it")
    assert api_client.get(f"{PRODUCTS}p/").status_code == 404


def test_staff_manage_variants(staff_client, category):
    product = ProductFactory(slug="p", category=category, variants__sku="P-1", variants__price=Decimal("20.00"))
    base = f"{PRODUCTS}p/variants/"

    created = staff_client.post(base, {"sku": "P-2", "price": "15.00", "options": {"size": "S"}}, format="json")
    assert created.status_code == 201
    assert created.json()["quantity_allocated"] == 0
    product.refresh_from_db()
    assert product.lowest_price == Decimal("15.00")

    edited = staff_client.patch(f"{base}P-2/", {"price": "25.00", "quantity_on_hand": 7}, format="json")
    assert edited.status_code == 200
    assert (edited.json()["price"], edited.json()["quantity_on_hand"]) == ("25.00", 7)
    product.refresh_from_db()
    assert product.lowest_price == Decimal("20.00")

    listed = staff_client.get(base).json()
    assert [variant["sku"] for variant in listed] == ["P-1", "P-2"]

    assert staff_client.delete(f"{base}P-1/").status_code == 204
    product.refresh_from_db()
    assert product.lowest_price == Decimal("25.00")
    last = staff_client.delete(f"{base}P-2/")
    assert last.status_code == 409
    assert last.json()["errors"][0]["code"] == "last_variant"
    deactivate_last = staff_client.patch(f"{base}P-2/", {"is_active": False}, format="json")
    assert deactivate_last.status_code == 409
    assert ProductVariant.objects.get(sku="P-2").is_active is True


def test_staff_set_and_adjust_stock_never_below_held(staff_client, category):
    product = ProductFactory(slug="p", category=category, variants__sku="P-1", variants__quantity_on_hand=10)
    ProductVariant.objects.filter(product=product).update(quantity_allocated=4)
    url = f"{PRODUCTS}p/variants/P-1/stock/"

    set_response = staff_client.post(url, {"quantity_on_hand": 6}, format="json")
    assert set_response.status_code == 200
    assert (set_response.json()["quantity_on_hand"], set_response.json()["available_quantity"]) == (6, 2)

    received = staff_client.post(url, {"delta": 5}, format="json")
    assert received.json()["quantity_on_hand"] == 11

    too_low = staff_client.post(url, {"quantity_on_hand": 3}, format="json")
    assert too_low.status_code == 409
    assert too_low.json()["errors"][0]["code"] == "stock_below_allocated"
    written_off_too_much = staff_client.post(url, {"delta": -8}, format="json")
    assert written_off_too_much.status_code == 409
    both = staff_client.post(url, {"delta": 1, "quantity_on_hand": 1}, format="json")
    assert both.status_code == 400
    negative = staff_client.post(url, {"quantity_on_hand": -1}, format="json")
    assert negative.status_code == 400
    variant = ProductVariant.objects.get(sku="P-1")
    assert (variant.quantity_on_hand, variant.quantity_allocated) == (11, 4)


def test_staff_upload_edit_and_delete_images(staff_client, api_client, category):
    ProductFactory(slug="p", category=category)

    uploaded = staff_client.post(
        f"{PRODUCTS}p/images/", {"image": image_upload("../../evil.png"), "alt_text": "Front"}, format="multipart"
    )
    assert uploaded.status_code == 201
    image = ProductImage.objects.get()
    assert image.image.name.startswith(f"products/{image.product_id}/") and image.image.name.endswith(".png")
    assert "evil" not in image.image.name
    assert default_storage.exists(image.image.name)
    second = staff_client.post(f"{PRODUCTS}p/images/", {"image": image_upload(image_format="JPEG")}, format="multipart")
    assert second.json()["sort_order"] == 1
    assert second.json()["alt_text"] == ProductImage.objects.get(pk=second.json()["id"]).product.name

    moved = staff_client.patch(f"{PRODUCTS}p/images/{image.pk}/", {"sort_order": 5}, format="json")
    assert moved.json()["sort_order"] == 5
    assert [img["sort_order"] for img in api_client.get(f"{PRODUCTS}p/images/").json()] == [1, 5]

    assert staff_client.delete(f"{PRODUCTS}p/images/{image.pk}/").status_code == 204
    assert not ProductImage.objects.filter(pk=image.pk).exists()


@pytest.mark.parametrize(
    ("upload", "code"),
    [
        (SimpleUploadedFile("notes.png", b"not an image at all", content_type="image/png"), "invalid_image"),
        (lambda: image_upload("photo.bmp", image_format="BMP"), "invalid_image"),
        (lambda: image_upload("huge.png", size=(200, 200)), "image_too_large"),
    ],
)
@override_settings(SHOP_IMAGE_MAX_PIXELS=100 * 100)
def test_bad_uploads_are_400_and_nothing_is_stored(staff_client, category, upload, code):
    ProductFactory(slug="p", category=category)
    file = upload() if callable(upload) else upload

    response = staff_client.post(f"{PRODUCTS}p/images/", {"image": file}, format="multipart")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "image"
    assert response.json()["errors"][0]["code"] == code
    assert ProductImage.objects.count() == 0


@override_settings(SHOP_IMAGE_MAX_BYTES=50)
def test_files_over_the_byte_limit_are_refused(staff_client, category):
    ProductFactory(slug="p", category=category)

    response = staff_client.post(f"{PRODUCTS}p/images/", {"image": image_upload()}, format="multipart")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "image_too_large"
    assert ProductImage.objects.count() == 0
