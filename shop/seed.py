"""Demo catalog for `seed_sample_data --products N`: a category tree, N products with 1 to 5
variants, images, stock, and a few reviews by the demo customer.

Idempotent: product i always gets the same name, slug and SKUs (its random generator is seeded
with i), so a second run only adds what is missing. Large N goes in bulk inserts of BATCH_SIZE
products (variants and images alike), so 100,000 products load in a few minutes.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.text import slugify
from PIL import Image, ImageDraw
from tqdm import tqdm

from shop.cache import catalog_cache_invalidate
from shop.models import Category, Product, ProductImage, ProductVariant, Review
from shop.services import product_rating_refresh

BATCH_SIZE = 2000
SAMPLE_IMAGE_DIR = "products/sample"
DEMO_CUSTOMER_EMAIL = "demo@example.com"

# (slug, name, parent slug)
CATEGORIES = [
    ("clothing", "Clothing", None),
    ("hoodies-sweatshirts", "Hoodies & Sweatshirts", "clothing"),
    ("t-shirts", "T-Shirts", "clothing"),
    ("jeans", "Jeans", "clothing"),
    ("jackets", "Jackets", "clothing"),
    ("shoes", "Shoes", None),
    ("running-shoes", "Running Shoes", "shoes"),
    ("boots", "Boots", "shoes"),
    ("sneakers", "Sneakers", "shoes"),
    ("electronics", "Electronics", None),
    ("audio", "Audio", "electronics"),
    ("headphones", "Headphones", "audio"),
    ("speakers", "Speakers", "audio"),
    ("computers", "Computers", "electronics"),
    ("keyboards", "Keyboards", "computers"),
    ("monitors", "Monitors", "computers"),
    ("phone-accessories", "Phone Accessories", "electronics"),
    ("home-kitchen", "Home & Kitchen", None),
    ("cookware", "Cookware", "home-kitchen"),
    ("coffee-tea", "Coffee & Tea", "home-kitchen"),
    ("bedding", "Bedding", "home-kitchen"),
    ("sports-outdoors", "Sports & Outdoors", None),
    ("camping", "Camping", "sports-outdoors"),
    ("cycling", "Cycling", "sports-outdoors"),
    ("fitness", "Fitness", "sports-outdoors"),
    ("books", "Books", None),
    ("fiction", "Fiction", "books"),
    ("non-fiction", "Non-fiction", "books"),
]


@dataclass(frozen=True)
class Line:
    """What the products of one leaf category look like."""

    category: str
    nouns: tuple[str, ...]
    option: str
    values: tuple[str, ...]
    price: tuple[int, int]
    weight: tuple[float, float]


SIZES = ("XS", "S", "M", "L", "XL")
COLOURS = ("Black", "White", "Navy", "Red", "Olive", "Grey")
LINES = [
    Line(
        "hoodies-sweatshirts", ("Hoodie", "Zip Hoodie", "Sweatshirt", "Crewneck"), "size", SIZES, (35, 90), (0.4, 0.8)
    ),
    Line("t-shirts", ("T-Shirt", "Tee", "Polo Shirt", "Tank Top"), "size", SIZES, (12, 40), (0.15, 0.3)),
    Line(
        "jeans",
        ("Slim Jeans", "Straight Jeans", "Relaxed Jeans"),
        "size",
        ("28", "30", "32", "34", "36"),
        (45, 120),
        (0.5, 0.9),
    ),
    Line("jackets", ("Rain Jacket", "Puffer Jacket", "Denim Jacket", "Fleece"), "size", SIZES, (60, 250), (0.5, 1.5)),
    Line(
        "running-shoes",
        ("Running Shoe", "Trail Runner", "Racing Flat"),
        "size",
        ("39", "40", "41", "42", "43", "44"),
        (70, 180),
        (0.5, 0.9),
    ),
    Line(
        "boots",
        ("Leather Boot", "Hiking Boot", "Chelsea Boot"),
        "size",
        ("39", "40", "41", "42", "43", "44"),
        (90, 260),
        (1.0, 1.8),
    ),
    Line(
        "sneakers",
        ("Sneaker", "Canvas Shoe", "High-Top"),
        "size",
        ("39", "40", "41", "42", "43", "44"),
        (50, 140),
        (0.6, 1.0),
    ),
    Line(
        "headphones", ("Wireless Headphones", "Earbuds", "Studio Headphones"), "colour", COLOURS, (25, 400), (0.05, 0.4)
    ),
    Line("speakers", ("Bluetooth Speaker", "Bookshelf Speaker", "Soundbar"), "colour", COLOURS, (30, 600), (0.3, 5.0)),
    Line(
        "keyboards",
        ("Mechanical Keyboard", "Wireless Keyboard", "Keypad"),
        "layout",
        ("US", "UK", "DE", "FR"),
        (30, 220),
        (0.3, 1.2),
    ),
    Line(
        "monitors",
        ("Monitor", "Ultrawide Monitor", "Portable Monitor"),
        "size",
        ('24"', '27"', '32"', '34"'),
        (120, 900),
        (3.0, 9.0),
    ),
    Line(
        "phone-accessories",
        ("Phone Case", "Charger", "Power Bank", "Screen Protector"),
        "colour",
        COLOURS,
        (8, 80),
        (0.03, 0.4),
    ),
    Line(
        "cookware",
        ("Frying Pan", "Saucepan", "Dutch Oven", "Wok"),
        "size",
        ("20 cm", "24 cm", "28 cm", "32 cm"),
        (25, 220),
        (0.8, 5.5),
    ),
    Line(
        "coffee-tea",
        ("Coffee Grinder", "French Press", "Pour-over Kettle", "Tea Set"),
        "colour",
        COLOURS,
        (20, 250),
        (0.4, 2.5),
    ),
    Line(
        "bedding",
        ("Duvet Cover", "Pillow", "Sheet Set", "Blanket"),
        "size",
        ("Single", "Double", "Queen", "King"),
        (25, 180),
        (0.5, 2.5),
    ),
    Line(
        "camping",
        ("Tent", "Sleeping Bag", "Camping Stove", "Backpack"),
        "capacity",
        ("1 person", "2 people", "3 people", "4 people"),
        (30, 500),
        (0.5, 4.5),
    ),
    Line(
        "cycling",
        ("Bike Helmet", "Bike Light", "Cycling Jersey", "Bike Lock"),
        "size",
        ("S", "M", "L"),
        (15, 200),
        (0.2, 1.5),
    ),
    Line(
        "fitness",
        ("Yoga Mat", "Kettlebell", "Resistance Band", "Foam Roller"),
        "colour",
        COLOURS,
        (10, 150),
        (0.2, 16.0),
    ),
    Line(
        "fiction",
        ("Novel", "Short Stories", "Thriller", "Fantasy Saga"),
        "format",
        ("Paperback", "Hardcover", "E-book"),
        (8, 35),
        (0.2, 0.9),
    ),
    Line(
        "non-fiction",
        ("Cookbook", "Biography", "Field Guide", "History"),
        "format",
        ("Paperback", "Hardcover", "E-book"),
        (10, 45),
        (0.3, 1.2),
    ),
]
ADJECTIVES = (
    "Classic", "Essential", "Heritage", "Urban", "Alpine", "Coastal", "Everyday", "Premium", "Vintage",
    "Lightweight", "Organic", "Rugged", "Modern", "Signature", "Compact", "Pro", "Studio", "Nordic",
)  # fmt: skip
MATERIALS = ("Cotton", "Wool", "Recycled", "Bamboo", "Linen", "Carbon", "Oak", "Steel", "Ceramic", "Merino")
BRANDS = ("Northwind", "Acme", "Fjordline", "Bluepeak", "Kestrel", "Lumen", "Oakridge", "Tidewater", "Vantage")
IMAGE_COLOURS = [
    (38, 70, 83), (42, 157, 143), (233, 196, 106), (244, 162, 97), (231, 111, 81), (69, 123, 157),
    (29, 53, 87), (168, 218, 220), (120, 94, 240), (255, 183, 3), (2, 48, 71), (155, 34, 38),
]  # fmt: skip


def seed(ctx) -> None:
    categories = _seed_categories()
    images = _sample_images()
    created = _seed_products(ctx, categories=categories, images=images)
    reviewed = _seed_reviews(ctx)
    catalog_cache_invalidate()
    total = Product.objects.count()
    ctx.say(f"catalog: {len(categories)} categories, {total} products ({created} new), {reviewed} demo review(s)")


def _seed_categories() -> dict[str, Category]:
    by_slug: dict[str, Category] = {}
    for position, (slug, name, parent_slug) in enumerate(CATEGORIES):
        parent = by_slug[parent_slug] if parent_slug else None
        category = Category.objects.filter(slug=slug).first()
        if category is None:
            category = Category.objects.create(slug=slug, name=name, parent=parent, sort_order=position)
        by_slug[slug] = category
    return by_slug


def _sample_images() -> list[str]:
    """A dozen small generated pictures, written once and shared by every sample product."""
    names = []
    for number, colour in enumerate(IMAGE_COLOURS, start=1):
        name = f"{SAMPLE_IMAGE_DIR}/sample-{number:02d}.jpg"
        if not default_storage.exists(name):
            picture = Image.new("RGB", (480, 480), colour)
            draw = ImageDraw.Draw(picture)
            shade = tuple(min(channel + 60, 255) for channel in colour)
            draw.ellipse((90, 90, 390, 390), fill=shade)
            draw.rectangle((190, 190, 290, 290), fill=(255, 255, 255))
            buffer = io.BytesIO()
            picture.save(buffer, format="JPEG", quality=80)
            name = default_storage.save(name, ContentFile(buffer.getvalue()))
        names.append(name)
    return names


@dataclass
class _Spec:
    product: Product
    variants: list[ProductVariant]
    image: str


def _product_spec(index: int, *, categories: dict[str, Category], images: list[str]) -> _Spec:
    rng = random.Random(index)
    line = LINES[index % len(LINES)]
    noun = rng.choice(line.nouns)
    name = f"{rng.choice(ADJECTIVES)} {rng.choice(MATERIALS)} {noun}"
    brand = rng.choice(BRANDS)
    currency = settings.DEFAULT_CURRENCY
    base_price = Decimal(rng.randint(*line.price)) - Decimal("0.01")
    values = rng.sample(line.values, k=rng.randint(1, min(5, len(line.values))))
    variants = []
    for position, value in enumerate(values):
        price = base_price + Decimal(position * rng.choice((0, 0, 5, 10)))
        on_sale = rng.random() < 0.2
        on_hand = 0 if rng.random() < 0.1 else rng.randint(1, 120)
        variants.append(
            ProductVariant(
                sku=f"SMP-{index:06d}-{position + 1}",
                name=value,
                options={line.option: value},
                price=price,
                compare_at_price=(price * Decimal("1.25")).quantize(Decimal("0.01")) if on_sale else None,
                currency=currency,
                weight=Decimal(str(round(rng.uniform(*line.weight), 3))),
                quantity_on_hand=on_hand,
                sort_order=position,
            )
        )
    cheapest = min(variants, key=lambda variant: variant.price)
    product = Product(
        name=name,
        slug=f"{slugify(name)}-{index}",
        description=(
            f"The {name.lower()} by {brand}: {rng.choice(MATERIALS).lower()} details, made to last, "
            f"and available in {len(variants)} option{'s' if len(variants) > 1 else ''}."
        ),
        category=categories[line.category],
        brand=brand,
        attributes={"material": rng.choice(MATERIALS).lower(), "origin": rng.choice(("PT", "IT", "VN", "DE", "US"))},
        seo_title=f"{name} | {brand}",
        seo_description=f"Buy the {name} by {brand}.",
        lowest_price=cheapest.price,
        lowest_price_compare_at=cheapest.compare_at_price,
        currency=currency,
    )
    return _Spec(product=product, variants=variants, image=images[index % len(images)])


def _seed_products(ctx, *, categories: dict[str, Category], images: list[str]) -> int:
    created = 0
    with tqdm(total=ctx.products, desc="products", unit="product", disable=not ctx.show_progress) as progress:
        for start in range(1, ctx.products + 1, BATCH_SIZE):
            indexes = range(start, min(start + BATCH_SIZE, ctx.products + 1))
            specs = [_product_spec(index, categories=categories, images=images) for index in indexes]
            existing = set(
                Product.objects.filter(slug__in=[spec.product.slug for spec in specs]).values_list("slug", flat=True)
            )
            missing = [spec for spec in specs if spec.product.slug not in existing]
            if missing:
                Product.objects.bulk_create([spec.product for spec in missing], batch_size=BATCH_SIZE)
                variants, pictures = [], []
                for spec in missing:
                    for variant in spec.variants:
                        variant.product = spec.product
                        variants.append(variant)
                    pictures.append(
                        ProductImage(product=spec.product, image=spec.image, alt_text=spec.product.name, sort_order=0)
                    )
                ProductVariant.objects.bulk_create(variants, batch_size=BATCH_SIZE)
                ProductImage.objects.bulk_create(pictures, batch_size=BATCH_SIZE)
                created += len(missing)
            progress.update(len(specs))
    return created


REVIEW_TEXTS = [
    (5, "Exactly as described", "Great quality and it arrived quickly."),
    (4, "Very good", "Does the job well; the fit is slightly snug."),
    (5, "Love it", "Second one I have bought. Recommended."),
    (3, "Decent", "Fine for the price, nothing special."),
    (4, "Happy with it", "Solid build, good value."),
]


def _seed_reviews(ctx) -> int:
    customer = ctx.shared.get("demo_customer") or ctx.shared.get("demo_user")
    if customer is None:
        customer = get_user_model().objects.filter(email__iexact=DEMO_CUSTOMER_EMAIL).first()
    if customer is None:
        return 0
    products = list(Product.objects.order_by("id")[: len(REVIEW_TEXTS)])
    for product, (rating, title, body) in zip(products, REVIEW_TEXTS, strict=False):
        # Demo data: these reviews skip the paid-order rule that the API enforces.
        Review.objects.get_or_create(
            product=product, user=customer, defaults={"rating": rating, "title": title, "body": body}
        )
        product_rating_refresh(product_id=product.pk)
    return len(products)
