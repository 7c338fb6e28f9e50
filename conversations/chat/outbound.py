"""The websocket protocol's server frames, every one built here through its model
(frames/server.py; see docs/protocol.md) and handed on as the dict that model dumps.

The models check every field as the frame is built, the hot `message.delta` too: a
couple of microseconds a frame, built once for all its watchers, less than encoding it
for one socket takes (bench/bench_frames.py).
"""

import json

from pydantic import MISSING

from .. import selectors
from ..files import selectors as file_selectors
from ..llm import ToolCall
from ..models import Conversation, Message
from ..rendering.markdown import render_markdown
from ..tags import selectors as tag_selectors
from .frames import server


def message_model(
    message: Message,
    *,
    html_from: int = 0,
    html: str | None = None,
    siblings: list[int] | None = None,
    feedback: dict | None = MISSING,  # type: ignore[assignment]
) -> server.Message:
    """A message as every frame carries it.

    With `html_from`, `html` covers only the text from there on: the watchers of a
    streamed reply already have the HTML of its finished blocks before that point.
    With `html`, that is its HTML (nothing is rendered). A page of a conversation gives
    each message its `siblings`, and each reply the owner's `feedback` (or None).
    """
    text = message.content
    data: dict = {
        "id": message.pk,
        "parent": message.parent_id,
        "role": message.role,
        "content": text,
        "status": message.status,
        "created_at": message.created_at.isoformat() if message.created_at else None,
    }
    if message.client_id:
        data["client_id"] = message.client_id
    # A user message's files, when they were read with it (files.selectors.with_attachments).
    files = getattr(message, "files", None)
    if files:
        data["attachments"] = [file_selectors.attachment_data(a) for a in files]
    if message.role == Message.Role.TOOL:
        data |= {
            "tool_call_id": message.tool_call_id,
            "name": message.tool_name,
            "tool_record": message.tool_record,
        }
    if message.role == Message.Role.ASSISTANT:
        data |= {
            "tool_calls": message.tool_calls or [],
            "request": message.request,
            "html": render_markdown(text[html_from:]) if html is None else html,
            "reasoning": message.reasoning,
            "model": message.model,
            "finish_reason": message.finish_reason or None,
            "error": message.error or None,
            "usage": message.usage,
            "timing": {
                "first_token_ms": message.first_token_ms,
                "total_ms": message.duration_ms,
                "reasoning_ms": message.reasoning_ms,
            },
            "feedback": feedback,
        }
        if html_from:
            data["html_from"] = html_from
        if message.status == Message.Status.STREAMING:
            # Deltas follow from seq 1; `html` covers the first `stable` characters.
            data |= {"seq": 0, "stable": len(text)}
    # A compare's reply (compare/selectors.py reads what it is): while a blind compare has
    # no choice yet, nothing names its model, "What was sent" included.
    compare = getattr(message, "compare_info", None)
    if compare is not None and message.role == Message.Role.ASSISTANT:
        data["compare"] = compare
        if compare["blind"] and not compare["revealed"]:
            data |= {"model": "", "request": None}
    if siblings is not None:
        data["siblings"] = siblings
    return server.Message.model_validate(data)


def message_data(message: Message, **options) -> dict:
    """A message as frames carry it, as a dict (options: see message_model)."""
    return message_model(message, **options).model_dump()


def message_as_of(data: dict, **changes) -> dict:
    """A message of a frame already built, with some of its fields changed (and checked):
    a streaming reply as its turn's frames have shown it, say."""
    return server.Message.build(**(data | changes))


def frame_size(data: dict | server.Message) -> int:
    """Bytes a frame (or a part of one) takes on the wire."""
    return len(json.dumps(data.model_dump() if isinstance(data, server.Message) else data))


