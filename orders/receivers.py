"""What orders does when the account app reports something (connected in OrdersConfig.ready())."""

from __future__ import annotations

from typing import Any


def user_email_confirmed(sender: Any, user: Any, **kwargs: Any) -> None:
    """The account proved its email: guest orders placed with it join the account's history."""
    from .services import guest_orders_claim

    guest_orders_claim(user=user)
