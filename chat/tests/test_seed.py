import io

import pytest

from chat import seed
from chat.models import Conversation, Message
from core.seeding import SeedContext

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent(user, staff_user):
    ctx = SeedContext(stdout=io.StringIO(), shared={"demo_user": user, "staff_user": staff_user})

    seed.seed(ctx)
    seed.seed(ctx)

    conversation = Conversation.objects.get()
    assert (conversation.customer, conversation.assigned_agent, conversation.status) == (user, staff_user, "open")
    assert list(Message.objects.order_by("created_at").values_list("sender_role", flat=True)) == ["customer", "agent"]
    assert conversation.last_message_at == Message.objects.get(sender_role="agent").created_at


def test_seed_skips_without_demo_users(db):
    ctx = SeedContext(stdout=io.StringIO())

    seed.seed(ctx)

    assert Conversation.objects.count() == 0
    assert "skipped" in ctx.stdout.getvalue()
