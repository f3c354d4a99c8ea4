"""Staff see where the ERP sync stands and which orders the ERP acknowledged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from erp.models import ErpOrderExport, ErpSyncState
from orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_the_sync_state_is_listed_with_its_last_error(admin_client):
    ErpSyncState.objects.create(
        name=ErpSyncState.INVENTORY, cursor=datetime(2025, 5, 1, tzinfo=UTC), last_error="GET /inventory: HTTP 500."
    )

    response = admin_client.get("/admin/erp/erpsyncstate/")

    assert response.status_code == 200
    assert "GET /inventory: HTTP 500." in response.content.decode()
    assert admin_client.get("/admin/erp/erpsyncstate/add/").status_code == 403


def test_order_exports_are_listed_and_searchable_by_order_number(admin_client, user):
    first = ErpOrderExport.objects.create(order=OrderFactory(user=user, number="250501-AAAA-0001"), erp_id="SO-00001")
    ErpOrderExport.objects.create(order=OrderFactory(user=user, number="250501-BBBB-0002"), erp_id="SO-00002")

    response = admin_client.get("/admin/erp/erporderexport/", {"q": "AAAA"})

    assert response.status_code == 200
    assert [export.pk for export in response.context["cl"].result_list] == [first.pk]


def test_the_export_list_does_not_grow_queries_with_its_size(admin_client, user, django_assert_max_num_queries):
    for n in range(5):
        ErpOrderExport.objects.create(order=OrderFactory(user=user), erp_id=f"SO-{n}")
    with django_assert_max_num_queries(12) as small:
        admin_client.get("/admin/erp/erporderexport/")
    for n in range(5, 25):
        ErpOrderExport.objects.create(order=OrderFactory(user=user), erp_id=f"SO-{n}")

    with django_assert_max_num_queries(len(small.captured_queries)):
        admin_client.get("/admin/erp/erporderexport/")
