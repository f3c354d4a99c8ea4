"""Error codes of the orders app (`invalid_transition` comes from core and orders.state;
`insufficient_stock` and `stock_inconsistent` from shop.errors, where stock lives)."""

from core.errors import Conflict, DomainError, NotFound


class OrderNotFound(NotFound):
    detail = "No such order."


class CartEmpty(DomainError):
    code = "cart_empty"
    detail = "Your cart is empty."


class TotalMismatch(Conflict):
    code = "total_mismatch"
    detail = "The order total changed since you last saw it; review the cart and try again."


class CurrencyMismatch(DomainError):
    code = "mixed_currencies"
    detail = "All items of an order must be in one currency."


class AddressNotFound(DomainError):
    code = "address_not_found"
    detail = "No such address in your address book."


class ShippingMethodUnavailable(DomainError):
    code = "shipping_method_unavailable"
    detail = "This shipping method is not available for the shipping address."


class RefundTooLarge(Conflict):
    code = "refund_exceeds_paid"
    detail = "The refund is larger than the amount paid and not yet refunded."


class CancelNotAllowed(Conflict):
    code = "cancel_not_allowed"
    detail = "Only staff can cancel an order that has been paid."


class RefundPending(Conflict):
    code = "refund_pending"
    detail = "A refund of this order is still pending at the payment provider; it cannot ship until it settles."


class GuestEmailRequired(DomainError):
    code = "email_required"
    detail = "A guest checkout needs an email address for the order confirmation."
