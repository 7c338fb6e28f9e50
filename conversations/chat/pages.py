"""What a socket is shown of a conversation: its newest page on opening, older pages on scrolling.

A reply still streaming is shown with the text so far, from the running turn.

A page's rows are read on the database thread, and rendered on a rendering thread
(markdown.rendered): a long reply's Markdown never holds up other sockets' database work.
"""

from dataclasses import dataclass

from channels.db import database_sync_to_async as db
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from .. import hooks, selectors
from ..compare import selectors as compare_selectors
from ..errors import TurnRefused
from ..files import selectors as file_selectors
from ..models import Conversation, Message
from ..provider import availability
from ..rendering import markdown
from . import lifecycle, outbound
from .frames import server
from .frames.process import ChatSnapshot


def owned_conversation(user: AbstractBaseUser, conversation_id: int) -> Conversation:
    """The user's conversation, or not_found (also when it is someone else's)."""
    conversation = selectors.conversation_get(user=user, conversation_id=conversation_id)
    if conversation is None:
        raise TurnRefused("not_found", "That conversation does not exist.")
    return conversation


def owned_message(conversation: Conversation, message_id: int) -> Message:
    """A message of the conversation, or not_found."""
    message = selectors.message_get(conversation=conversation, message_id=message_id)
    if message is None:
        raise TurnRefused("not_found", "That message does not exist.")
    return message


@dataclass
class PageRows:
    """What a page is made of, read from the database: rendering it needs no more."""

    branch: list[Message]
    siblings: dict[int, list[int]]
    extras: dict[str, dict[int, object]]  # What other apps show beside replies (hooks).
    has_more: bool
    # The compare still waiting for a choice, and its replies (compare_selectors.open_compare).
    compare: tuple | None = None


def page_rows(conversation: Conversation, *, leaf_id: int | None) -> PageRows:
    """The newest messages of the branch ending at `leaf_id` that may fit a page (at most
    CHAT_PAGE_SIZE, and about CHAT_PAGE_BYTES of text), with their versions and what other
    apps show beside the replies for their owner (hooks.page_extras: review's rating, the
    owner's own; four queries in all, and one more for the files of a conversation that has any)."""
    leaf_id = leaf_id or conversation.current_leaf_id
    branch, has_more = (
        selectors.newest_that_fit(
            conversation=conversation,
            leaf_id=leaf_id,
            limit=settings.CHAT_PAGE_SIZE,
            max_chars=settings.CHAT_PAGE_BYTES,
        )
        if leaf_id is not None
        else ([], False)
    )
    siblings = selectors.message_siblings(conversation=conversation, messages=branch)
    if conversation.has_files:  # One query for the user messages' files, only if any.
        file_selectors.with_attachments(branch)
    extras = hooks.extras_for_page(
        user_id=conversation.owner_id,
        message_ids=[m.pk for m in branch if m.role == Message.Role.ASSISTANT],
    )
    # A compare's replies are versions of one another: only a branch with a reply that has
    # versions can hold one, and only then are compares read (one query; one more while a
    # compare waits for a choice).
    versioned = [
        m for m in branch if m.role == Message.Role.ASSISTANT and len(siblings.get(m.pk, ())) > 1
    ]
    if versioned:
        compare_selectors.with_compare_info(versioned)
    waiting = any(
        (info := getattr(m, "compare_info", None)) and info["verdict"] is None for m in versioned
    )
    compare = compare_selectors.open_compare(branch=branch) if waiting else None
    return PageRows(branch, siblings, extras, has_more, compare)


def page_of(rows: PageRows) -> tuple[list[server.Message], bool]:
    """The page's messages as frames carry them, newest last, and whether there are more.

    No more than CHAT_PAGE_BYTES of frame (but for the newest message, whatever its
    size): a conversation of long answers opens as fast as one of short ones, and the
    rest comes page by page. Renders, never queries.
    """
    page: list[server.Message] = []
    has_more = rows.has_more
    budget = settings.CHAT_PAGE_BYTES
    for message in reversed(rows.branch):
        extras = (
            {field: values.get(message.pk) for field, values in rows.extras.items()}
            if message.role == Message.Role.ASSISTANT
            else {}
        )  # What other apps show beside a reply (hooks.page_extras): the owner's rating.
        data = outbound.message_model(message, siblings=rows.siblings[message.pk], **extras)
        budget -= outbound.frame_size(data)
        if page and budget < 0:
            has_more = True
            break
        page.append(data)
    page.reverse()
    return page, has_more


def message_page(conversation: Conversation, *, leaf_id: int | None) -> tuple[list[dict], bool]:
    """The newest page of the branch ending at `leaf_id`, with its versions (page_of), as
    frames carry it."""
    page, has_more = page_of(page_rows(conversation, leaf_id=leaf_id))
    return [message.model_dump() for message in page], has_more


