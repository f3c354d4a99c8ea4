"""Why a coupon cannot be used. Every refusal is a 400 whose code says exactly why, with `attr`
"code" (the field the customer typed), so a storefront can show the right message."""

from core.errors import Conflict, DomainError


class CouponError(DomainError):
    code = "coupon_invalid"
    detail = "This coupon cannot be used."

    def __init__(self, detail: str | None = None, **kwargs) -> None:
        kwargs.setdefault("attr", "code")
        super().__init__(detail, **kwargs)


class CouponNotFound(CouponError):
    code = "coupon_not_found"
    detail = "No coupon has this code."


class CouponInactive(CouponError):
    code = "coupon_inactive"
    detail = "This coupon is not active."


class CouponNotYetValid(CouponError):
    code = "coupon_not_yet_valid"
    detail = "This coupon is not valid yet."


class CouponExpired(CouponError):
    code = "coupon_expired"
    detail = "This coupon has expired."


class CouponUsageLimitReached(CouponError):
    code = "coupon_usage_limit_reached"
    detail = "This coupon has been used as many times as allowed."


class CouponLoginRequired(CouponError):
    code = "coupon_login_required"
    detail = "Log in to use this coupon: it is limited per customer."


class CouponMinimumNotMet(CouponError):
    code = "coupon_minimum_not_met"
    detail = "The cart subtotal is below this coupon's minimum."


class CouponNotApplicable(CouponError):
    code = "coupon_not_applicable"
    detail = "No item in the cart is eligible for this coupon."


class CouponInUse(Conflict):
    code = "coupon_in_use"
    detail = "This coupon has been redeemed by orders and cannot be deleted; deactivate it instead."


COUPON_ERRORS_BY_CODE: dict[str, type[CouponError]] = {
    error.code: error
    for error in (
        CouponNotFound,
        CouponInactive,
        CouponNotYetValid,
        CouponExpired,
        CouponUsageLimitReached,
        CouponLoginRequired,
        CouponMinimumNotMet,
        CouponNotApplicable,
    )
}


def coupon_error_for(code: str) -> CouponError:
    """The exception for a reason code (e.g. one reported by `cart.pricing`)."""
    return COUPON_ERRORS_BY_CODE.get(code, CouponError)()
