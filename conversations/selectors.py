"""Reads: every query the app makes about conversations, personas and messages."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from .models import Conversation, Message, Persona

BRANCH_SQL = """
WITH RECURSIVE branch(id, depth) AS (
    SELECT id, 0 FROM conversations_message WHERE id = %s AND conversation_id = %s
    UNION ALL
    SELECT m.parent_id, b.depth + 1
    FROM conversations_message m JOIN branch b ON m.id = b.id
    WHERE m.parent_id IS NOT NULL
)
SELECT m.* FROM conversations_message m JOIN branch b ON m.id = b.id ORDER BY b.depth DESC
"""


def conversation_get(*, user: AbstractBaseUser, conversation_id: int) -> Conversation | None:
    """The user's conversation with this id, or None (also when it is someone else's)."""
    return (
        Conversation.objects.select_related("persona")
        .filter(owner=user, pk=conversation_id)
        .first()
    )


def conversation_list(*, user: AbstractBaseUser) -> QuerySet[Conversation]:
    """The user's conversations, most recently active first."""
    return Conversation.objects.filter(owner=user).only("id", "title", "updated_at")


def persona_get(*, user: AbstractBaseUser, persona_id: int) -> Persona | None:
    """A persona the user may use (shared or their own), or None."""
    return Persona.objects.filter(Q(owner__isnull=True) | Q(owner=user), pk=persona_id).first()


def persona_list(*, user: AbstractBaseUser) -> QuerySet[Persona]:
    """Every persona the user may use: shared ones and their own."""
    return Persona.objects.filter(Q(owner__isnull=True) | Q(owner=user))


def message_branch(*, conversation: Conversation, leaf_id: int | None = None) -> list[Message]:
    """The messages from the root down to `leaf_id` (default: the active leaf), in one query."""
    leaf_id = leaf_id or conversation.current_leaf_id
    if leaf_id is None:
        return []
    return list(Message.objects.raw(BRANCH_SQL, [leaf_id, conversation.pk]))


def message_get_by_client_id(*, conversation: Conversation, client_id: str) -> Message | None:
    """The message this client already sent with this id, if any."""
    return Message.objects.filter(conversation=conversation, client_id=client_id).first()


def message_get_root_by_client_id(*, user: AbstractBaseUser, client_id: str) -> Message | None:
    """The first message of a conversation the client created with this id, if any."""
    return (
        Message.objects.select_related("conversation")
        .filter(conversation__owner=user, client_id=client_id, parent__isnull=True)
        .first()
    )


def wire_message(message: Message) -> dict | None:
    """A saved message as the completions API takes it, or None when it says nothing.

    Reasoning is never sent back: only `content`, and tool calls and results.
    """
    if message.role == Message.Role.TOOL:
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if message.role == Message.Role.ASSISTANT:
        if message.tool_calls:
            return {
                "role": "assistant",
                "content": message.content,
                "tool_calls": [
                    {
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["name"], "arguments": call["arguments"]},
                    }
                    for call in message.tool_calls
                ],
            }
        if not message.content:
            return None  # A reply that failed before its first token says nothing.
    return {"role": message.role, "content": message.content}


def system_message(persona: Persona | None) -> dict | None:
    """The persona's system prompt as the first message, if it has one."""
    if persona and persona.system_prompt.strip():
        return {"role": "system", "content": persona.system_prompt}
    return None


def upstream_messages(*, persona: Persona | None, branch: list[Message]) -> list[dict]:
    """The whole message list for a branch: system prompt, then every message that says something."""
    system = system_message(persona)
    wired = [w for w in (wire_message(m) for m in branch) if w is not None]
    return ([system] if system else []) + wired


def conversation_export(*, conversation: Conversation) -> dict:
    """The export.json document: what the next turn would send, plus identity."""
    persona = conversation.persona
    return {
        "id": conversation.pk,
        "title": conversation.title,
        "model": conversation.model,
        "persona": {"id": persona.pk, "name": persona.name} if persona else None,
        "messages": upstream_messages(
            persona=persona, branch=message_branch(conversation=conversation)
        ),
    }