def split_frame(text: str, *, limit: int, frame_id: int) -> list[str]:
    """A frame's JSON text as `frame.part` frames of at most about `limit` bytes each.

    Websocket messages are capped (daphne's 1 MiB, which also bounds what clients send);
    a frame larger than that goes in parts the client joins before decoding. The text is
    ASCII (JSON escapes everything else), so it can be cut anywhere.
    """
    size = max(1024, limit // 2)  # Room for the escaping the parts' own JSON adds.
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    return [
        json.dumps(server.FramePart.build(id=frame_id, index=i, count=len(pieces), data=piece))
        for i, piece in enumerate(pieces)
    ]


def conversation_data(conversation: Conversation, *, tags: list[str] | None = None) -> dict:
    """A conversation's identity, persona and model, and place in the sidebar (the JSON
    endpoints' shape; frames carry the same as conversation_fields).

    `model` is the model its next reply uses; `model_chosen` says whether the user chose
    it for this conversation (else it is the persona's, or the default). `tags`: its tag
    names when known (a new conversation has none), else read (prefetched, or a query).
    """
    model, source = selectors.conversation_model(conversation)
    return {
        "id": conversation.pk,
        "title": conversation.title,
        "model": model,
        "model_chosen": source == "conversation",
        "persona": conversation.persona_id,
        "project": conversation.project_id,
        "pinned": conversation.pinned,
        "archived": conversation.archived,
        "updated_at": conversation.updated_at.isoformat() if conversation.updated_at else None,
        "tags": tag_selectors.conversation_tag_names(conversation) if tags is None else tags,
        "temporary": conversation.temporary,
    }


def conversation_params(conversation: Conversation) -> dict:
    """The conversation's own parameters over its persona's (null or "": the persona's)."""
    return {
        "temperature": conversation.temperature,
        "top_p": conversation.top_p,
        "max_tokens": conversation.max_tokens,
        "system_prompt": conversation.system_prompt,
    }


def conversation_fields(
    conversation: Conversation, *, tags: list[str] | None = None
) -> server.ConversationFields:
    """What every frame about a conversation carries: its data, with the id as
    `conversation`, and its parameters. May read its persona and its tags (unless `tags`
    are given): sync code only."""
    data = conversation_data(conversation, tags=tags)
    return server.ConversationFields(
        conversation=data.pop("id"), **data, params=conversation_params(conversation)
    )


def _about(model: type[server.ConversationFields], fields: server.ConversationFields, **more):
    return model.build(**dict(fields), **more)


def conversation_created(conversation: Conversation) -> dict:
    """A `conversation.created` frame. A conversation just made has no tags: nothing is
    read for them, so a turn's start announces it from the event loop."""
    return _about(server.ConversationCreated, conversation_fields(conversation, tags=[]))


def conversation_updated(conversation: Conversation) -> dict:
    """A `conversation.updated` frame: title, pin, archive or settings changed."""
    return _about(server.ConversationUpdated, conversation_fields(conversation))


def tags_changed(
    tags: list[dict], *, renamed: tuple[str, str] | None = None, deleted: str | None = None
) -> dict:
    """A `tags.changed` frame: the user's tags now (tags.selectors.tag_list), and the old
    and new name of one renamed, or the name of one deleted."""
    return server.TagsChanged.build(
        tags=tags,
        renamed={"old": renamed[0], "new": renamed[1]} if renamed else None,
        deleted=deleted,
    )


def conversation_deleted(conversation_id: int) -> dict:
    """A `conversation.deleted` frame."""
    return server.ConversationDeleted.build(conversation=conversation_id)


def conversation_state(
    fields: server.ConversationFields,
    messages: list[server.Message],
    *,
    has_more: bool = False,
    model_available: bool = True,
    compare: dict | None = None,
) -> dict:
    """A `conversation.state` frame: the conversation and the newest page of its branch,
    whether its model may still be used (else the next turn needs another), and the
    compare still waiting for a choice, if any."""
    return _about(
        server.ConversationState,
        fields,
        messages=messages,
        has_more=has_more,
        model_available=model_available,
        compare=compare,
    )


def compare_chosen(conversation_id: int, chosen: dict) -> dict:
    """A `compare.chosen` frame: the user's choice, and every reply's name revealed."""
    return server.CompareChosen.build(conversation=conversation_id, **chosen)


def conversation_history(
    conversation_id: int, before: int, messages: list[server.Message], *, has_more: bool
) -> dict:
    """A `conversation.history` frame: the page of the branch just above `before`."""
    return server.ConversationHistory.build(
        conversation=conversation_id, before=before, messages=messages, has_more=has_more
    )


def error(code: str, message: str, *, client_id: str | None = None, **extra) -> dict:
    """An `error` frame (`extra`: the fields some codes carry, such as `retry_after`)."""
    return server.Error.build(
        code=code, message=message, client_id=MISSING if client_id is None else client_id, **extra
    )


def message_delta(
    conversation_id: int,
    message_id: int,
    *,
    seq: int,
    content: str,
    reasoning: str = "",
    blocks: str | None = None,
    stable: int | None = None,
) -> dict:
    """A `message.delta` frame: a streaming reply's new text, and the HTML of any Markdown
    blocks that text finished (which then cover the reply's first `stable` characters)."""
    fields = {
        "conversation": conversation_id,
        "message": message_id,
        "seq": seq,
        "content": content,
    }
    if reasoning:
        fields["reasoning"] = reasoning
    if blocks is not None:
        fields |= {"blocks": blocks, "stable": stable}
    return server.MessageDelta.build(**fields)


def message_waiting(
    conversation_id: int, message_id: int, *, state: str, seconds: int, reason: str = ""
) -> dict:
    """A `message.waiting` frame: a streaming reply waits for its provider, silent for
    `seconds` so far (`waiting`), or to be tried again in `seconds` (`retrying`, with the
    provider's `reason`). The next delta ends the wait."""
    return server.MessageWaiting.build(
        conversation=conversation_id,
        message=message_id,
        state=state,
        seconds=seconds,
        reason=reason or MISSING,
    )


def message_created(conversation_id: int, message: Message) -> dict:
    """A `message.created` frame."""
    return server.MessageCreated.build(conversation=conversation_id, message=message_model(message))


def message_continued(conversation_id: int, message: Message, *, html: str, stable: int) -> dict:
    """A `message.continued` frame: a finished reply streams again, from where it stopped.

    Like a streaming reply in `message.created`: `html` is its finished Markdown blocks,
    covering the first `stable` characters of `content`; deltas follow from seq 1.
    """
    data = message_model(message, html=html).model_dump() | {"stable": stable, "seq": 0}
    return server.MessageContinued.build(conversation=conversation_id, message=data)


def message_completed(
    conversation_id: int, message: Message, *, html_from: int = 0, html: str | None = None
) -> dict:
    """A `message.completed` frame (see message_model for `html_from` and `html`)."""
    return server.MessageCompleted.build(
        conversation=conversation_id,
        message=message_model(message, html_from=html_from, html=html),
    )


def tool_call(conversation_id: int, message_id: int, call: ToolCall) -> dict:
    """A `message.tool_call` frame: the assistant message asked for a tool."""
    return server.MessageToolCall.build(
        conversation=conversation_id,
        message=message_id,
        tool_call=server.ToolCallData(**call.to_stored()),
    )


def tool_result(conversation_id: int, message: Message) -> dict:
    """A `message.tool_result` frame: a saved tool message with the result."""
    return server.MessageToolResult.build(
        conversation=conversation_id, message=message_model(message)
    )


def approval_requested(
    conversation_id: int, message_id: int, call_id: str, tool, arguments: str, *, seconds: int
) -> dict:
    """A `tool.approval_requested` frame: the turn waits for the user to allow a call."""
    return server.ToolApprovalRequested.build(
        conversation=conversation_id,
        message=message_id,
        call_id=call_id,
        name=tool.name,
        server=tool.server,
        remote_name=tool.remote_name,
        arguments=arguments,
        seconds=seconds,
    )


def approval_settled(conversation_id: int, call_id: str, answer: str) -> dict:
    """A `tool.approval_settled` frame: the call waits no more."""
    return server.ToolApprovalSettled.build(
        conversation=conversation_id, call_id=call_id, answer=answer
    )
