"""Catalog reads. Each returns exactly what its serializer touches, in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.lookups import IsNull, StartsWith

from shop.errors import CategoryNotFound, ProductNotFound
from shop.models import (
    PATH_SEPARATOR,
    Category,
    Product,
    ProductImage,
    ProductPurchase,
    ProductVariant,
    Review,
    WishlistItem,
)
from shop.search import search_filter, search_rank_annotate

RELATED_LIMIT = 8
SUGGEST_LIMIT = 8


# --- products -----------------------------------------------------------------------------------


def category_hidden(*, path_ref: str) -> Exists:
    """True when the category whose `path` is at `path_ref` (an outer reference such as
    "category__path"), or any of its ancestors, is inactive. An ancestor's path is a prefix of its
    descendants' paths, so this is one EXISTS over the few inactive categories."""
    return Exists(Category.objects.filter(StartsWith(OuterRef(path_ref), F("path")), is_active=False))


def product_sellable(*, prefix: str = "") -> Q:
    """The one visibility rule of the shop, for browsing, cart, checkout, reviews and wishlist:
    the product is active and so are its category and every ancestor category (every product has
    a category). `prefix` reaches the product from another model, e.g. "variant__product__"."""
    return Q(**{f"{prefix}is_active": True, f"{prefix}category__is_active": True}) & ~category_hidden(
        path_ref=f"{prefix}category__path"
    )


def product_sellable_annotation(*, prefix: str = "") -> ExpressionWrapper:
    """`product_sellable` as a boolean column, for rows read anyway (cart lines, checkout)."""
    return ExpressionWrapper(product_sellable(prefix=prefix), output_field=BooleanField())


def product_visible_queryset() -> QuerySet[Product]:
    """What customers may see and buy (`product_sellable`)."""
    return Product.objects.filter(product_sellable())


def _in_stock_variants() -> QuerySet[ProductVariant]:
    return ProductVariant.objects.filter(
        product=OuterRef("pk"), is_active=True, quantity_on_hand__gt=F("quantity_allocated")
    )


def product_first_image(*, product_ref: str) -> Subquery:
    """The name of the product's first image (by sort order) as a subquery over the outer column
    `product_ref`: "pk" from products, "variant__product_id" from cart or order lines."""
    images = ProductImage.objects.filter(product_id=OuterRef(product_ref)).order_by("sort_order", "id")
    return Subquery(images.values("image")[:1])


def _with_list_fields(queryset: QuerySet[Product]) -> QuerySet[Product]:
    """The category join, `in_stock` and `primary_image` as columns of the one list query."""
    # "first sellable variant IS NOT NULL" rather than EXISTS: PostgreSQL may turn an EXISTS in the
    # select list into a hashed scan of every variant, which a 20-row page should never pay for.
    first_sellable = Subquery(_in_stock_variants().order_by().values("pk")[:1])  # any one: no sort
    return queryset.select_related("category").annotate(
        in_stock=IsNull(first_sellable, False),
        primary_image=product_first_image(product_ref="pk"),
    )


def product_list(*, include_inactive: bool = False) -> QuerySet[Product]:
    """Products for list pages (filters and ordering are applied by shop.filters)."""
    base = Product.objects.all() if include_inactive else product_visible_queryset()
    return _with_list_fields(base)


def product_filter_in_stock(queryset: QuerySet[Product], in_stock: bool) -> QuerySet[Product]:
    condition = Exists(_in_stock_variants())
    return queryset.filter(condition if in_stock else ~condition)


# The two availability overlays run on every cached catalog hit, so they are fixed SQL: building the
# same statement through the ORM cost more than the query itself (bench/README.md, "Profile").
# shop/tests/test_availability_overlay.py holds them to the ORM rule of `_in_stock_variants`.
_VARIANT_TABLE = ProductVariant._meta.db_table
# Only the model's table name and "%s" placeholders are formatted in; the ids are parameters.
_IN_STOCK_SQL = (
    f"SELECT DISTINCT product_id FROM {_VARIANT_TABLE} "  # noqa: S608
    "WHERE product_id IN ({ids}) AND is_active AND quantity_on_hand > quantity_allocated"
)
_COUNTERS_SQL = (
    f"SELECT id, quantity_on_hand, quantity_allocated FROM {_VARIANT_TABLE} "  # noqa: S608
    "WHERE id IN ({ids}) AND is_active"
)


def _rows_for_ids(sql: str, ids: list[int]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql.format(ids=", ".join(["%s"] * len(ids))), ids)
        return cursor.fetchall()


def products_in_stock(*, product_ids: Iterable[int]) -> set[int]:
    """Which of `product_ids` have a variant to sell now: the availability overlay of a cached list
    page, one query over the variants' product index."""
    ids = list(product_ids)
    if not ids:
        return set()
    return {product_id for (product_id,) in _rows_for_ids(_IN_STOCK_SQL, ids)}


