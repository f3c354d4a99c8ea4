from core.errors import Conflict, DomainError, NotFound


class CartNotFound(NotFound):
    code = "cart_not_found"
    detail = "No cart matches this X-Cart-Token."


class CartLineNotFound(NotFound):
    code = "cart_item_not_found"
    detail = "This cart has no such item."


class VariantNotFound(DomainError):
    code = "variant_not_found"
    detail = "No product variant has this id."

    def __init__(self, detail: str | None = None, **kwargs) -> None:
        kwargs.setdefault("attr", "variant_id")
        super().__init__(detail, **kwargs)


class VariantUnavailable(Conflict):
    code = "variant_unavailable"
    detail = "This product is not for sale at the moment."

    def __init__(self, detail: str | None = None, **kwargs) -> None:
        kwargs.setdefault("attr", "variant_id")
        super().__init__(detail, **kwargs)


class QuantityTooLarge(DomainError):
    code = "quantity_too_large"

    def __init__(self, *, max_quantity: int, **kwargs) -> None:
        kwargs.setdefault("attr", "quantity")
        super().__init__(f"At most {max_quantity} of one item per cart.", max_quantity=max_quantity, **kwargs)


class CurrencyMismatch(Conflict):
    code = "currency_mismatch"
    detail = "This product is sold in another currency than the cart's."

    def __init__(self, detail: str | None = None, **kwargs) -> None:
        kwargs.setdefault("attr", "variant_id")
        super().__init__(detail, **kwargs)


class InvalidQuantity(DomainError):
    code = "invalid_quantity"
    detail = "The quantity must be at least 1."

    def __init__(self, detail: str | None = None, **kwargs) -> None:
        kwargs.setdefault("attr", "quantity")
        super().__init__(detail, **kwargs)
