from core.errors import Conflict, DomainError


class InvalidCountry(DomainError):
    code = "invalid_country"
    detail = "Give an ISO 3166-1 alpha-2 country code, e.g. US or DE."

    def __init__(self, detail: str | None = None, **kwargs) -> None:
        kwargs.setdefault("attr", "country")
        super().__init__(detail, **kwargs)


class ShippingMethodNotFound(DomainError):
    code = "shipping_method_not_found"
    detail = "No active shipping method has this id."

    def __init__(self, detail: str | None = None, **kwargs) -> None:
        kwargs.setdefault("attr", "shipping_method_id")
        super().__init__(detail, **kwargs)


class ShippingMethodUnavailable(Conflict):
    code = "shipping_method_unavailable"
    detail = "This shipping method does not deliver to the cart's country or cannot carry this cart."

    def __init__(self, detail: str | None = None, **kwargs) -> None:
        kwargs.setdefault("attr", "shipping_method_id")
        super().__init__(detail, **kwargs)


class CountryRequired(DomainError):
    code = "country_required"
    detail = "Choose the destination country before the shipping method."

    def __init__(self, detail: str | None = None, **kwargs) -> None:
        kwargs.setdefault("attr", "country")
        super().__init__(detail, **kwargs)
