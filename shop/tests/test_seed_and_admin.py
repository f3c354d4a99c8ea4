import io

import pytest
from django.core.management import call_command

from core.seeding import SeedContext
from shop import seed as shop_seed
from shop.models import Category, Product, ProductImage, ProductVariant, Review
from shop.tests.factories import ProductFactory, ReviewFactory

pytestmark = pytest.mark.django_db


def run_seed(products, **shared):
    ctx = SeedContext(stdout=io.StringIO(), products=products, show_progress=False, shared=dict(shared))
    shop_seed.seed(ctx)
    return ctx.stdout.getvalue()


def test_seed_builds_a_realistic_catalog_and_is_idempotent(django_user_model):
    demo = django_user_model.objects.create_user(email="demo@example.com", password="x" * 12)

    output = run_seed(30)
    counts = (Category.objects.count(), Product.objects.count(), ProductVariant.objects.count())
    run_seed(30)

    assert "30 products (30 new)" in output
    assert (Category.objects.count(), Product.objects.count(), ProductVariant.objects.count()) == counts
    assert counts[0] == len(shop_seed.CATEGORIES) and counts[1] == 30
    assert Category.objects.filter(depth=2).exists()
    per_product = [product.variants.count() for product in Product.objects.all()]
    assert min(per_product) >= 1 and max(per_product) <= 5
    assert ProductImage.objects.count() == 30
    assert not Product.objects.filter(lowest_price__isnull=True).exists()
    for product in Product.objects.prefetch_related("variants"):
        assert product.lowest_price == min(variant.price for variant in product.variants.all())
    assert ProductVariant.objects.filter(quantity_on_hand__gt=0).exists()
    assert Review.objects.filter(user=demo).count() == len(shop_seed.REVIEW_TEXTS)
    reviewed = Product.objects.filter(rating_count=1)
    assert reviewed.count() == len(shop_seed.REVIEW_TEXTS)

    run_seed(35)
    assert Product.objects.count() == 35


def test_seed_works_without_a_demo_customer():
    output = run_seed(3)

    assert "0 demo review(s)" in output
    assert Review.objects.count() == 0


def test_seed_sample_data_command_shows_the_catalog():
    out = io.StringIO()

    call_command("seed_sample_data", "--products", "5", "--no-progress", stdout=out)

    assert "5 products" in out.getvalue()
    assert Product.objects.count() == 5


@pytest.mark.parametrize(
    "model", ["category", "product", "productvariant", "review", "productpurchase", "wishlistitem"]
)
def test_admin_screens_render(admin_client, user, model):
    product = ProductFactory()
    ReviewFactory(product=product, user=user)

    changelist = admin_client.get(f"/admin/shop/{model}/", {"q": "a"})

    assert changelist.status_code == 200


def test_admin_product_filters_and_change_form(admin_client):
    product = ProductFactory(slug="in-stock")
    ProductFactory(slug="sold-out", variants__quantity_on_hand=0)

    in_stock = admin_client.get("/admin/shop/product/", {"stock": "in"}).content.decode()
    out_of_stock = admin_client.get("/admin/shop/product/", {"stock": "out"}).content.decode()

    assert "in-stock" in in_stock and "sold-out" not in in_stock
    assert "sold-out" in out_of_stock and "in-stock" not in out_of_stock
    assert admin_client.get(f"/admin/shop/product/{product.pk}/change/").status_code == 200


def test_admin_review_actions_hide_and_unhide_through_the_service(admin_client, user, other_user):
    product = ProductFactory()
    low = ReviewFactory(product=product, user=user, rating=1)
    ReviewFactory(product=product, user=other_user, rating=5)

    admin_client.post("/admin/shop/review/", {"action": "hide_reviews", "_selected_action": [low.pk]})
    product.refresh_from_db()
    low.refresh_from_db()
    assert (low.is_hidden, low.hidden_at is not None, product.rating_count, str(product.rating_average)) == (
        True,
        True,
        1,
        "5.00",
    )

    admin_client.post("/admin/shop/review/", {"action": "unhide_reviews", "_selected_action": [low.pk]})
    product.refresh_from_db()
    assert (product.rating_count, str(product.rating_average)) == (2, "3.00")
