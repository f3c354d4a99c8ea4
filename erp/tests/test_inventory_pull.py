"""Inventory pull against a local HTTP server standing in for the ERP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from erp.errors import ErpNotConfigured
from erp.models import ErpSyncState
from erp.services import StockConflict, erp_inventory_pull
from shop.cache import catalog_version
from shop.models import ProductVariant
from shop.tests.factories import ProductVariantFactory

pytestmark = pytest.mark.django_db


def stock(sku: str) -> tuple[int, int]:
    return tuple(ProductVariant.objects.filter(sku=sku).values_list("quantity_on_hand", "quantity_allocated").get())


def sync_state() -> ErpSyncState:
    return ErpSyncState.objects.get(name=ErpSyncState.INVENTORY)


@pytest.fixture
def variants():
    return {
        sku: ProductVariantFactory(sku=sku, quantity_on_hand=on_hand, quantity_allocated=allocated)
        for sku, on_hand, allocated in [("TEE-S", 10, 2), ("TEE-M", 5, 0), ("MUG-1", 8, 0), ("CAP-1", 3, 1)]
    }


def test_a_pull_sets_on_hand_per_sku_and_leaves_allocations_alone(fake_erp, variants):
    fake_erp.add_item("TEE-S", 40, "2025-05-01T10:00:00+00:00")
    fake_erp.add_item("TEE-M", 5, "2025-05-01T11:00:00+00:00")  # same as ours

    report = erp_inventory_pull()

    assert stock("TEE-S") == (40, 2)
    assert stock("TEE-M") == (5, 0)
    assert stock("MUG-1") == (8, 0)  # not in the answer: untouched
    assert (report.updated, report.unchanged, report.unknown, report.failed, report.conflicts) == (1, 1, 0, 0, 0)
    assert report.complete is True
    assert report.summary() == "updated=1 unchanged=1 unknown=0 failed=0 conflicts=0 pages=1"
    assert fake_erp.inventory_requests == [{"page": "1"}]  # first pull: no updated_since
    state = sync_state()
    assert state.cursor == datetime(2025, 5, 1, 11, 0, tzinfo=UTC)
    assert state.last_success_at is not None
    assert state.last_error == ""
    assert state.locked_until is None
    assert state.last_report["updated"] == 1


def test_the_erp_is_called_with_the_bearer_key(fake_erp, variants):
    erp_inventory_pull()

    request, _ = fake_erp.server.log[0]
    assert request.headers["Authorization"] == "Bearer erp-test-key"
    assert request.path == "/erp/inventory"


def test_a_pull_reads_every_page(fake_erp, variants):
    for n, (sku, quantity) in enumerate([("TEE-S", 11), ("TEE-M", 12), ("MUG-1", 13), ("CAP-1", 14), ("NOPE-1", 1)]):
        fake_erp.add_item(sku, quantity, f"2025-05-01T10:0{n}:00+00:00")
    progress = []

    report = erp_inventory_pull(progress=progress.append)

    assert [r["page"] for r in fake_erp.inventory_requests] == ["1", "2", "3"]
    assert report.pages == 3
    assert [stock(sku)[0] for sku in ("TEE-S", "TEE-M", "MUG-1", "CAP-1")] == [11, 12, 13, 14]
    assert (report.updated, report.unknown) == (4, 1)
    assert progress == [1, 1, 1, 1, 1]
    assert sync_state().cursor == datetime(2025, 5, 1, 10, 4, tzinfo=UTC)


def test_the_next_pull_asks_only_for_changes_since_the_last_complete_one(fake_erp, variants):
    fake_erp.add_item("TEE-S", 40, "2025-05-01T10:00:00+00:00")
    erp_inventory_pull()
    fake_erp.add_item("TEE-M", 7, "2025-05-02T09:30:00+00:00")
    fake_erp.inventory_requests.clear()

    report = erp_inventory_pull()

    assert fake_erp.inventory_requests == [{"page": "1", "updated_since": "2025-05-01T10:00:00+00:00"}]
    assert (report.updated, report.unchanged) == (1, 1)  # the boundary item is read again, harmlessly
    assert stock("TEE-M") == (7, 0)
    assert sync_state().cursor == datetime(2025, 5, 2, 9, 30, tzinfo=UTC)


def test_full_ignores_the_cursor_and_since_overrides_it(fake_erp, variants):
    ErpSyncState.objects.create(name=ErpSyncState.INVENTORY, cursor=datetime(2025, 6, 1, tzinfo=UTC))

    erp_inventory_pull(full=True)
    erp_inventory_pull(since=datetime(2025, 4, 1, 8, 0, tzinfo=UTC))

    assert fake_erp.inventory_requests == [{"page": "1"}, {"page": "1", "updated_since": "2025-04-01T08:00:00+00:00"}]


def test_server_errors_stop_the_pull_without_moving_the_cursor_then_it_recovers(fake_erp, variants):
    fake_erp.add_item("TEE-S", 21, "2025-05-01T10:00:00+00:00")
    fake_erp.add_item("TEE-M", 22, "2025-05-01T10:01:00+00:00")
    fake_erp.add_item("MUG-1", 23, "2025-05-01T10:02:00+00:00")
    ErpSyncState.objects.create(name=ErpSyncState.INVENTORY, cursor=datetime(2025, 4, 30, tzinfo=UTC))
    fake_erp.inventory_requests.clear()
    # page 1 answers, page 2 fails: the first page's counts are applied, the rest waits
    fake_erp.server.expect_oneshot_request(
        "/erp/inventory", query_string={"page": "2", "updated_since": "2025-04-30T00:00:00+00:00"}
    ).respond_with_data("down", status=500)

    failed = erp_inventory_pull()

    assert failed.complete is False
    assert failed.error_transient is True
    assert failed.error == "GET /inventory: HTTP 500."
    assert (
        failed.summary()
        == "updated=2 unchanged=0 unknown=0 failed=0 conflicts=0 pages=1 incomplete: GET /inventory: HTTP 500."
    )
    assert (stock("TEE-S")[0], stock("TEE-M")[0], stock("MUG-1")[0]) == (21, 22, 8)
    state = sync_state()
    assert state.cursor == datetime(2025, 4, 30, tzinfo=UTC)
    assert state.last_error == "GET /inventory: HTTP 500."
    assert state.last_success_at is None
    assert state.locked_until is None

    recovered = erp_inventory_pull()

    assert recovered.complete is True
    assert (recovered.updated, recovered.unchanged) == (1, 2)
    assert stock("MUG-1")[0] == 23
    state = sync_state()
    assert state.cursor == datetime(2025, 5, 1, 10, 2, tzinfo=UTC)
    assert state.last_error == ""


def test_repeated_500s_keep_failing_transiently_and_change_nothing(fake_erp, variants):
    fake_erp.add_item("TEE-S", 99)
    fake_erp.fail_next("inventory", 500, 503)

    reports = [erp_inventory_pull(), erp_inventory_pull()]

    assert [(r.complete, r.error_transient, r.pages) for r in reports] == [(False, True, 0), (False, True, 0)]
    assert stock("TEE-S") == (10, 2)
    recovered = erp_inventory_pull()
    assert recovered.complete is True
    assert stock("TEE-S") == (99, 2)


def test_a_timeout_is_a_transient_failure(fake_erp, variants):
    fake_erp.add_item("TEE-S", 99)
    fake_erp.fail_next("inventory", "timeout")

    report = erp_inventory_pull()

    assert report.complete is False
    assert report.error_transient is True
    assert report.error == "GET /inventory: no answer within 0.5 s."
    assert stock("TEE-S") == (10, 2)
    assert sync_state().cursor is None


def test_an_answer_that_is_not_json_is_a_transient_failure(fake_erp, variants):
    fake_erp.add_item("TEE-S", 99)
    fake_erp.fail_next("inventory", "bad_json")

    report = erp_inventory_pull()

    assert (report.complete, report.error_transient) == (False, True)
    assert report.error == "GET /inventory: the answer is not JSON."
    assert stock("TEE-S") == (10, 2)


def test_json_of_the_wrong_shape_is_refused(fake_erp, variants):
    fake_erp.server.expect_oneshot_request("/erp/inventory").respond_with_json({"rows": []})

    report = erp_inventory_pull()

    assert (report.complete, report.error) == (False, "Inventory page 1: the answer has no 'items' list.")


def test_a_refusal_is_not_transient(fake_erp, variants, settings):
    settings.ERP_API_KEY = "wrong-key"
    fake_erp.add_item("TEE-S", 99)

    report = erp_inventory_pull()

    assert report.complete is False
    assert report.error_transient is False
    assert report.error.startswith("GET /inventory: HTTP 401")
    assert stock("TEE-S") == (10, 2)


def test_unknown_skus_are_reported(fake_erp, variants):
    fake_erp.add_item("GHOST-1", 3)
    fake_erp.add_item("TEE-S", 30)
    fake_erp.add_item("GHOST-2", 4)

    report = erp_inventory_pull()

    assert report.unknown == 2
    assert sorted(report.unknown_skus) == ["GHOST-1", "GHOST-2"]
    assert report.updated == 1
    assert not ProductVariant.objects.filter(sku__startswith="GHOST").exists()


def test_an_item_that_fails_is_skipped_and_the_rest_is_applied(fake_erp, variants):
    fake_erp.add_item("TEE-S", -4, "2025-05-01T10:00:00+00:00")
    fake_erp.add_item("TEE-M", "lots", "2025-05-01T10:01:00+00:00")
    fake_erp.add_item("MUG-1", 31, "2025-05-01T10:02:00+00:00")
    fake_erp.add_item("CAP-1", 9, "yesterday")
    fake_erp.inventory.append({"quantity_on_hand": 1, "updated_at": "2025-05-01T10:03:00+00:00"})

    report = erp_inventory_pull()

    assert report.complete is True
    assert (report.updated, report.failed) == (1, 4)
    assert stock("MUG-1") == (31, 0)
    assert stock("TEE-S") == (10, 2)
    assert stock("TEE-M") == (5, 0)
    assert stock("CAP-1") == (3, 1)
    assert sorted((f.sku, f.reason) for f in report.failures) == [
        ("?", "missing sku"),
        ("CAP-1", "updated_at is not an ISO 8601 date-time: 'yesterday'"),
        ("TEE-M", "quantity_on_hand must be a non-negative integer, got 'lots'"),
        ("TEE-S", "quantity_on_hand must be a non-negative integer, got -4"),
    ]


def test_a_count_below_what_open_orders_hold_keeps_the_allocation_and_is_a_conflict(fake_erp, variants):
    ProductVariant.objects.filter(sku="TEE-S").update(quantity_on_hand=10, quantity_allocated=6)
    fake_erp.add_item("TEE-S", 4)

    report = erp_inventory_pull()

    assert stock("TEE-S") == (6, 6)  # nothing left to sell, nothing promised taken back
    assert (report.conflicts, report.updated) == (1, 0)
    assert report.conflict_details == [
        StockConflict(sku="TEE-S", erp_quantity=4, quantity_allocated=6, quantity_on_hand=6)
    ]


def test_a_count_equal_to_the_allocation_is_no_conflict(fake_erp, variants):
    fake_erp.add_item("CAP-1", 1)

    report = erp_inventory_pull()

    assert stock("CAP-1") == (1, 1)
    assert (report.updated, report.conflicts) == (1, 0)


def test_the_catalog_cache_is_invalidated_when_stock_changed(fake_erp, variants):
    fake_erp.add_item("TEE-S", 10)  # unchanged
    before = catalog_version()

    erp_inventory_pull()
    assert catalog_version() == before

    fake_erp.add_item("TEE-M", 1, "2025-05-02T00:00:00+00:00")
    erp_inventory_pull()
    assert catalog_version() != before


def test_a_pull_already_running_is_not_doubled(fake_erp, variants):
    ErpSyncState.objects.create(name=ErpSyncState.INVENTORY, locked_until=timezone.now() + timedelta(minutes=5))
    fake_erp.add_item("TEE-S", 99)

    report = erp_inventory_pull()

    assert (report.complete, report.error) == (False, "Another inventory pull is running.")
    assert fake_erp.inventory_requests == []
    assert stock("TEE-S") == (10, 2)


def test_a_stale_claim_of_a_crashed_pull_does_not_block_forever(fake_erp, variants):
    ErpSyncState.objects.create(name=ErpSyncState.INVENTORY, locked_until=timezone.now() - timedelta(seconds=1))
    fake_erp.add_item("TEE-S", 99)

    assert erp_inventory_pull().complete is True
    assert stock("TEE-S") == (99, 2)


def test_a_page_that_points_backwards_ends_the_pull(fake_erp, variants):
    fake_erp.server.expect_oneshot_request("/erp/inventory").respond_with_json(
        {"items": [{"sku": "TEE-S", "quantity_on_hand": 12, "updated_at": "2025-05-01T00:00:00Z"}], "next_page": 1}
    )

    report = erp_inventory_pull()

    assert (report.complete, report.pages) == (False, 1)
    assert report.error == "Inventory page 1 points back to page 1."
    assert stock("TEE-S") == (12, 2)


def test_the_page_limit_guards_against_endless_paging(fake_erp, variants, settings):
    settings.ERP_INVENTORY_MAX_PAGES = 2
    for n in range(6):
        fake_erp.add_item("TEE-S", n + 20, f"2025-05-01T10:0{n}:00+00:00")

    report = erp_inventory_pull()

    assert (report.complete, report.pages) == (False, 2)
    assert report.error == "Stopped after ERP_INVENTORY_MAX_PAGES=2 pages."


def test_without_erp_url_the_pull_refuses_to_run(settings, variants):
    settings.ERP_API_URL = ""

    with pytest.raises(ErpNotConfigured):
        erp_inventory_pull()
    assert not ErpSyncState.objects.exists()
