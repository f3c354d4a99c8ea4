"""The chat app's error codes. The same codes reach websocket clients in `{"type": "error", ...}`."""

from core.errors import Conflict, DomainError, InvalidTransition, NotFound


class ConversationNotFound(NotFound):
    code = "conversation_not_found"
    detail = "Conversation not found."


class MessageNotFound(NotFound):
    code = "message_not_found"
    detail = "Message not found in this conversation."


class MessageEmpty(DomainError):
    code = "message_empty"
    detail = "The message body must not be empty."


class MessageTooLong(DomainError):
    code = "message_too_long"
    detail = "The message body is too long."


class ConversationClosed(Conflict):
    code = "conversation_closed"
    detail = "This conversation is closed; open a new one."


class ConversationAlreadyClosed(InvalidTransition):
    code = "conversation_already_closed"
    detail = "This conversation is already closed."


class InvalidAgent(DomainError):
    code = "invalid_agent"
    detail = "Conversations can only be assigned to active staff members."


class UnknownProduct(DomainError):
    code = "unknown_product"
    detail = "No active product has this slug."


class UnknownOrder(DomainError):
    code = "unknown_order"
    detail = "No such order among yours."
