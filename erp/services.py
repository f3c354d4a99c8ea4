"""The ERP integration both ways (contract in docs/ERP.md).

Orders: a paid order reaches the outbox in the transaction that marks it paid (topic "order.paid");
`erp_order_paid_handle` is the outbox handler and `erp_order_push` sends the order with its id as
the Idempotency-Key, so a retry never creates a second ERP order.

Inventory: `erp_inventory_pull` pages through the items changed since the last complete pull and
sets each SKU's `quantity_on_hand`. Reconciliation rule: stock held by open orders
(`quantity_allocated`) is never given away, so on hand is set to max(ERP count, allocated); when the
ERP count is below the allocation the item is reported as a conflict for a human to look at.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.outbox import OutboxPermanentFailure, OutboxRetryLater
from orders.models import Order
from shop.cache import catalog_cache_invalidate
from shop.models import ProductVariant

from .client import ErpClient
from .errors import ErpError, ErpNotConfigured, ErpOrderMissing
from .models import ErpOrderExport, ErpSyncState

logger = logging.getLogger(__name__)

ORDER_PAID_TOPIC = "order.paid"
# While the integration is off, paid orders wait in the outbox and are looked at again this often.
NOT_CONFIGURED_RETRY_SECONDS = 15 * 60
# Reports keep at most this many unknown SKUs, failures and conflicts (the counts stay exact).
REPORT_DETAIL_LIMIT = 200


# --- orders -------------------------------------------------------------------------------------


def erp_order_payload(*, order: Order) -> dict[str, Any]:
    """The order as the ERP contract describes it; amounts are decimal strings."""
    return {
        "id": str(order.pk),
        "number": order.number,
        "created_at": order.created_at.isoformat(),
        "paid_at": order.paid_at.isoformat() if order.paid_at else None,
        "currency": order.currency,
        "subtotal": str(order.subtotal),
        "discount_total": str(order.discount_total),
        "shipping_total": str(order.shipping_total),
        "tax_total": str(order.tax_total),
        "total": str(order.total),
        "lines": [
            {
                "sku": line.sku,
                "name": line.product_name,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
                "line_total": str(line.line_total),
                "discount": str(line.discount),
                "tax": str(line.tax),
            }
            for line in order.lines.all()
        ],
        "customer": {"email": order.email},
        "shipping_address": order.shipping_address,
        "shipping_method": order.shipping_method_snapshot.get("name", ""),
    }


def erp_order_push(*, order_id: str, client: ErpClient | None = None) -> ErpOrderExport:
    """Send a paid order to the ERP once. An order the ERP already acknowledged is not sent again;
    one sent but not yet acknowledged (a timeout) is sent again with the same Idempotency-Key, which
    the ERP answers with the order it already has."""
    export = ErpOrderExport.objects.filter(order_id=order_id).first()
    if export is not None:
        return export
    order = Order.objects.prefetch_related("lines").filter(pk=order_id).first()
    if order is None:
        raise ErpOrderMissing(f"Order {order_id} does not exist.")
    client = client or ErpClient.from_settings()
    erp_id = client.order_push(idempotency_key=str(order.pk), payload=erp_order_payload(order=order))
    export, _ = ErpOrderExport.objects.get_or_create(order=order, defaults={"erp_id": erp_id})
    logger.info("Order %s pushed to the ERP as %s", order.number, export.erp_id)
    return export


def erp_order_paid_handle(*, key: str, payload: dict[str, Any]) -> None:
    """Outbox handler of "order.paid": the key is the order id."""
    try:
        erp_order_push(order_id=key)
    except ErpNotConfigured as exc:
        raise OutboxRetryLater(str(exc), delay_seconds=NOT_CONFIGURED_RETRY_SECONDS) from exc
    except ErpError as exc:
        if exc.transient:
            raise
        raise OutboxPermanentFailure(str(exc)) from exc


# --- inventory ----------------------------------------------------------------------------------


class ItemOutcome(StrEnum):
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    UNKNOWN = "unknown"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class StockConflict:
    sku: str
    erp_quantity: int
    quantity_allocated: int
    quantity_on_hand: int  # what on hand was set to (the allocation)


@dataclass(frozen=True)
class ItemFailure:
    sku: str
    reason: str


@dataclass
class SyncReport:
    since: datetime | None = None
    pages: int = 0
    updated: int = 0
    unchanged: int = 0
    unknown: int = 0
    failed: int = 0
    conflicts: int = 0
    unknown_skus: list[str] = field(default_factory=list)
    failures: list[ItemFailure] = field(default_factory=list)
    conflict_details: list[StockConflict] = field(default_factory=list)
    newest_updated_at: datetime | None = None
    complete: bool = False
    error: str = ""
    error_transient: bool = False

    @property
    def items(self) -> int:
        return self.updated + self.unchanged + self.unknown + self.failed + self.conflicts

    @property
    def changed(self) -> bool:
        # A conflict may have raised on hand to the allocation, so it counts as a possible change.
        return bool(self.updated or self.conflicts)

    def summary(self) -> str:
        line = (
            f"updated={self.updated} unchanged={self.unchanged} unknown={self.unknown} "
            f"failed={self.failed} conflicts={self.conflicts} pages={self.pages}"
        )
        return line if self.complete else f"{line} incomplete: {self.error}"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("since", "newest_updated_at"):
            data[name] = data[name].isoformat() if data[name] else None
        return data

    def _add_failure(self, sku: str, reason: str) -> None:
        self.failed += 1
        if len(self.failures) < REPORT_DETAIL_LIMIT:
            self.failures.append(ItemFailure(sku=sku, reason=reason))


def erp_inventory_pull(
    *,
    since: datetime | None = None,
    full: bool = False,
    progress: Callable[[int], None] | None = None,
    client: ErpClient | None = None,
) -> SyncReport:
    """Pull stock counts from the ERP. Without `since`, asks for what changed after the last complete
    pull; `full` asks for everything. An item that cannot be applied is logged and skipped; a page
    that cannot be read ends the pull early (`complete` False) without moving the cursor, so the
    next pull reads it again. Setting absolute counts makes re-reading harmless."""
    client = client or ErpClient.from_settings()
    started_at = timezone.now()
    state, _ = ErpSyncState.objects.get_or_create(name=ErpSyncState.INVENTORY)
    report = SyncReport(since=None if full else (since or state.cursor))
    if not _sync_claim(state, now=started_at):
        report.error = "Another inventory pull is running."
        return report
    try:
        _pull_pages(client=client, report=report, progress=progress)
    finally:
        if report.changed:
            catalog_cache_invalidate()
        _sync_finish(state, report=report, started_at=started_at)
    return report


def _pull_pages(*, client: ErpClient, report: SyncReport, progress: Callable[[int], None] | None) -> None:
    page: int | None = 1
    try:
        while page is not None:
            if report.pages >= settings.ERP_INVENTORY_MAX_PAGES:
                raise ErpError(f"Stopped after ERP_INVENTORY_MAX_PAGES={settings.ERP_INVENTORY_MAX_PAGES} pages.")
            result = client.inventory_page(updated_since=report.since, page=page)
            report.pages += 1
            for item in result.items:
                _apply_item(item, report)
                if progress is not None:
                    progress(1)
            if result.next_page is not None and result.next_page <= page:
                raise ErpError(f"Inventory page {page} points back to page {result.next_page}.")
            page = result.next_page
    except ErpError as exc:
        logger.warning("ERP inventory pull stopped after %d page(s): %s", report.pages, exc)
        report.error = str(exc)
        report.error_transient = exc.transient
    else:
        report.complete = True


def _parse_item(item: Any) -> tuple[str, int, datetime | None]:
    if not isinstance(item, dict):
        raise ValueError("item is not an object")
    sku = item.get("sku")
    if not isinstance(sku, str) or not sku.strip():
        raise ValueError("missing sku")
    quantity = item.get("quantity_on_hand")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise ValueError(f"quantity_on_hand must be a non-negative integer, got {quantity!r}")
    updated_at = None
    if item.get("updated_at") is not None:
        updated_at = parse_datetime(str(item["updated_at"]))
        if updated_at is None:
            raise ValueError(f"updated_at is not an ISO 8601 date-time: {item['updated_at']!r}")
        if timezone.is_naive(updated_at):
            updated_at = updated_at.replace(tzinfo=UTC)
    return sku.strip(), quantity, updated_at


def _apply_item(item: Any, report: SyncReport) -> None:
    raw_sku = str(item.get("sku", "?")) if isinstance(item, dict) else "?"
    try:
        sku, quantity, updated_at = _parse_item(item)
    except ValueError as exc:
        logger.warning("ERP inventory item %s skipped: %s", raw_sku, exc)
        report._add_failure(raw_sku, str(exc))
        return
    try:
        outcome, conflict = _stock_reconcile(sku=sku, erp_quantity=quantity)
    except DatabaseError as exc:
        logger.exception("ERP inventory item %s could not be applied", sku)
        report._add_failure(sku, f"{type(exc).__name__}: {exc}")
        return
    if updated_at is not None and (report.newest_updated_at is None or updated_at > report.newest_updated_at):
        report.newest_updated_at = updated_at
    if outcome is ItemOutcome.UNKNOWN:
        report.unknown += 1
        if len(report.unknown_skus) < REPORT_DETAIL_LIMIT:
            report.unknown_skus.append(sku)
    elif outcome is ItemOutcome.CONFLICT:
        report.conflicts += 1
        logger.warning(
            "ERP count for %s (%d) is below the stock held by open orders (%d); on hand kept at %d",
            sku,
            quantity,
            conflict.quantity_allocated,
            conflict.quantity_on_hand,
        )
        if len(report.conflict_details) < REPORT_DETAIL_LIMIT:
            report.conflict_details.append(conflict)
    elif outcome is ItemOutcome.UPDATED:
        report.updated += 1
    else:
        report.unchanged += 1


@transaction.atomic
def _stock_reconcile(*, sku: str, erp_quantity: int) -> tuple[ItemOutcome, StockConflict | None]:
    """Set on hand to the ERP's count, never below the allocation. One short transaction per SKU, so
    checkouts wait on the row lock for one update at most."""
    row = (
        ProductVariant.objects.select_for_update()
        .filter(sku=sku)
        .values_list("pk", "quantity_on_hand", "quantity_allocated")
        .first()
    )
    if row is None:
        return ItemOutcome.UNKNOWN, None
    variant_id, on_hand, allocated = row
    target = max(erp_quantity, allocated)
    if target != on_hand:
        # Greatest() repeats the rule in SQL: even without the row lock (SQLite) the write cannot
        # go below an allocation made in between.
        ProductVariant.objects.filter(pk=variant_id).update(
            quantity_on_hand=Greatest(Value(erp_quantity), F("quantity_allocated")), updated_at=timezone.now()
        )
    if erp_quantity < allocated:
        conflict = StockConflict(
            sku=sku, erp_quantity=erp_quantity, quantity_allocated=allocated, quantity_on_hand=target
        )
        return ItemOutcome.CONFLICT, conflict
    return (ItemOutcome.UPDATED if target != on_hand else ItemOutcome.UNCHANGED), None


def _sync_claim(state: ErpSyncState, *, now: datetime) -> bool:
    lease = timedelta(seconds=settings.ERP_INVENTORY_PULL_TIME_LIMIT + 60)
    claimed = ErpSyncState.objects.filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now), pk=state.pk).update(
        locked_until=now + lease, last_attempt_at=now
    )
    return claimed == 1


def _sync_finish(state: ErpSyncState, *, report: SyncReport, started_at: datetime) -> None:
    changes: dict[str, Any] = {"locked_until": None, "last_report": report.as_dict(), "last_error": report.error}
    if report.complete:
        changes["last_success_at"] = timezone.now()
        # The cursor only moves after a complete pull, and only forward: a page that failed is
        # read again next time.
        if report.newest_updated_at is not None and (state.cursor is None or report.newest_updated_at > state.cursor):
            changes["cursor"] = report.newest_updated_at
    ErpSyncState.objects.filter(pk=state.pk).update(**changes)
    for name, value in changes.items():
        setattr(state, name, value)