async def rendered_page(rows: PageRows) -> tuple[list[server.Message], bool]:
    """page_of, on a rendering thread."""
    return await markdown.rendered(page_of, rows)


def _state_rows(
    user: AbstractBaseUser, conversation_id: int
) -> tuple[server.ConversationFields, bool, PageRows]:
    """What a `conversation.state` frame says of the conversation, whether its model may
    still be used, and the rows of its page."""
    conversation = owned_conversation(user, conversation_id)
    rows = page_rows(conversation, leaf_id=conversation.current_leaf_id)
    model = conversation.model or (conversation.persona.model if conversation.persona else "")
    available = availability.policy().usable(model or settings.LLM_DEFAULT_MODEL, user_id=user.pk)
    return outbound.conversation_fields(conversation), available, rows


def open_compare(rows: PageRows) -> dict | None:
    """The state's `compare`: the replies of a compare waiting for a choice, in column
    order. A streaming one shows its saved text with `seq: null` (its deltas cannot be
    lined up with that text) unless its turn's snapshot is applied (conversation_state)."""
    if rows.compare is None:
        return None
    group, replies = rows.compare
    shown = []
    for reply in replies:
        data = outbound.message_model(reply)
        if reply.status == Message.Status.STREAMING:
            data = outbound.message_as_of(data.model_dump(), seq=None)
        shown.append(data)
    return {"group": group.pk, "prompt": group.prompt_id, "blind": group.blind, "replies": shown}


async def state(*, user: AbstractBaseUser, conversation_id: int) -> dict:
    """A `conversation.state` frame from the database: the newest page of the active branch."""
    fields, available, rows = await db(_state_rows)(user, conversation_id)
    messages, has_more = await rendered_page(rows)
    compare = await markdown.rendered(open_compare, rows) if rows.compare else None
    return outbound.conversation_state(
        fields, messages, has_more=has_more, model_available=available, compare=compare
    )


def streaming_message(frame: dict) -> dict | None:
    """The reply still streaming in a state frame, if any."""
    return next((m for m in frame["messages"] if m["status"] == "streaming"), None)


def apply_snapshot(frame: dict, snapshot: ChatSnapshot | None, *, key: str = "messages") -> None:
    """Show a streaming reply as its turn's frames have: the text so far and its seq.

    The saved text can be up to a second old; the snapshot lines up exactly with the
    deltas that follow it (those with a higher seq). With no snapshot (its process did
    not answer) the saved text cannot be lined up with them: its seq is null.
    """
    messages = frame[key]
    for index, message in enumerate(messages):
        if snapshot is None and message["status"] == "streaming":
            messages[index] = outbound.message_as_of(message, seq=None)
        elif snapshot is not None and message["id"] == snapshot.message:
            changes = snapshot.model_dump(include={"content", "reasoning", "seq", "html", "stable"})
            if snapshot.waiting is not None:
                changes["waiting"] = snapshot.waiting
            messages[index] = outbound.message_as_of(message, **changes)


async def conversation_state(*, user: AbstractBaseUser, conversation_id: int) -> dict:
    """A `conversation.state` frame; a reply streaming in this process shows its live text."""
    frame = await state(user=user, conversation_id=conversation_id)
    turn = lifecycle.local(conversation_id)
    if turn is not None and turn.message_id is not None:
        apply_snapshot(frame, turn.snapshot())
    if turn is not None and frame.get("compare"):
        for each in turn.everyone():  # A compare's replies, live.
            if each.message_id is not None:
                apply_snapshot(frame["compare"], each.snapshot(), key="replies")
    return frame


def _history_rows(user: AbstractBaseUser, conversation_id: int, before: int) -> PageRows | None:
    conversation = owned_conversation(user, conversation_id)
    message = owned_message(conversation, before)
    return page_rows(conversation, leaf_id=message.parent_id) if message.parent_id else None


async def history(*, user: AbstractBaseUser, conversation_id: int, before: int) -> dict:
    """A `conversation.history` frame: the page of the active branch just above `before`."""
    rows = await db(_history_rows)(user, conversation_id, before)
    page, has_more = await rendered_page(rows) if rows is not None else ([], False)
    return outbound.conversation_history(conversation_id, before, page, has_more=has_more)


def in_tool_calls(state: dict) -> bool:
    """Whether the branch a state shows ends in tool calls (a reply that called tools, or
    a tool's result): only then can a call wait for the user's approval."""
    messages = state.get("messages") or []
    if not messages:
        return False
    last = messages[-1]
    return last["role"] == "tool" or bool(last.get("tool_calls"))
