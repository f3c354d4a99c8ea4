"""Catalog writes. Every function that changes the content of a catalog page ends by calling
`catalog_cache_invalidate()`, which is how the API, the admin and reviews keep cached pages current.
Stock counts (`stock_set`, `stock_adjust`, and the order moves in `shop.stock`) do not: cached pages
read availability fresh (see shop.cache)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, F, OuterRef, ProtectedError, RestrictedError, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, UnidentifiedImageError

from shop.cache import catalog_cache_invalidate, product_related_invalidate
from shop.errors import (
    CategoryInUse,
    DuplicateSku,
    ImageTooLarge,
    InvalidCategoryParent,
    InvalidImage,
    InvalidStockReason,
    LastVariant,
    ProductNeedsVariant,
    ReviewAlreadyExists,
    ReviewRequiresPurchase,
    StockBelowAllocated,
    VariantInUse,
    VariantNotFound,
)
from shop.models import (
    Category,
    Product,
    ProductImage,
    ProductPurchase,
    ProductVariant,
    Review,
    StockMovement,
    WishlistItem,
)

CATEGORY_FIELDS = frozenset({"name", "slug", "parent", "description", "is_active", "sort_order"})
PRODUCT_FIELDS = frozenset(
    {"name", "slug", "description", "category", "brand", "attributes", "is_active", "seo_title", "seo_description"}
)
VARIANT_FIELDS = frozenset(
    {"sku", "name", "options", "price", "compare_at_price", "currency", "weight", "is_active", "sort_order"}
)
REVIEW_FIELDS = frozenset({"rating", "title", "body"})
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
# products/facets/ and products/suggest/ would shadow a product with one of these slugs.
RESERVED_PRODUCT_SLUGS = frozenset({"facets", "suggest"})


def _unique_slug(model: type[Category] | type[Product], source: str, *, exclude_pk: int | None = None) -> str:
    max_length = model._meta.get_field("slug").max_length
    base = (slugify(source) or "item")[: max_length - 8].strip("-") or "item"
    taken = set(model.objects.filter(slug__startswith=base).exclude(pk=exclude_pk).values_list("slug", flat=True))
    if model is Product:
        taken |= RESERVED_PRODUCT_SLUGS
    candidate, suffix = base, 2
    while candidate in taken:
        candidate, suffix = f"{base}-{suffix}", suffix + 1
    return candidate


def _check_unknown(changes: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"Cannot change {sorted(unknown)} here.")


# --- categories ---------------------------------------------------------------------------------


@transaction.atomic
def category_create(
    *,
    name: str,
    slug: str | None = None,
    parent: Category | None = None,
    description: str = "",
    is_active: bool = True,
    sort_order: int = 0,
) -> Category:
    category = Category.objects.create(
        name=name,
        slug=slug or _unique_slug(Category, name),
        parent=parent,
        description=description,
        is_active=is_active,
        sort_order=sort_order,
    )
    catalog_cache_invalidate()
    return category


@transaction.atomic
def category_update(*, category: Category, **changes: Any) -> Category:
    """Moving a category (a new `parent`) moves its whole subtree."""
    _check_unknown(changes, CATEGORY_FIELDS)
    if "parent" in changes:
        parent = changes["parent"]
        if parent is not None and (parent.pk == category.pk or parent.path.startswith(category.path)):
            raise InvalidCategoryParent(attr="parent")
    for name, value in changes.items():
        setattr(category, name, value)
    category.save()
    catalog_cache_invalidate()
    return category


@transaction.atomic
def category_delete(*, category: Category) -> None:
    if category.children.exists() or category.products.exists():
        raise CategoryInUse()
    category.delete()
    catalog_cache_invalidate()


# --- products -----------------------------------------------------------------------------------


def product_price_summary_refresh(*, product_ids: Iterable[int]) -> None:
    """Copy the cheapest active variant's price, compare-at price and currency onto each product,
    in one UPDATE, so lists filter and sort on an indexed column."""
    cheapest = ProductVariant.objects.filter(product=OuterRef("pk"), is_active=True).order_by("price", "id")
    Product.objects.filter(pk__in=list(product_ids)).update(
        lowest_price=Subquery(cheapest.values("price")[:1]),
        lowest_price_compare_at=Subquery(cheapest.values("compare_at_price")[:1]),
        currency=Coalesce(Subquery(cheapest.values("currency")[:1]), F("currency")),
    )


@transaction.atomic
def product_create(
    *,
    name: str,
    category: Category,
    variants: Sequence[Mapping[str, Any]],
    slug: str | None = None,
    description: str = "",
    brand: str = "",
    attributes: Mapping[str, Any] | None = None,
    is_active: bool = True,
    seo_title: str = "",
    seo_description: str = "",
) -> Product:
    """A product and its variants (at least one), all or nothing."""
    if not variants:
        raise ProductNeedsVariant(attr="variants")
    product = Product.objects.create(
        name=name,
        slug=slug or _unique_slug(Product, name),
        category=category,
        description=description,
        brand=brand,
        attributes=dict(attributes or {}),
        is_active=is_active,
        seo_title=seo_title,
        seo_description=seo_description,
    )
    for position, variant in enumerate(variants):
        _variant_insert(product=product, fields={"sort_order": position, **variant})
    product_price_summary_refresh(product_ids=[product.pk])
    catalog_cache_invalidate()
    product.refresh_from_db()
    return product


@transaction.atomic
def product_update(*, product: Product, **changes: Any) -> Product:
    _check_unknown(changes, PRODUCT_FIELDS)
    for name, value in changes.items():
        setattr(product, name, value)
    product.save(update_fields=[*changes, "updated_at"])
    catalog_cache_invalidate()
    return product


# --- variants and stock -------------------------------------------------------------------------


def _variant_insert(*, product: Product, fields: Mapping[str, Any]) -> ProductVariant:
    _check_unknown({k: v for k, v in fields.items() if k != "quantity_on_hand"}, VARIANT_FIELDS)
    values = {k: v for k, v in fields.items() if v is not None or k == "compare_at_price"}
    values.setdefault("currency", settings.DEFAULT_CURRENCY)
    if ProductVariant.objects.filter(sku=values["sku"]).exists():
        raise DuplicateSku(attr="sku")
    try:
        with transaction.atomic():
            return ProductVariant.objects.create(product=product, **values)
    except IntegrityError as error:
        if ProductVariant.objects.filter(sku=values["sku"]).exists():
            raise DuplicateSku(attr="sku") from error
        raise


@transaction.atomic
def variant_create(*, product: Product, **fields: Any) -> ProductVariant:
    variant = _variant_insert(product=product, fields=fields)
    product_price_summary_refresh(product_ids=[product.pk])
    catalog_cache_invalidate()
    return variant


def _other_active_variants(variant: ProductVariant) -> bool:
    return ProductVariant.objects.filter(product_id=variant.product_id, is_active=True).exclude(pk=variant.pk).exists()


@transaction.atomic
def variant_update(*, variant: ProductVariant, actor: Any = None, **changes: Any) -> ProductVariant:
    """Only the given fields are written, so an instance read earlier never writes back stale
    values. Stock on hand goes through `stock_set` (reason "correction"); the allocation never
    moves here."""
    quantity_on_hand = changes.pop("quantity_on_hand", None)
    _check_unknown(changes, VARIANT_FIELDS)
    # Lock the product's variants in pk order: the "one active variant" rule reads its siblings.
    list(ProductVariant.objects.select_for_update().filter(product_id=variant.product_id).order_by("pk"))
    if changes.get("is_active") is False and variant.is_active and not _other_active_variants(variant):
        raise LastVariant(attr="is_active")
    if "sku" in changes and ProductVariant.objects.filter(sku=changes["sku"]).exclude(pk=variant.pk).exists():
        raise DuplicateSku(attr="sku")
    for name, value in changes.items():
        setattr(variant, name, value)
    if changes:
        variant.save(update_fields=[*changes, "updated_at"])
    if quantity_on_hand is not None:
        stock_set(
            variant=variant, quantity_on_hand=quantity_on_hand, reason=StockMovement.Reason.CORRECTION, actor=actor
        )
    product_price_summary_refresh(product_ids=[variant.product_id])
    catalog_cache_invalidate()
    variant.refresh_from_db()
    return variant


@transaction.atomic
def variant_delete(*, variant: ProductVariant) -> None:
    """Refused for the product's last active variant and while open orders hold its stock (their
    release and shipment would no longer find it); deactivate it instead."""
    siblings = list(ProductVariant.objects.select_for_update().filter(product_id=variant.product_id).order_by("pk"))
    locked = next((sibling for sibling in siblings if sibling.pk == variant.pk), None)
    if locked is None:
        return  # already gone
    if not _other_active_variants(variant):
        raise LastVariant()
    if locked.quantity_allocated > 0:
        raise VariantInUse()
    try:
        with transaction.atomic():
            variant.delete()
    except (ProtectedError, RestrictedError, IntegrityError) as error:
        raise VariantInUse() from error
    product_price_summary_refresh(product_ids=[variant.product_id])
    catalog_cache_invalidate()


def _stock_reason(reason: str) -> str:
    if reason not in StockMovement.Reason.values:
        raise InvalidStockReason(attr="reason", allowed=list(StockMovement.Reason.values))
    return reason


def _stock_write(
    *, variant: ProductVariant, locked: ProductVariant, on_hand: int, reason: str, actor: Any, note: str
) -> ProductVariant:
    """Write the new count of a variant locked by the caller and record the movement with it."""
    ProductVariant.objects.filter(pk=locked.pk).update(quantity_on_hand=on_hand, updated_at=timezone.now())
    StockMovement.objects.create(
        variant_id=locked.pk,
        sku=locked.sku,
        delta=on_hand - locked.quantity_on_hand,
        quantity_on_hand_after=on_hand,
        reason=reason,
        note=note,
        actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
    )
    variant.refresh_from_db(fields=["quantity_on_hand", "quantity_allocated", "updated_at"])
    return variant


def _stock_lock(variant: ProductVariant) -> ProductVariant:
    # The one variant row, FOR UPDATE: checkout and the order stock moves wait on the same lock, so
    # the count read here is the one the write replaces.
    locked = (
        ProductVariant.objects.select_for_update()
        .only("pk", "sku", "quantity_on_hand", "quantity_allocated")
        .filter(pk=variant.pk)
        .first()
    )
    if locked is None:
        raise VariantNotFound()
    return locked


@transaction.atomic
def stock_set(
    *, variant: ProductVariant, quantity_on_hand: int, reason: str, actor: Any = None, note: str = ""
) -> ProductVariant:
    """Set the counted stock; refused below what open orders hold. Recorded as a StockMovement."""
    _stock_reason(reason)
    if quantity_on_hand < 0:
        raise StockBelowAllocated(attr="quantity_on_hand")
    locked = _stock_lock(variant)
    if quantity_on_hand < locked.quantity_allocated:
        raise StockBelowAllocated(attr="quantity_on_hand")
    return _stock_write(variant=variant, locked=locked, on_hand=quantity_on_hand, reason=reason, actor=actor, note=note)


@transaction.atomic
def stock_adjust(
    *, variant: ProductVariant, delta: int, reason: str, actor: Any = None, note: str = ""
) -> ProductVariant:
    """Receive (+) or write off (-) stock relative to the current count, whatever it is by then.
    Refused when it would drop below what open orders hold. Recorded as a StockMovement."""
    _stock_reason(reason)
    locked = _stock_lock(variant)
    on_hand = locked.quantity_on_hand + delta
    if on_hand < locked.quantity_allocated:
        raise StockBelowAllocated(attr="delta")
    return _stock_write(variant=variant, locked=locked, on_hand=on_hand, reason=reason, actor=actor, note=note)


# --- images -------------------------------------------------------------------------------------


def _validated_image_extension(upload: UploadedFile) -> str:
    """Accept JPEG, PNG, WebP and GIF up to SHOP_IMAGE_MAX_BYTES and SHOP_IMAGE_MAX_PIXELS,
    judged by the file's content, never by its name or declared content type."""
    if upload.size is None or upload.size > settings.SHOP_IMAGE_MAX_BYTES:
        raise ImageTooLarge(
            f"Images may be at most {settings.SHOP_IMAGE_MAX_BYTES} bytes.",
            attr="image",
            max_bytes=settings.SHOP_IMAGE_MAX_BYTES,
        )
    try:
        upload.seek(0)
        with Image.open(upload) as picture:
            image_format, (width, height) = picture.format, picture.size
            picture.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as error:
        raise InvalidImage(attr="image") from error
    finally:
        upload.seek(0)
    if image_format not in IMAGE_FORMATS:
        raise InvalidImage("Accepted image types: JPEG, PNG, WebP and GIF.", attr="image")
    if width * height > settings.SHOP_IMAGE_MAX_PIXELS:
        raise ImageTooLarge(
            f"Images may have at most {settings.SHOP_IMAGE_MAX_PIXELS} pixels.",
            attr="image",
            max_pixels=settings.SHOP_IMAGE_MAX_PIXELS,
        )
    return IMAGE_FORMATS[image_format]