def variants_available(*, variant_ids: Iterable[int]) -> dict[int, int]:
    """Available quantity of each active variant among `variant_ids` (inactive or deleted ones are
    left out: nothing to sell). The availability overlay of a cached product page, one query."""
    ids = list(variant_ids)
    if not ids:
        return {}
    rows = _rows_for_ids(_COUNTERS_SQL, ids)
    return {pk: max(on_hand - allocated, 0) for pk, on_hand, allocated in rows}


def product_slug_for_reference(reference: str) -> str:
    """The slug a numeric `products/<reference>/` names: a product with that slug (slugs may be all
    digits), else the product with that id. Visibility is applied afterwards by the slug path, as
    for any slug; no match is left to that path's 404. One indexed query."""
    # A number beyond the id column's range matches no id (Django answers it without the database).
    matches = dict(Product.objects.filter(Q(slug=reference) | Q(pk=int(reference))).values_list("slug", "pk")[:2])
    if reference in matches:
        return reference
    return next(iter(matches), reference)


def product_get(*, slug: str, include_inactive: bool = False) -> Product:
    """A product with its category, active variants and images (variants and images prefetched).
    Staff see every variant with its counters through the variants endpoint."""
    base = Product.objects.all() if include_inactive else product_visible_queryset()
    product = (
        base.select_related("category")
        .prefetch_related(
            Prefetch("variants", queryset=ProductVariant.objects.filter(is_active=True).order_by("sort_order", "id")),
            Prefetch("images", queryset=ProductImage.objects.order_by("sort_order", "id")),
        )
        .filter(slug=slug)
        .first()
    )
    if product is None:
        raise ProductNotFound()
    return product


def product_get_for_write(*, slug: str) -> Product:
    """Any product (staff writes reach inactive ones too), without prefetches."""
    product = Product.objects.select_related("category").filter(slug=slug).first()
    if product is None:
        raise ProductNotFound()
    return product


def product_rating_distribution(*, product: Product) -> dict[str, int]:
    """Visible reviews per star, "1" to "5", zeros included."""
    counts = dict(
        Review.objects.filter(product=product, is_hidden=False)
        .order_by()
        .values_list("rating")
        .annotate(total=Count("id"))
    )
    return {str(star): counts.get(star, 0) for star in range(1, 6)}


def category_ancestors(*, category: Category) -> list[Category]:
    """Root first, the category itself excluded."""
    ancestor_ids = [int(part) for part in category.path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)[:-1] if part]
    if not ancestor_ids:
        return []
    return list(Category.objects.filter(pk__in=ancestor_ids).order_by("depth"))


@dataclass
class RelatedProducts:
    same_category: list[Product]
    bought_together: list[Product] = field(default_factory=list)


def product_related(*, product: Product) -> RelatedProducts:
    """Other products of the same category, best rated first, and products bought in the same
    orders as this one, most often first (each carries `times_bought_together`)."""
    same_category = list(
        product_list()
        .filter(category_id=product.category_id)
        .exclude(pk=product.pk)
        .order_by("-rating_average", "-rating_count", "-id")[:RELATED_LIMIT]
    )
    orders_with_product = ProductPurchase.objects.filter(product=product).values("order_id")
    together_counts = list(
        ProductPurchase.objects.filter(order_id__in=orders_with_product)
        .exclude(product=product)
        .values("product_id")
        .annotate(times=Count("order_id", distinct=True))
        .order_by("-times", "product_id")[: RELATED_LIMIT * 2]
    )
    if not together_counts:
        return RelatedProducts(same_category=same_category)
    times_by_id = {row["product_id"]: row["times"] for row in together_counts}
    # Inactive products drop out here, which is why twice the limit was read.
    together = list(product_list().filter(pk__in=times_by_id))
    for item in together:
        item.times_bought_together = times_by_id[item.pk]
    together.sort(key=lambda item: (-item.times_bought_together, item.pk))
    return RelatedProducts(same_category=same_category, bought_together=together[:RELATED_LIMIT])


@dataclass
class ProductFacets:
    total: int
    in_stock: int
    min_price: Decimal | None
    max_price: Decimal | None
    categories: list[dict[str, Any]]


def product_facets(*, queryset: QuerySet[Product]) -> ProductFacets:
    """Counts for the filtered `queryset` (three queries whatever its size). A product counts toward
    the category it is directly in; `in_stock` counts products with at least one variant to sell."""
    plain = queryset.order_by()
    totals = plain.aggregate(total=Count("pk"), min_price=Min("lowest_price"), max_price=Max("lowest_price"))
    # A separate semi-join counts faster than a per-row EXISTS inside the aggregate.
    in_stock = plain.filter(Exists(_in_stock_variants())).count()
    categories = list(
        plain.values("category__slug", "category__name")
        .annotate(count=Count("pk"))
        .order_by("-count", "category__name")
    )
    return ProductFacets(
        total=totals["total"],
        in_stock=in_stock,
        min_price=totals["min_price"],
        max_price=totals["max_price"],
        categories=[
            {"slug": row["category__slug"], "name": row["category__name"], "count": row["count"]} for row in categories
        ],
    )


