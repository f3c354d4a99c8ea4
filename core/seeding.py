"""`seed_sample_data` asks each app, in dependency order, to seed its own part of the demo shop.

An app takes part by defining `<app>/seed.py` with `def seed(ctx: SeedContext) -> None`; every
seeder must be idempotent (get_or_create / update_or_create), so running the command twice leaves
one demo shop, not two.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from importlib import import_module
from importlib.util import find_spec
from typing import Any, TextIO

from django.apps import apps
from django.db import transaction

LOCAL_APPS = ["core", "account", "sms", "shop", "shipping", "coupons", "cart", "orders", "payment", "erp", "chat"]


@dataclass
class SeedContext:
    stdout: TextIO
    products: int = 40
    show_progress: bool = True
    # Seeders share what later ones need (e.g. the demo customer for the demo cart).
    shared: dict[str, Any] = field(default_factory=dict)

    def say(self, message: str) -> None:
        self.stdout.write(message + "\n")


def random_password() -> str:
    return secrets.token_urlsafe(12)


def run_seeders(ctx: SeedContext) -> list[str]:
    ran = []
    for label in LOCAL_APPS:
        if not apps.is_installed(label) or find_spec(f"{label}.seed") is None:
            continue
        seeder = import_module(f"{label}.seed")
        with transaction.atomic():
            seeder.seed(ctx)
        ran.append(label)
    return ran
