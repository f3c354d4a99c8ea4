"""Error codes of the catalog. Each is a stable snake_case string clients may switch on."""

from http import HTTPStatus

from core.errors import Conflict, DomainError, NotFound


class ProductNotFound(NotFound):
    code = "product_not_found"
    detail = "No such product."


class CategoryNotFound(NotFound):
    code = "category_not_found"
    detail = "No such category."


class InvalidCategoryParent(DomainError):
    code = "invalid_category_parent"
    detail = "A category cannot be placed under itself or one of its descendants."


class CategoryInUse(Conflict):
    code = "category_in_use"
    detail = "The category still has sub-categories or products; move or remove them first."


class ProductNeedsVariant(DomainError):
    code = "product_needs_variant"
    detail = "A product needs at least one variant."


class LastVariant(Conflict):
    code = "last_variant"
    detail = "A product keeps at least one active variant; add another before removing or deactivating this one."


class VariantNotFound(NotFound):
    code = "variant_not_found"
    detail = "No such variant."


class VariantInUse(Conflict):
    code = "variant_in_use"
    detail = "Open orders hold stock of this variant; deactivate it instead."


class DuplicateSku(Conflict):
    code = "duplicate_sku"
    detail = "Another variant already uses this SKU."


class InvalidStockReason(DomainError):
    code = "invalid_stock_reason"
    detail = "Unknown stock change reason."


class StockBelowAllocated(Conflict):
    code = "stock_below_allocated"
    detail = "Stock on hand cannot drop below the quantity held by open orders."


class InsufficientStock(Conflict):
    """The one stock refusal of the shop, raised by the cart and by checkout. The error item carries
    `variant_id`, `available_quantity` and, when known, `requested` (the quantity asked for)."""

    code = "insufficient_stock"

    def __init__(
        self,
        *,
        variant_id: int,
        available_quantity: int,
        requested: int | None = None,
        detail: str | None = None,
        **kwargs,
    ) -> None:
        extra = {"variant_id": variant_id, "available_quantity": available_quantity}
        if requested is not None:
            extra["requested"] = requested
        super().__init__(detail or f"Only {available_quantity} available.", **extra, **kwargs)


class StockInconsistent(Conflict):
    code = "stock_inconsistent"
    detail = "The stock held for this order no longer matches the catalog; staff must check it."


class InvalidImage(DomainError):
    code = "invalid_image"
    detail = "The file is not an accepted image."


class ImageTooLarge(DomainError):
    code = "image_too_large"
    detail = "The image is too large."


class ReviewsDisabled(NotFound):
    code = "reviews_disabled"
    detail = "Reviews are not available."


class ReviewRequiresPurchase(DomainError):
    status_code = HTTPStatus.FORBIDDEN
    code = "review_requires_purchase"
    detail = "Only customers with a paid order of this product can review it."


class ReviewAlreadyExists(Conflict):
    code = "review_already_exists"
    detail = "You have already reviewed this product; edit your review instead."
