"""The scheduled pull (Celery task, eager in tests) and `manage.py sync_inventory_from_erp`."""

from __future__ import annotations

from io import StringIO

import pytest
from celery.exceptions import Retry
from django.core.management import CommandError, call_command

from erp.errors import ErpUnavailable
from erp.models import ErpSyncState
from erp.tasks import erp_inventory_pull
from shop.models import ProductVariant
from shop.tests.factories import ProductVariantFactory

pytestmark = pytest.mark.django_db


def on_hand(sku: str) -> int:
    return ProductVariant.objects.values_list("quantity_on_hand", flat=True).get(sku=sku)


@pytest.fixture
def variants():
    ProductVariantFactory(sku="TEE-S", quantity_on_hand=10, quantity_allocated=6)
    ProductVariantFactory(sku="TEE-M", quantity_on_hand=5)
    ProductVariantFactory(sku="MUG-1", quantity_on_hand=8)


# --- task ---------------------------------------------------------------------------------------


def test_a_transient_failure_schedules_a_retry_with_backoff(fake_erp, variants):
    # Eager tasks raise Retry instead of re-running; the real worker test retries for real.
    fake_erp.add_item("TEE-M", 12)
    fake_erp.fail_next("inventory", 500)

    with pytest.raises(Retry) as retry:
        erp_inventory_pull.delay()

    assert retry.value.when == 60
    assert str(retry.value.exc) == "GET /inventory: HTTP 500."
    assert on_hand("TEE-M") == 5

    result = erp_inventory_pull.delay().get()  # what the retry runs

    assert result["complete"] is True
    assert on_hand("TEE-M") == 12


def test_later_retries_wait_longer(fake_erp, variants):
    fake_erp.fail_next("inventory", "timeout")

    with pytest.raises(Retry) as retry:
        erp_inventory_pull.apply(retries=3)

    assert retry.value.when == 480
    assert str(retry.value.exc) == "GET /inventory: no answer within 0.5 s."


def test_the_task_gives_up_after_its_retries(fake_erp, variants):
    fake_erp.fail_next("inventory", 503)

    with pytest.raises(ErpUnavailable, match="HTTP 503"):
        erp_inventory_pull.apply(retries=5)

    assert len(fake_erp.inventory_requests) == 1
    assert on_hand("TEE-M") == 5


def test_the_task_does_not_retry_a_refusal(fake_erp, variants, settings):
    settings.ERP_API_KEY = "revoked"

    result = erp_inventory_pull.delay().get()

    assert len(fake_erp.inventory_requests) == 1
    assert result["complete"] is False
    assert result["error"].startswith("GET /inventory: HTTP 401")


def test_the_task_runs_a_full_pull_when_asked(fake_erp, variants):
    erp_inventory_pull.delay().get()
    ErpSyncState.objects.update(cursor="2025-06-01T00:00:00Z")

    erp_inventory_pull.delay(full=True).get()

    assert fake_erp.inventory_requests == [{"page": "1"}, {"page": "1"}]


def test_the_task_is_skipped_while_the_erp_is_not_configured(settings, variants):
    settings.ERP_API_URL = ""

    assert erp_inventory_pull.delay().get() == {"skipped": "erp_not_configured"}


# --- command ------------------------------------------------------------------------------------


def run_command(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("sync_inventory_from_erp", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_prints_the_details_and_a_summary(fake_erp, variants):
    fake_erp.add_item("TEE-S", 4, "2025-05-01T10:00:00+00:00")
    fake_erp.add_item("TEE-M", 7, "2025-05-01T10:01:00+00:00")
    fake_erp.add_item("MUG-1", 8, "2025-05-01T10:02:00+00:00")
    fake_erp.add_item("GHOST-9", 1, "2025-05-01T10:03:00+00:00")
    fake_erp.add_item("MUG-1", "many", "2025-05-01T10:04:00+00:00")

    out, err = run_command()

    assert out.splitlines() == [
        "unknown SKU: GHOST-9",
        "failed: MUG-1: quantity_on_hand must be a non-negative integer, got 'many'",
        "conflict: TEE-S: ERP count 4 is below 6 held by open orders; on hand set to 6",
        "ERP inventory sync: updated=1 unchanged=1 unknown=1 failed=1 conflicts=1 pages=3",
    ]
    assert "ERP inventory" in err and "5 items" in err  # the progress bar
    assert (on_hand("TEE-S"), on_hand("TEE-M"), on_hand("MUG-1")) == (6, 7, 8)


def test_the_command_can_hide_the_progress_bar(fake_erp, variants):
    out, err = run_command("--no-progress")

    assert out == "ERP inventory sync: updated=0 unchanged=0 unknown=0 failed=0 conflicts=0 pages=1\n"
    assert err == ""


def test_the_command_pulls_since_a_given_time(fake_erp, variants):
    run_command("--since", "2025-05-01T08:00:00", "--no-progress")

    assert fake_erp.inventory_requests == [{"page": "1", "updated_since": "2025-05-01T08:00:00+00:00"}]


def test_the_command_full_pull_ignores_the_cursor(fake_erp, variants):
    ErpSyncState.objects.create(name=ErpSyncState.INVENTORY, cursor="2025-06-01T00:00:00Z")

    run_command("--full", "--no-progress")

    assert fake_erp.inventory_requests == [{"page": "1"}]


def test_the_command_refuses_a_bad_date(fake_erp, variants):
    with pytest.raises(CommandError, match="is not an ISO 8601 date-time"):
        run_command("--since", "last tuesday")
    assert fake_erp.inventory_requests == []


def test_the_command_fails_when_the_pull_does_not_finish(fake_erp, variants):
    fake_erp.add_item("TEE-M", 9)
    fake_erp.fail_next("inventory", 502)
    out = StringIO()

    with pytest.raises(CommandError, match=r"The pull did not finish: GET /inventory: HTTP 502\."):
        call_command("sync_inventory_from_erp", "--no-progress", stdout=out, stderr=StringIO())

    assert out.getvalue() == (
        "ERP inventory sync: updated=0 unchanged=0 unknown=0 failed=0 conflicts=0 pages=0 "
        "incomplete: GET /inventory: HTTP 502.\n"
    )
    assert on_hand("TEE-M") == 5


def test_the_command_explains_a_missing_configuration(settings, variants):
    settings.ERP_API_URL = ""

    with pytest.raises(CommandError, match="ERP_API_URL is not set"):
        run_command("--no-progress")
