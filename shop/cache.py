"""Every cache key of the catalog is built here, and one version counter invalidates them all.

Keys embed the catalog version (`shop:<version>:...`). Any content write (API, admin, review,
category, image, price) calls `catalog_cache_invalidate()`, which bumps the version, so every cached
list, detail, facet and category page is unreachable at once and simply expires later. A bump is
cheap and cannot miss a key, which per-key deletion could (a list page holds many products).

Stock movements do NOT bump it: one sale would otherwise empty the whole cache. Cached bodies keep
the content; the views overlay availability (`in_stock`, `available_quantity`) on every cached read
from one fresh query (`cached(..., refresh=...)`). Pages whose membership or counts depend on stock
(the `in_stock` filter, facet counts) are cached for `STOCK_CACHE_SECONDS` only, which bounds how long
they may lag a sale.

The version starts from the clock rather than 1: if the cache loses the counter (eviction, restart),
the new version cannot collide with keys written under an older one.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "shop:catalog-version"

T = TypeVar("T")


def catalog_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, time.time_ns(), timeout=None)
        version = cache.get(VERSION_KEY)
    # A cache that drops writes (Redis down, fail-open) still yields a usable, never-reused version.
    return version if version is not None else time.time_ns()


def _bump_version() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # the counter was evicted: restart it from the clock
        cache.set(VERSION_KEY, time.time_ns(), timeout=None)


def catalog_cache_invalidate() -> None:
    """Make the next read of any catalog page see the database.

    Bumps now, so the writer's own next read is fresh, and again after commit, so a page cached by a
    concurrent reader between the first bump and the commit (still showing old rows) is dropped too.
    """
    _bump_version()
    transaction.on_commit(_bump_version)


def _digest(parts: Iterable[tuple[str, str]]) -> str:
    canonical = "&".join(f"{name}={value}" for name, value in sorted(parts))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _key(kind: str, *parts: str) -> str:
    return ":".join(("shop", str(catalog_version()), kind, *parts))


def product_list_key(*, base_url: str, params: Iterable[tuple[str, str]]) -> str:
    # base_url is part of the key because paginated bodies carry absolute next/previous links.
    return _key("product-list", _digest([("@base", base_url), *params]))


def product_facets_key(*, params: Iterable[tuple[str, str]]) -> str:
    return _key("product-facets", _digest(params))


def product_suggest_key(*, query: str) -> str:
    return _key("product-suggest", _digest([("q", query)]))


def product_detail_key(*, slug: str) -> str:
    return _key("product", slug)


def product_related_key(*, slug: str) -> str:
    return _key("product-related", slug)


def category_tree_key() -> str:
    return _key("category-tree")


def category_detail_key(*, slug: str) -> str:
    return _key("category", slug)


def product_related_invalidate(*, slugs: Iterable[str]) -> None:
    """Drop the related pages of these products only ("bought together" counts changed), now and
    after commit, for the same reason as `catalog_cache_invalidate`."""
    slugs = list(slugs)

    def drop() -> None:
        cache.delete_many([product_related_key(slug=slug) for slug in slugs])

    drop()
    transaction.on_commit(drop)


def stock_bound_timeout() -> int:
    """Lifetime of a page whose content depends on stock: the documented staleness bound."""
    return min(settings.STOCK_CACHE_SECONDS, settings.SHOP_CACHE_TIMEOUT)


def cached(
    key: str, build: Callable[[], T], *, timeout: int | None = None, refresh: Callable[[T], T] | None = None
) -> T:
    """The cached value under `key`, passed through `refresh` (the availability overlay), else
    `build()`, stored for `timeout` (default SHOP_CACHE_TIMEOUT) seconds. A fresh build is returned
    as is: it was read from the database just now. SHOP_CACHE_TIMEOUT=0 turns the catalog cache
    off: nothing is read or written (entries another process cached stay unseen)."""
    if settings.SHOP_CACHE_TIMEOUT <= 0:
        return build()
    sentinel: Any = object()
    value = cache.get(key, sentinel)
    if value is sentinel:
        value = build()
        cache.set(key, value, timeout=settings.SHOP_CACHE_TIMEOUT if timeout is None else timeout)
        return value
    return refresh(value) if refresh is not None else value
