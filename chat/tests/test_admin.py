import pytest
from django.test import Client
from django.utils import timezone

from chat.models import Conversation

from .factories import ConversationFactory, MessageFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/chat/conversation/"


@pytest.fixture
def admin_browser(django_user_model):
    admin = django_user_model.objects.create_superuser(email="boss@example.com", password="correct-horse-battery")
    browser = Client()
    browser.force_login(admin)
    browser.admin = admin
    return browser


def test_changelist_searches_by_customer_email(admin_browser):
    wanted = ConversationFactory(customer=UserFactory(email="wanted@example.com"), subject="Wanted subject")
    ConversationFactory(customer=UserFactory(email="someone@example.com"), subject="Other subject")

    response = admin_browser.get(CHANGELIST, {"q": "wanted@"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [wanted]


def test_changelist_filters(admin_browser):
    waiting = ConversationFactory()
    MessageFactory(conversation=waiting)
    closed = ConversationFactory(status="closed", closed_at=timezone.now())
    mine = ConversationFactory(assigned_agent=admin_browser.admin)

    def listed(params):
        response = admin_browser.get(CHANGELIST, params)
        assert response.status_code == 200
        return set(response.context["cl"].result_list)

    assert listed({"unread": "yes"}) == {waiting}
    assert listed({"status__exact": "closed"}) == {closed}
    assert listed({"assigned": "me"}) == {mine}
    assert listed({"assigned": "none"}) == {waiting, closed}


@pytest.mark.parametrize("size", [1, 6])
def test_changelist_query_count_is_flat(admin_browser, size, django_assert_max_num_queries):
    for _ in range(size):
        MessageFactory(conversation=ConversationFactory(assigned_agent=admin_browser.admin))

    with django_assert_max_num_queries(9):
        assert admin_browser.get(CHANGELIST).status_code == 200


def test_change_page_shows_messages_inline(admin_browser):
    conversation = ConversationFactory()
    MessageFactory(conversation=conversation, body="first words")
    MessageFactory(conversation=conversation, body="second words")

    response = admin_browser.get(f"{CHANGELIST}{conversation.pk}/change/")

    assert response.status_code == 200
    assert "first words" in response.content.decode()
    assert "second words" in response.content.decode()


def test_admin_cannot_add_conversations(admin_browser):
    assert admin_browser.get(f"{CHANGELIST}add/").status_code == 403


def test_actions_call_the_services(admin_browser):
    open_one = ConversationFactory()
    already_closed = ConversationFactory(status="closed", closed_at=timezone.now())
    ids = [str(open_one.pk), str(already_closed.pk)]

    assigned = admin_browser.post(CHANGELIST, {"action": "assign_to_me", "_selected_action": [str(open_one.pk)]})
    closed = admin_browser.post(CHANGELIST, {"action": "close_conversations", "_selected_action": ids}, follow=True)

    assert assigned.status_code == 302
    open_one.refresh_from_db()
    assert open_one.assigned_agent == admin_browser.admin
    assert open_one.status == "closed"
    messages = [str(m) for m in closed.context["messages"]]
    assert "1 conversation(s) closed." in messages
    assert any("already closed" in m for m in messages)
    assert Conversation.objects.filter(status="closed").count() == 2