@transaction.atomic
def product_image_add(
    *, product: Product, image: UploadedFile, alt_text: str = "", sort_order: int | None = None
) -> ProductImage:
    extension = _validated_image_extension(image)
    # The stored name is ours: a client-chosen file name never reaches the storage path.
    image.name = f"{uuid.uuid4().hex}.{extension}"
    if sort_order is None:
        last = product.images.order_by("-sort_order").values_list("sort_order", flat=True).first()
        sort_order = 0 if last is None else last + 1
    product_image = ProductImage.objects.create(
        product=product, image=image, alt_text=alt_text or product.name, sort_order=sort_order
    )
    catalog_cache_invalidate()
    return product_image


@transaction.atomic
def product_image_update(*, image: ProductImage, **changes: Any) -> ProductImage:
    _check_unknown(changes, frozenset({"alt_text", "sort_order"}))
    for name, value in changes.items():
        setattr(image, name, value)
    image.save(update_fields=list(changes))
    catalog_cache_invalidate()
    return image


@transaction.atomic
def product_image_delete(*, image: ProductImage) -> None:
    storage, name = image.image.storage, image.image.name
    image.delete()
    # The file goes only once the row is gone for good.
    transaction.on_commit(lambda: storage.delete(name))
    catalog_cache_invalidate()


