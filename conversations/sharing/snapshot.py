"""What a share link shows: the branch the owner sees, taken once, when the link is made.

Each message keeps its role and text; a reply its HTML, made by the chat page's own
renderer (rendering/markdown.py: Markdown and math, through nh3's allow-list), its tool
calls and its reasoning; a tool's result its tool's name; a user's message its files'
descriptions (never their bytes: those stay the owner's, served through the link's own
URLs while the link lasts). Never a reply's request (it holds the system prompt) nor the
instructions, unless the owner asked for them.
"""

import json

from django.conf import settings

from .. import model_input, selectors
from ..accounts import selectors as account_selectors
from ..files import selectors as file_selectors
from ..llm import ToolCall
from ..models import Conversation, Message
from ..rendering.markdown import render_markdown

VERSION = 1


class TooLarge(ValueError):
    """The branch is larger than a link may hold (CHAT_SHARE_MAX_BYTES)."""


def _file(attachment) -> dict:
    return {
        "id": attachment.pk.hex,
        "name": attachment.name,
        "kind": attachment.kind,
        "content_type": attachment.content_type,
        "size": attachment.size,
    }


def _message(message: Message, files: dict[int, list]) -> dict:
    data: dict = {
        "role": message.role,
        "content": message.content,
        "status": message.status,
        "created_at": message.created_at.isoformat() if message.created_at else None,
    }
    if message.role == Message.Role.ASSISTANT:
        data["html"] = render_markdown(message.content)
        data["model"] = message.model
        data["reasoning"] = message.reasoning
        data["tool_calls"] = [
            {"id": c.id, "name": c.name, "arguments": c.arguments}
            for c in map(ToolCall.from_stored, message.tool_calls or [])
        ]
    elif message.role == Message.Role.TOOL:
        data["tool_name"] = message.tool_name
        data["tool_call_id"] = message.tool_call_id
    if message.pk in files:
        data["files"] = [_file(a) for a in files[message.pk]]
    return data


def take(*, conversation: Conversation, include_instructions: bool) -> dict:
    """The snapshot of the conversation's active branch; TooLarge past CHAT_SHARE_MAX_BYTES.

    The branch is read in one query, and its files in one more; its size is checked as it
    grows, so a long conversation costs no more than the bound before it is refused."""
    branch = selectors.message_branch(conversation=conversation)
    files = (
        file_selectors.attachments_by_message(message_ids=[m.pk for m in branch])
        if conversation.has_files
        else {}
    )
    limit = settings.CHAT_SHARE_MAX_BYTES
    size = 0
    messages = []
    for message in branch:
        if message.role == Message.Role.SYSTEM:
            continue
        # A cheap bound first, so a huge message is not rendered only to be refused.
        size += len(message.content) + len(message.reasoning or "")
        if size > limit:
            raise TooLarge
        item = _message(message, files)
        size += len(item.get("html", ""))
        messages.append(item)
    instructions = None
    if include_instructions:
        custom = account_selectors.custom_instructions(user_id=conversation.owner_id)
        system = model_input.conversation_system_message(conversation, custom)
        instructions = system.content if system is not None else ""
    snapshot = {"version": VERSION, "messages": messages, "instructions": instructions}
    if len(json.dumps(snapshot)) > limit:
        raise TooLarge
    return snapshot


def file_ids(snapshot: dict) -> set[str]:
    """Every file the snapshot's messages carry (hex ids)."""
    return {f["id"] for m in snapshot.get("messages", ()) for f in m.get("files", ())}
