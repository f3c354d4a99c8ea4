"""The reply email's link is built by core.links: the storefront's conversation page, or the demo
storefront's support page when no storefront is configured."""

import pytest
from django.core import mail

from chat import services

from .factories import ConversationFactory

pytestmark = pytest.mark.django_db


def _reply_email(conversation, agent, callbacks):
    with callbacks(execute=True):
        services.message_send(conversation_id=conversation.pk, sender=agent, body="We are on it")
    [email] = mail.outbox
    return email


def test_the_reply_email_links_to_the_storefronts_conversation_page(
    user, staff_user, settings, django_capture_on_commit_callbacks
):
    settings.FRONTEND_URL = "https://shop.example.com"
    conversation = ConversationFactory(customer=user)

    email = _reply_email(conversation, staff_user, django_capture_on_commit_callbacks)

    assert f"https://shop.example.com/support/conversations/{conversation.pk}" in email.body


def test_without_a_storefront_the_link_opens_the_demo_storefront(
    user, staff_user, settings, django_capture_on_commit_callbacks
):
    settings.FRONTEND_URL = ""
    settings.PUBLIC_URL = "https://api.example.com"
    conversation = ConversationFactory(customer=user)

    email = _reply_email(conversation, staff_user, django_capture_on_commit_callbacks)

    assert "https://api.example.com/storefront/#/support" in email.body