# --- purchases (written by the orders app) ------------------------------------------------------


@transaction.atomic
def product_purchases_record(
    *, user: Any, order_id: uuid.UUID, product_ids: Iterable[int], purchased_at: datetime | None = None
) -> int:
    """Remember that `user` bought `product_ids` in the paid order `order_id`.

    Called by orders when an order becomes paid; safe to call twice for the same order. Review
    eligibility and "bought together" read these rows. Returns how many rows were added.
    """
    wanted = {pid for pid in product_ids if pid is not None}
    slugs = dict(Product.objects.filter(pk__in=wanted).values_list("pk", "slug"))
    existing_products = set(slugs)
    already = set(
        ProductPurchase.objects.filter(order_id=order_id, product_id__in=existing_products).values_list(
            "product_id", flat=True
        )
    )
    when = purchased_at or timezone.now()
    rows = [
        ProductPurchase(user=user, product_id=pid, order_id=order_id, purchased_at=when)
        for pid in sorted(existing_products - already)
    ]
    ProductPurchase.objects.bulk_create(rows, ignore_conflicts=True)
    if rows:
        # Only "bought together" changed, on these products' related pages: paying an order must
        # not empty the whole catalog cache.
        product_related_invalidate(slugs=[slugs[row.product_id] for row in rows])
    return len(rows)


