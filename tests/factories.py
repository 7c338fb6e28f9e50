"""Rows for tests, made directly: messages appended and finished as a test needs them
(the app writes messages only through a turn, turns/)."""

from django.db import transaction

from conversations.llm import ToolCall
from conversations.models import Conversation, Message
from conversations.review import services as review
from conversations.turns.running import reply_finish


def message_append(
    *,
    conversation: Conversation,
    role: str,
    content: str = "",
    parent: Message | None,
    client_id: str | None = None,
    status: str = Message.Status.COMPLETE,
    model: str = "",
    request: dict | None = None,
    tool_call_id: str = "",
    tool_name: str = "",
    error: str = "",
) -> Message:
    """Add a message under `parent` and make it the conversation's active leaf."""
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation,
            parent=parent,
            role=role,
            content=content,
            client_id=client_id,
            status=status,
            model=model,
            request=request,
            tool_call_id=tool_call_id,
            tool_name=tool_name,
            error=error,
        )
        conversation.current_leaf = message
        conversation.save(update_fields=["current_leaf", "updated_at"])
    review.message_created(message, conversation)  # Dashboard counts; queues tool errors.
    return message


def message_finish(
    *, message_id: int, tool_calls: list[ToolCall] | None = None, **fields
) -> Message:
    """Record how a reply ended (for replies made outside a running turn: imports, tests).

    The same save as a turn's own (turns.running.reply_finish), tool calls given typed.
    """
    return reply_finish(
        message_id=message_id,
        tool_calls=[call.to_stored() for call in tool_calls] if tool_calls else None,
        **fields,
    )
