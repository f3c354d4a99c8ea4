"""Staff see the outbox (status, attempts, last error) and retry dead or failed messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import OutboxMessage

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/core/outboxmessage/"


@pytest.fixture
def messages():
    later = timezone.now() + timedelta(hours=3)
    return {
        "dead": OutboxMessage.objects.create(
            topic="order.paid",
            key="order-dead",
            status="dead",
            attempts=20,
            next_attempt_at=later,
            last_error="ErpUnavailable: POST /orders: HTTP 503.",
        ),
        "failed": OutboxMessage.objects.create(
            topic="order.paid",
            key="order-failed",
            status="failed",
            attempts=2,
            next_attempt_at=later,
            last_error="ErpUnavailable: POST /orders: HTTP 500.",
        ),
        "sent": OutboxMessage.objects.create(
            topic="order.paid", key="order-sent", status="sent", attempts=1, sent_at=timezone.now()
        ),
    }


def test_the_changelist_shows_status_attempts_and_last_error(admin_client, messages):
    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    html = response.content.decode()
    assert "order-dead" in html and "ErpUnavailable: POST /orders: HTTP 503." in html
    assert "Dead (gave up)" in html and "Failed, will retry" in html
    rows = response.context["cl"].result_list
    assert {(m.key, m.status, m.attempts) for m in rows} == {
        ("order-dead", "dead", 20),
        ("order-failed", "failed", 2),
        ("order-sent", "sent", 1),
    }


def test_the_changelist_filters_by_status(admin_client, messages):
    response = admin_client.get(CHANGELIST, {"status__exact": "dead"})

    assert [m.key for m in response.context["cl"].result_list] == ["order-dead"]


def test_the_retry_action_resets_failed_and_dead_messages(admin_client, messages, django_capture_on_commit_callbacks):
    selected = [messages[name].pk for name in ("dead", "failed", "sent")]

    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post(
            CHANGELIST, {"action": "retry_messages", "_selected_action": selected}, follow=True
        )

    assert response.status_code == 200
    assert "2 message(s) will be retried now." in response.content.decode()
    for name in ("dead", "failed"):
        message = OutboxMessage.objects.get(pk=messages[name].pk)
        assert (message.status, message.attempts) == ("pending", 0)
        assert message.next_attempt_at <= timezone.now()
    sent = OutboxMessage.objects.get(pk=messages["sent"].pk)
    assert (sent.status, sent.attempts) == ("sent", 1)


def test_staff_without_change_permission_cannot_retry(client, django_user_model, messages):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user(email="viewer@example.com", password="pw-123456789", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
    client.force_login(viewer)

    response = client.post(CHANGELIST, {"action": "retry_messages", "_selected_action": [messages["dead"].pk]})

    assert response.status_code in (200, 302)
    assert OutboxMessage.objects.get(pk=messages["dead"].pk).status == "dead"


def test_messages_cannot_be_added_by_hand(admin_client):
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