@dataclass
class Suggestions:
    products: list[Product]
    categories: list[Category]


def product_suggest(*, query: str) -> Suggestions:
    """Autocomplete: best-matching visible products and categories whose name contains the text."""
    products = search_rank_annotate(search_filter(product_list(), query), query).order_by(
        "-search_rank", "-rating_count", "name"
    )[:SUGGEST_LIMIT]
    categories = (
        Category.objects.filter(name__icontains=query.strip())
        .exclude(category_hidden(path_ref="path"))  # itself or an ancestor inactive
        .order_by("depth", "name")[:SUGGEST_LIMIT]
    )
    return Suggestions(products=list(products), categories=list(categories))


# --- categories ---------------------------------------------------------------------------------


@dataclass
class CategoryNode:
    category: Category
    children: list[CategoryNode] = field(default_factory=list)


def _build_forest(categories: list[Category], *, root_parent_id: int | None) -> list[CategoryNode]:
    """Nodes in path order (parents before children); a child of a missing (inactive) parent is
    dropped with its whole subtree."""
    nodes: dict[int, CategoryNode] = {}
    roots: list[CategoryNode] = []
    for category in categories:
        node = CategoryNode(category=category)
        if category.parent_id == root_parent_id:
            roots.append(node)
        elif category.parent_id in nodes:
            nodes[category.parent_id].children.append(node)
        else:
            continue
        nodes[category.pk] = node
    _sort_siblings(roots)
    return roots


def _sort_siblings(nodes: list[CategoryNode]) -> None:
    nodes.sort(key=lambda node: (node.category.sort_order, node.category.name))
    for node in nodes:
        _sort_siblings(node.children)


def category_tree(*, include_inactive: bool = False) -> list[CategoryNode]:
    """The whole tree in one query."""
    categories = Category.objects.order_by("depth", "path")
    if not include_inactive:
        categories = categories.filter(is_active=True)
    return _build_forest(list(categories), root_parent_id=None)


def category_tree_below(*, category: Category) -> list[CategoryNode]:
    """The subtree under `category`, inactive nodes included (what staff manage)."""
    descendants = Category.objects.filter(path__startswith=category.path).exclude(pk=category.pk)
    return _build_forest(list(descendants.order_by("depth", "path")), root_parent_id=category.pk)


@dataclass
class CategoryDetail:
    category: Category
    ancestors: list[Category]
    children: list[CategoryNode]


def category_get(*, slug: str, include_inactive: bool = False) -> Category:
    categories = Category.objects.all() if include_inactive else Category.objects.filter(is_active=True)
    category = categories.filter(slug=slug).first()
    if category is None:
        raise CategoryNotFound()
    return category


def category_detail(*, slug: str) -> CategoryDetail:
    """A category, its ancestors (breadcrumb) and its subtree: two queries."""
    category = category_get(slug=slug)
    ancestor_ids = [int(part) for part in category.path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)[:-1] if part]
    related = list(
        Category.objects.filter(is_active=True)
        .filter(Q(pk__in=ancestor_ids) | Q(path__startswith=category.path))
        .exclude(pk=category.pk)
        .order_by("depth", "path")
    )
    ancestors = [item for item in related if item.pk in ancestor_ids]
    if len(ancestors) != len(ancestor_ids):  # an inactive ancestor hides the whole branch
        raise CategoryNotFound()
    descendants = [item for item in related if item.pk not in ancestor_ids]
    return CategoryDetail(
        category=category,
        ancestors=ancestors,
        children=_build_forest(descendants, root_parent_id=category.pk),
    )


# --- reviews and wishlist -----------------------------------------------------------------------


def review_list(*, product: Product, include_hidden: bool = False) -> QuerySet[Review]:
    reviews = Review.objects.filter(product=product).select_related("user")
    if not include_hidden:
        reviews = reviews.filter(is_hidden=False)
    return reviews.order_by("-created_at", "-id")


def wishlist_products(*, user: Any) -> QuerySet[Product]:
    """The user's wishlisted visible products, newest first, each with `added_at`."""
    entries = WishlistItem.objects.filter(user=user, product=OuterRef("pk"))
    return (
        product_list()
        .filter(Exists(entries))
        .annotate(added_at=Subquery(entries.values("created_at")[:1]))
        .order_by("-added_at", "-id")
    )
