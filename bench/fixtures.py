"""Benchmark accounts and stock, made in the shop's database before anything is measured.

    python -m bench.fixtures --users 10 --variants 12 --out /tmp/fixtures.json

Run by bench/run.py with the server's environment (same settings module, same database). Creates or
refreshes `--users` verified customers `bench-buyer-<n>@example.com` with a new random password each
run (they log in through the API like anyone), and tops up `--variants` in-stock variants of active
products so that orders placed for minutes never run out. Writes {"users": [{email, password}],
"variant_ids": [...]} to `--out` (not stdout, where Django may log).
"""

from __future__ import annotations

import argparse
import json
import secrets
from pathlib import Path

STOCK_FLOOR = 1_000_000  # far more than any run can order


def buyer_email(index: int) -> str:
    return f"bench-buyer-{index}@example.com"


def users_refresh(*, count: int) -> list[dict[str, str]]:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    users = []
    for index in range(count):
        password = secrets.token_urlsafe(24)
        user = user_model.objects.filter(email=buyer_email(index)).first()
        if user is None:
            user = user_model.objects.create_user(email=buyer_email(index), password=password, email_verified=True)
        else:
            user.set_password(password)
            user.is_active, user.email_verified = True, True
            user.save(update_fields=["password", "is_active", "email_verified"])
        users.append({"email": user.email, "password": password})
    return users


def variants_stock_up(*, count: int) -> list[int]:
    """The first `count` sellable variants, their stock raised through the stock service."""
    from django.conf import settings

    from shop.models import ProductVariant
    from shop.services import stock_adjust

    variants = list(
        ProductVariant.objects.filter(
            is_active=True, product__is_active=True, currency=settings.DEFAULT_CURRENCY
        ).order_by("id")[:count]
    )
    if len(variants) < count:
        raise SystemExit(f"only {len(variants)} sellable variants: seed the catalog first (--seed)")
    for variant in variants:
        shortfall = STOCK_FLOOR - variant.available_quantity
        if shortfall > 0:
            stock_adjust(variant=variant, delta=shortfall, reason="received", note="benchmark stock")
    return [variant.id for variant in variants]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--variants", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    import django

    django.setup()
    fixtures = {"users": users_refresh(count=args.users), "variant_ids": variants_stock_up(count=args.variants)}
    args.out.write_text(json.dumps(fixtures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
