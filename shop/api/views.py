"""Catalog endpoints. Reads are public (AllowAny, said explicitly) and cached through shop.cache;
writes are staff-only on the same resources, except reviews (customers) and the wishlist (owner)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from waffle import flag_is_active

from core.openapi import error_responses
from core.permissions import IsStaff
from core.viewsets import OwnedQuerysetMixin
from shop import selectors, services
from shop.api import serializers as s
from shop.cache import (
    cached,
    category_detail_key,
    category_tree_key,
    product_detail_key,
    product_facets_key,
    product_list_key,
    product_related_key,
    product_suggest_key,
    stock_bound_timeout,
)
from shop.errors import ProductNotFound, ReviewsDisabled
from shop.filters import ProductFacetFilterSet, ProductFilterSet
from shop.models import Category, Product, ProductImage, ProductVariant, Review, WishlistItem

REVIEWS_FLAG = "reviews"
SLUG_REGEX = r"[-\w]+"


def _query_pairs(request: Request) -> list[tuple[str, str]]:
    return [(name, value) for name, values in request.query_params.lists() for value in values]


def _is_staff(request: Request) -> bool:
    user = request.user
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


class PublicReadStaffWriteMixin:
    """Actions in `public_actions` are open to anyone; every other action needs staff."""

    public_actions: frozenset[str] = frozenset({"list", "retrieve"})

    def get_permissions(self):
        if self.action in self.public_actions:
            return [AllowAny()]
        return [IsStaff()]


# --- categories ---------------------------------------------------------------------------------


def _category_detail_data(slug: str) -> dict[str, Any]:
    detail = selectors.category_detail(slug=slug)
    category = detail.category
    parent = detail.ancestors[-1] if detail.ancestors else None
    return s.CategoryDetailSerializer(
        {
            "slug": category.slug,
            "name": category.name,
            "description": category.description,
            "depth": category.depth,
            "sort_order": category.sort_order,
            "is_active": category.is_active,
            "parent": parent,
            "ancestors": detail.ancestors,
            "children": detail.children,
        }
    ).data


@extend_schema_view(
    list=extend_schema(summary="The category tree", responses=s.CategoryTreeSerializer(many=True)),
    retrieve=extend_schema(summary="A category with its breadcrumb and subtree", responses=s.CategoryDetailSerializer),
    create=extend_schema(
        summary="Create a category (staff)",
        request=s.CategoryWriteSerializer,
        responses={201: s.CategoryDetailSerializer},
    ),
    partial_update=extend_schema(
        summary="Edit or move a category (staff)",
        request=s.CategoryWriteSerializer,
        responses={200: s.CategoryDetailSerializer, **error_responses(409)},
    ),
    destroy=extend_schema(summary="Delete an empty category (staff)", responses={204: None, **error_responses(409)}),
)
class CategoryViewSet(PublicReadStaffWriteMixin, viewsets.GenericViewSet):
    queryset = Category.objects.all()
    lookup_field = "slug"
    lookup_value_regex = SLUG_REGEX
    pagination_class = None
    filter_backends: list = []
    serializer_class = s.CategoryDetailSerializer

    def list(self, request: Request) -> Response:
        return Response(
            cached(category_tree_key(), lambda: s.CategoryTreeSerializer(selectors.category_tree(), many=True).data)
        )

    def retrieve(self, request: Request, slug: str) -> Response:
        return Response(cached(category_detail_key(slug=slug), lambda: _category_detail_data(slug)))

    def create(self, request: Request) -> Response:
        params = s.CategoryWriteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        category = services.category_create(**params.validated_data)
        return Response(self._staff_view(category), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, slug: str) -> Response:
        category = selectors.category_get(slug=slug, include_inactive=True)
        params = s.CategoryWriteSerializer(category, data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        category = services.category_update(category=category, **params.validated_data)
        return Response(self._staff_view(category))

    def destroy(self, request: Request, slug: str) -> Response:
        services.category_delete(category=selectors.category_get(slug=slug, include_inactive=True))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _staff_view(self, category: Category) -> dict[str, Any]:
        ancestors = selectors.category_ancestors(category=category)
        return s.CategoryDetailSerializer(
            {
                "slug": category.slug,
                "name": category.name,
                "description": category.description,
                "depth": category.depth,
                "sort_order": category.sort_order,
                "is_active": category.is_active,
                "parent": ancestors[-1] if ancestors else None,
                "ancestors": ancestors,
                "children": selectors.category_tree_below(category=category),
            }
        ).data


# --- products -----------------------------------------------------------------------------------

# Cached product bodies keep their content; availability is overlaid on every cached read from one
# fresh query, so a sale never needs to invalidate them and a sold-out product never shows as
# purchasable (docs/CATALOG.md, "Caching").


def _fresh_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    in_stock = selectors.products_in_stock(product_ids=[item["id"] for item in items])
    return [{**item, "in_stock": item["id"] in in_stock} for item in items]


def _fresh_list(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "results": _fresh_items(body["results"])}


def _fresh_detail(body: dict[str, Any]) -> dict[str, Any]:
    available = selectors.variants_available(variant_ids=[variant["id"] for variant in body["variants"]])
    variants = [
        {
            **variant,
            "in_stock": available.get(variant["id"], 0) > 0,
            "available_quantity": available.get(variant["id"], 0),
        }
        for variant in body["variants"]
    ]
    return {**body, "variants": variants, "in_stock": any(variant["in_stock"] for variant in variants)}


def _fresh_related(body: dict[str, Any]) -> dict[str, Any]:
    same, together = body["same_category"], body["bought_together"]
    fresh = _fresh_items([*same, *together])
    return {**body, "same_category": fresh[: len(same)], "bought_together": fresh[len(same) :]}


def _product_detail_data(slug: str, *, include_inactive: bool) -> dict[str, Any]:
    product = selectors.product_get(slug=slug, include_inactive=include_inactive)
    context = {
        "ancestors": selectors.category_ancestors(category=product.category),
        "rating_distribution": selectors.product_rating_distribution(product=product),
    }
    return s.ProductDetailSerializer(product, context=context).data


def _related_data(slug: str) -> dict[str, Any]:
    product = selectors.product_visible_queryset().filter(slug=slug).first()
    if product is None:
        raise ProductNotFound()
    related = selectors.product_related(product=product)
    return s.RelatedProductsSerializer(
        {"same_category": related.same_category, "bought_together": related.bought_together}
    ).data


@extend_schema_view(
    list=extend_schema(
        summary="Products, filtered, searched and sorted",
        description="Any query parameter not listed here is a 400 `unknown_parameter` naming it.",
        parameters=[OpenApiParameter("search", str, description="Another name of `q` (send one of them).")],
    ),
    retrieve=extend_schema(summary="A product page: variants, images, attributes, rating summary"),
    create=extend_schema(
        summary="Create a product with its variants (staff)",
        request=s.ProductCreateSerializer,
        responses={201: s.ProductDetailSerializer, **error_responses(409)},
    ),
    partial_update=extend_schema(
        summary="Edit a product (staff); variants, images and stock have their own routes",
        request=s.ProductWriteSerializer,
        responses={200: s.ProductDetailSerializer},
    ),
)
class ProductViewSet(PublicReadStaffWriteMixin, viewsets.GenericViewSet):
    """Customers never see inactive products; staff reach them by slug (detail and writes)."""

    public_actions = frozenset({"list", "retrieve", "facets", "suggest", "related"})
    queryset = Product.objects.all()
    lookup_field = "slug"
    lookup_value_regex = SLUG_REGEX
    filter_backends = [DjangoFilterBackend]

    @property
    def filterset_class(self):
        return ProductFacetFilterSet if self.action == "facets" else ProductFilterSet

    def get_queryset(self) -> QuerySet[Product]:
        return selectors.product_list()

    def get_serializer_class(self):
        if self.action == "list":
            return s.ProductListItemSerializer
        return s.ProductDetailSerializer

    def list(self, request: Request) -> Response:
        key = product_list_key(base_url=request.build_absolute_uri(request.path), params=_query_pairs(request))

        def build() -> dict[str, Any]:
            page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
            return self.get_paginated_response(s.ProductListItemSerializer(page, many=True).data).data

        # Which products match `in_stock=` moves with every sale: such pages live STOCK_CACHE_SECONDS.
        timeout = stock_bound_timeout() if "in_stock" in request.query_params else None
        return Response(cached(key, build, timeout=timeout, refresh=_fresh_list))

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "slug",
                str,
                OpenApiParameter.PATH,
                description="The product's slug, or its numeric id (the same body; a slug wins when both match).",
            )
        ]
    )
    def retrieve(self, request: Request, slug: str) -> Response:
        if slug.isdigit():
            slug = selectors.product_slug_for_reference(slug)
        if _is_staff(request):
            return Response(_product_detail_data(slug, include_inactive=True))
        return Response(
            cached(
                product_detail_key(slug=slug),
                lambda: _product_detail_data(slug, include_inactive=False),
                refresh=_fresh_detail,
            )
        )

    def create(self, request: Request) -> Response:
        params = s.ProductCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        product = services.product_create(**params.validated_data)
        return Response(_product_detail_data(product.slug, include_inactive=True), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, slug: str) -> Response:
        product = selectors.product_get_for_write(slug=slug)
        params = s.ProductWriteSerializer(product, data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        product = services.product_update(product=product, **params.validated_data)
        return Response(_product_detail_data(product.slug, include_inactive=True))

    @extend_schema(
        summary="Facet counts for the same filters as the list", filters=True, responses=s.ProductFacetsSerializer
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def facets(self, request: Request) -> Response:
        def build() -> dict[str, Any]:
            facets = selectors.product_facets(queryset=self.filter_queryset(self.get_queryset()))
            return s.ProductFacetsSerializer(
                {
                    "count": facets.total,
                    "in_stock": facets.in_stock,
                    "price": {"min": facets.min_price, "max": facets.max_price},
                    "categories": facets.categories,
                }
            ).data

        # The in-stock count moves with every sale: bounded staleness instead of an invalidation.
        return Response(cached(product_facets_key(params=_query_pairs(request)), build, timeout=stock_bound_timeout()))

    @extend_schema(
        summary="Autocomplete: matching products and categories",
        parameters=[OpenApiParameter("q", str, required=True, description="At least 2 characters.")],
        responses=s.SuggestionsSerializer,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def suggest(self, request: Request) -> Response:
        params = s.SuggestQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = params.validated_data["q"]

        def build() -> dict[str, Any]:
            suggestions = selectors.product_suggest(query=query)
            return s.SuggestionsSerializer(
                {"products": suggestions.products, "categories": suggestions.categories}
            ).data

        return Response(cached(product_suggest_key(query=query.strip().lower()), build))

    @extend_schema(
        summary="Products of the same category and products bought together with this one",
        responses=s.RelatedProductsSerializer,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def related(self, request: Request, slug: str) -> Response:
        return Response(cached(product_related_key(slug=slug), lambda: _related_data(slug), refresh=_fresh_related))


class ProductChildMixin:
    """Views nested under products/<product_slug>/."""

    def product(self, *, include_inactive: bool) -> Product:
        slug = self.kwargs["product_slug"]
        if include_inactive:
            return selectors.product_get_for_write(slug=slug)
        product = selectors.product_visible_queryset().filter(slug=slug).first()
        if product is None:
            raise ProductNotFound()
        return product


# --- variants and stock (staff) -----------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="All variants of a product with stock counters (staff)"),
    retrieve=extend_schema(summary="A variant with stock counters (staff)"),
    create=extend_schema(
        summary="Add a variant (staff)",
        request=s.VariantWriteSerializer,
        responses={201: s.StaffVariantSerializer, **error_responses(409)},
    ),
    partial_update=extend_schema(
        summary="Edit a variant (staff); quantity_on_hand is checked against held stock",
        request=s.VariantWriteSerializer,
        responses={200: s.StaffVariantSerializer, **error_responses(409)},
    ),
    destroy=extend_schema(
        summary="Delete a variant (staff); the last active one stays", responses={204: None, **error_responses(409)}
    ),
)
class ProductVariantViewSet(ProductChildMixin, viewsets.GenericViewSet):
    permission_classes = [IsStaff]
    serializer_class = s.StaffVariantSerializer
    lookup_field = "sku"
    lookup_value_regex = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[ProductVariant]:
        return ProductVariant.objects.filter(product__slug=self.kwargs["product_slug"]).order_by("sort_order", "id")

    def list(self, request: Request, product_slug: str) -> Response:
        self.product(include_inactive=True)
        return Response(s.StaffVariantSerializer(self.get_queryset(), many=True).data)

    def retrieve(self, request: Request, product_slug: str, sku: str) -> Response:
        return Response(s.StaffVariantSerializer(self.get_object()).data)

    def create(self, request: Request, product_slug: str) -> Response:
        product = self.product(include_inactive=True)
        params = s.VariantWriteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        variant = services.variant_create(product=product, **params.validated_data)
        return Response(s.StaffVariantSerializer(variant).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, product_slug: str, sku: str) -> Response:
        params = s.VariantWriteSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        variant = services.variant_update(variant=self.get_object(), actor=request.user, **params.validated_data)
        return Response(s.StaffVariantSerializer(variant).data)

    def destroy(self, request: Request, product_slug: str, sku: str) -> Response:
        services.variant_delete(variant=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Set or adjust stock on hand (staff); each change is recorded with its reason",
        request=s.StockChangeSerializer,
        responses={200: s.StaffVariantSerializer, **error_responses(409)},
    )
    @action(detail=True, methods=["post"])
    def stock(self, request: Request, product_slug: str, sku: str) -> Response:
        params = s.StockChangeSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        change = params.validated_data
        recorded = {"reason": change["reason"], "note": change["note"], "actor": request.user}
        variant = self.get_object()
        if "delta" in change:
            variant = services.stock_adjust(variant=variant, delta=change["delta"], **recorded)
        else:
            variant = services.stock_set(variant=variant, quantity_on_hand=change["quantity_on_hand"], **recorded)
        return Response(s.StaffVariantSerializer(variant).data)


# --- images -------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="A product's images, in display order"),
    create=extend_schema(
        summary="Upload an image (staff; multipart)",
        request={"multipart/form-data": s.ProductImageUploadSerializer},
        responses={201: s.ProductImageSerializer},
    ),
    partial_update=extend_schema(
        summary="Change alt text or position (staff)",
        request=s.ProductImageUpdateSerializer,
        responses={200: s.ProductImageSerializer},
    ),
    destroy=extend_schema(summary="Delete an image (staff)", responses={204: None}),
)
class ProductImageViewSet(ProductChildMixin, PublicReadStaffWriteMixin, viewsets.GenericViewSet):
    public_actions = frozenset({"list"})
    serializer_class = s.ProductImageSerializer
    lookup_value_regex = r"\d+"
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[ProductImage]:
        return ProductImage.objects.filter(product__slug=self.kwargs["product_slug"]).order_by("sort_order", "id")

    def list(self, request: Request, product_slug: str) -> Response:
        product = self.product(include_inactive=_is_staff(request))
        return Response(s.ProductImageSerializer(product.images.order_by("sort_order", "id"), many=True).data)

    def create(self, request: Request, product_slug: str) -> Response:
        product = self.product(include_inactive=True)
        params = s.ProductImageUploadSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        image = services.product_image_add(product=product, **params.validated_data)
        return Response(s.ProductImageSerializer(image).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, product_slug: str, pk: str) -> Response:
        params = s.ProductImageUpdateSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        image = services.product_image_update(image=self.get_object(), **params.validated_data)
        return Response(s.ProductImageSerializer(image).data)

    def destroy(self, request: Request, product_slug: str, pk: str) -> Response:
        services.product_image_delete(image=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- reviews ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Visible reviews of a product, newest first (staff also see hidden ones)"),
    retrieve=extend_schema(summary="One review"),
    create=extend_schema(
        summary="Review a product you bought (one per customer); 403 review_requires_purchase otherwise",
        request=s.ReviewWriteSerializer,
        responses={201: s.ReviewSerializer, **error_responses(403, 409)},
    ),
    partial_update=extend_schema(
        summary="Edit your review", request=s.ReviewWriteSerializer, responses={200: s.ReviewSerializer}
    ),
    destroy=extend_schema(summary="Delete your review", responses={204: None}),
)
class ReviewViewSet(ProductChildMixin, viewsets.GenericViewSet):
    """Behind the `reviews` feature flag (404 `reviews_disabled` when off). Authors edit and delete
    their own reviews (another customer's review is a 404); staff hide and unhide."""

    serializer_class = s.ReviewSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "review_id"
    lookup_value_regex = r"[0-9a-fA-F-]{36}"
    filter_backends: list = []
    write_actions = frozenset({"create", "partial_update", "destroy"})

    @property
    def throttle_scope(self) -> str | None:
        return "reviews" if getattr(self, "action", None) in self.write_actions else None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not flag_is_active(request, REVIEWS_FLAG):
            raise ReviewsDisabled()

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [AllowAny()]
        if self.action in ("hide", "unhide"):
            return [IsStaff()]
        return [IsAuthenticated()]

    def get_queryset(self) -> QuerySet[Review]:
        staff = _is_staff(self.request)
        reviews = selectors.review_list(product=self.product(include_inactive=staff), include_hidden=staff)
        if self.action in ("partial_update", "destroy"):
            reviews = reviews.filter(user=self.request.user)  # someone else's review: 404
        return reviews

    def list(self, request: Request, product_slug: str) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, product_slug: str, review_id: str) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request: Request, product_slug: str) -> Response:
        product = self.product(include_inactive=False)
        params = s.ReviewWriteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        review = services.review_create(user=request.user, product=product, **params.validated_data)
        return Response(self.get_serializer(review).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, product_slug: str, review_id: str) -> Response:
        params = s.ReviewWriteSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        review = services.review_update(review=self.get_object(), **params.validated_data)
        return Response(self.get_serializer(review).data)

    def destroy(self, request: Request, product_slug: str, review_id: str) -> Response:
        services.review_delete(review=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Hide a review (staff)", request=None, responses=s.ReviewSerializer)
    @action(detail=True, methods=["post"])
    def hide(self, request: Request, product_slug: str, review_id: str) -> Response:
        review = services.review_set_hidden(review=self.get_object(), hidden=True)
        return Response(self.get_serializer(review).data)

    @extend_schema(summary="Show a hidden review again (staff)", request=None, responses=s.ReviewSerializer)
    @action(detail=True, methods=["post"])
    def unhide(self, request: Request, product_slug: str, review_id: str) -> Response:
        review = services.review_set_hidden(review=self.get_object(), hidden=False)
        return Response(self.get_serializer(review).data)


# --- wishlist -----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Your wishlist, most recently added first"),
    create=extend_schema(
        summary="Add a product to your wishlist (201; 200 when it was already there)",
        request=s.WishlistAddSerializer,
        responses={201: s.WishlistEntrySerializer, 200: s.WishlistEntrySerializer},
    ),
    destroy=extend_schema(
        summary="Remove a product from your wishlist",
        responses={204: OpenApiResponse(description="Removed.")},
    ),
)
class WishlistViewSet(OwnedQuerysetMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    queryset = WishlistItem.objects.all()
    serializer_class = s.WishlistEntrySerializer
    lookup_field = "product__slug"
    lookup_url_kwarg = "product_slug"
    lookup_value_regex = SLUG_REGEX
    filter_backends: list = []

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.wishlist_products(user=request.user))
        return self.get_paginated_response(s.WishlistEntrySerializer(page, many=True).data)

    def create(self, request: Request) -> Response:
        params = s.WishlistAddSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        product = selectors.product_visible_queryset().filter(slug=params.validated_data["product_slug"]).first()
        if product is None:
            raise ProductNotFound(attr="product_slug")
        _, created = services.wishlist_item_add(user=request.user, product=product)
        entry = selectors.wishlist_products(user=request.user).get(pk=product.pk)
        return Response(
            s.WishlistEntrySerializer(entry).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    def perform_destroy(self, instance: WishlistItem) -> None:
        services.wishlist_item_remove(item=instance)