def customer_has_purchased(*, user: Any, product: Product) -> bool:
    return ProductPurchase.objects.filter(user=user, product=product).exists()


# --- reviews ------------------------------------------------------------------------------------


def _lock_product(product_id: int) -> None:
    """Serialises rating recomputation per product: the second writer waits, then its aggregate
    (a new statement, so a new snapshot) includes the first writer's review."""
    list(Product.objects.select_for_update().filter(pk=product_id).values_list("pk", flat=True))


def product_rating_refresh(*, product_id: int) -> None:
    summary = Review.objects.filter(product_id=product_id, is_hidden=False).aggregate(
        average=Avg("rating"), count=Count("id")
    )
    average = Decimal(str(summary["average"] or 0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    Product.objects.filter(pk=product_id).update(rating_average=average, rating_count=summary["count"])


@transaction.atomic
def review_create(*, user: Any, product: Product, rating: int, title: str = "", body: str = "") -> Review:
    _lock_product(product.pk)
    if not customer_has_purchased(user=user, product=product):
        raise ReviewRequiresPurchase()
    if Review.objects.filter(product=product, user=user).exists():
        raise ReviewAlreadyExists()
    try:
        with transaction.atomic():
            review = Review.objects.create(product=product, user=user, rating=rating, title=title, body=body)
    except IntegrityError as error:  # the unique constraint is the last word under races
        raise ReviewAlreadyExists() from error
    product_rating_refresh(product_id=product.pk)
    catalog_cache_invalidate()
    return review


@transaction.atomic
def review_update(*, review: Review, **changes: Any) -> Review:
    _check_unknown(changes, REVIEW_FIELDS)
    _lock_product(review.product_id)
    for name, value in changes.items():
        setattr(review, name, value)
    review.save(update_fields=[*changes, "updated_at"])
    product_rating_refresh(product_id=review.product_id)
    catalog_cache_invalidate()
    return review


@transaction.atomic
def review_delete(*, review: Review) -> None:
    _lock_product(review.product_id)
    review.delete()
    product_rating_refresh(product_id=review.product_id)
    catalog_cache_invalidate()


@transaction.atomic
def review_set_hidden(*, review: Review, hidden: bool) -> Review:
    """Staff moderation: a hidden review leaves the public list and the product's rating."""
    _lock_product(review.product_id)
    review.is_hidden = hidden
    review.hidden_at = timezone.now() if hidden else None
    review.save(update_fields=["is_hidden", "hidden_at", "updated_at"])
    product_rating_refresh(product_id=review.product_id)
    catalog_cache_invalidate()
    return review


# --- wishlist -----------------------------------------------------------------------------------


@transaction.atomic
def wishlist_item_add(*, user: Any, product: Product) -> tuple[WishlistItem, bool]:
    """Adding twice is harmless: the second call returns the existing item and False."""
    try:
        with transaction.atomic():
            return WishlistItem.objects.get_or_create(user=user, product=product)
    except IntegrityError:
        return WishlistItem.objects.get(user=user, product=product), False


@transaction.atomic
def wishlist_item_remove(*, item: WishlistItem) -> None:
    item.delete()
