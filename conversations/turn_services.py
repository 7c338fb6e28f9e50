"""Writes for running turns: the lease, the start, progress saves, the finish and the sweep.

A turn holds a lease on its conversation (Conversation.turn_owner / turn_expires_at):
one running turn per conversation, whichever server process it runs in. Everything a
turn needs before its request goes upstream happens in `turn_begin_*`, one call inside
one transaction (see chat/group_commit.py): check the user's limits (turn_limits.py) and
the turn's model (against the catalog in memory), claim the lease, save the user's
message and the reply's placeholder, read the branch. Each function is meant to run
inside a transaction its caller opened.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from . import selectors
from .errors import BUSY_MESSAGE, TurnRefused, not_found
from .limits import turn_limits
from .llm.redact import redact
from .models import Conversation, Message, Persona
from .provider.availability import ModelPolicy
from .review import services as review
from .services import SettingsChange, conversation_apply_settings, title_from_text
from .turns import sql as turn_sql

logger = logging.getLogger(__name__)

INTERRUPTED = "The server stopped before this reply finished."


def lease_seconds() -> float:
    """How long a lease lasts without renewal."""
    return settings.CHAT_TURN_LEASE_SECONDS


@dataclass
class Begun:
    """A turn whose start is saved: its lease is held and its placeholder exists."""

    conversation: Conversation
    user_message: Message | None  # None for a regenerated reply or a tool round.
    reply: Message
    branch: list[Message]  # The messages the reply answers, root first.
    created: bool = False  # The conversation is new.
    # The reply is an earlier one, continued: `reply` holds it as it was (its text, timing,
    # usage and request record) and `branch` ends with it.
    continued: bool = False
    changed: list[str] | None = None  # The conversation's settings this message changed.
    # The owner's custom instructions, read with their limits (None: not read).
    custom_instructions: str | None = None


@dataclass
class AlreadySent:
    """This client_id was seen before: nothing new was made or started."""

    conversation: Conversation
    message: Message
    created: bool


def _claim(conversation: Conversation, owner: str, now: datetime) -> None:
    """Take the conversation's lease, or refuse as busy; one UPDATE, atomic everywhere."""
    expires = now + timedelta(seconds=lease_seconds())
    if not turn_sql.claim(conversation_id=conversation.pk, owner=owner, now=now, expires=expires):
        raise TurnRefused("busy", BUSY_MESSAGE)


def _placeholder(
    conversation: Conversation,
    parent: Message,
    model: str,
    now: datetime,
    ids: turn_sql.NewIds | None = None,
) -> Message:
    reply = Message(
        conversation=conversation,
        parent=parent,
        role=Message.Role.ASSISTANT,
        status=Message.Status.STREAMING,
        model=model,
        selected_at=now,
    )
    turn_sql.insert(reply, ids)
    return reply


def _model_for(conversation: Conversation) -> str:
    return selectors.conversation_model(conversation)[0]


def settings_persona(*, user, change: SettingsChange) -> Persona | None:
    """The persona a settings change names, checked as one the user may use."""
    if "persona" not in change.given or change.persona is None:
        return None
    persona = selectors.persona_get(user=user, persona_id=change.persona)
    if persona is None:
        raise not_found("persona")
    return persona


def _check_model(
    models: ModelPolicy | None, conversation: Conversation, change: SettingsChange
) -> None:
    """The model a turn will use must be usable; one the send chose was checked before."""
    if models is None or change.chosen_model:
        return
    model, source = selectors.conversation_model(conversation)
    models.check_inherited(model, source="persona" if source == "persona" else "conversation")


def turn_begin_send(
    *,
    user,
    owner: str,
    client_id: str,
    conversation_id: int | None,
    content: str,
    change: SettingsChange | None = None,
    edit_id: int | None = None,
    models: ModelPolicy | None = None,
) -> Begun | AlreadySent:
    """Save a user's message and its reply's placeholder, holding the conversation's lease.

    `change` (the persona, model and parameters the message carries) applies to the
    conversation from this reply on. `models` checks the model the turn takes from its
    conversation or persona (a model the send names was checked before); a message sent
    again is answered before any check.
    """
    now = timezone.now()
    change = change or SettingsChange()
    created = conversation_id is None
    ids = turn_sql.NewIds(**_ids_wanted(user=user, client_id=client_id, created=created))
    persona = settings_persona(user=user, change=change)
    if created:
        # Almost always none: a cheap id lookup first, the whole message only if found.
        if turn_sql.root_id_by_client_id(user_id=user.pk, client_id=client_id) is not None:
            existing = selectors.message_get_root_by_client_id(user=user, client_id=client_id)
            return AlreadySent(existing.conversation, existing, created=True)
        conversation = Conversation(
            owner=user,
            title=title_from_text(content),
            turn_owner=owner,
            turn_expires_at=now + timedelta(seconds=lease_seconds()),
        )
        conversation_apply_settings(conversation=conversation, change=change, persona=persona)
        _check_model(models, conversation, change)
        instructions = turn_limits.admit(user_id=user.pk, conversation_id=None, now=now)
        turn_sql.insert(conversation, ids)
        parent = None
    else:
        conversation = turn_sql.conversation_get(user_id=user.pk, conversation_id=conversation_id)
        if conversation is None:
            raise not_found("conversation")
        parent = conversation.current_leaf_id
        if edit_id is not None:
            edited = selectors.message_get(
                conversation=conversation, message_id=edit_id, role=Message.Role.USER
            )
            if edited is None:
                raise not_found("message")
            parent = edited.parent_id
    fields = {
        "conversation": conversation,
        "parent_id": parent,
        "role": Message.Role.USER,
        "content": content,
        "client_id": client_id,
        "selected_at": now,
    }
    message = Message(**fields)
    try:
        if created:  # A new conversation holds no message to clash with: no savepoint.
            turn_sql.insert(message, ids)
        else:
            with transaction.atomic():
                turn_sql.insert(message)
    except IntegrityError:
        # Sent again (a reconnect, say): answer with what was saved, start nothing.
        existing = selectors.message_get_by_client_id(
            conversation=conversation, client_id=client_id
        )
        if existing is None:
            raise
        return AlreadySent(conversation, existing, created=False)
    changed: list[str] = []
    if not created:
        # After the duplicate check: a resend is never refused, never busy.
        changed = conversation_apply_settings(
            conversation=conversation, change=change, persona=persona
        )
        _check_model(models, conversation, change)
        instructions = turn_limits.admit(user_id=user.pk, conversation_id=conversation.pk, now=now)
        _claim(conversation, owner, now)
    reply = _placeholder(conversation, message, _model_for(conversation), now, ids)
    _set_leaf(conversation, reply, changed)
    branch = (
        [message]
        if created
        else selectors.message_branch(conversation=conversation, leaf_id=message.pk)
    )
    return Begun(
        conversation,
        message,
        reply,
        branch,
        created=created,
        changed=changed,
        custom_instructions=instructions,
    )


def _ids_wanted(*, user, client_id: str, created: bool) -> dict:
    """The ids a send asks for up front: a new conversation's, its message's and its
    reply's; in an existing conversation only the reply's (the user's message returns its
    own id: its insert must answer at once, as it may be a resend)."""
    return {
        "conversations": int(created),
        "messages": 1 + int(created),
        "key": (user.pk, client_id),
    }


def _send_reads_early(*, user, client_id: str, conversation_id: int | None, **_fields) -> None:
    """turn_begin_send's reads, sent ahead of it (group_commit: a batch's go out together)."""
    created = conversation_id is None
    turn_sql.NewIds.send_early(**_ids_wanted(user=user, client_id=client_id, created=created))
    if created:
        turn_sql.root_id_send_early(user_id=user.pk, client_id=client_id)
    else:
        turn_sql.conversation_send_early(user_id=user.pk, conversation_id=conversation_id)
    turn_limits.admit_send_early(
        user_id=user.pk, conversation_id=conversation_id, now=timezone.now()
    )


turn_begin_send.send_reads_early = _send_reads_early


def _set_leaf(conversation: Conversation, leaf: Message, changed: list[str] = ()) -> None:
    """The new reply is the end of the branch the conversation shows and continues; the
    settings the message changed are saved in the same UPDATE."""
    conversation.current_leaf = leaf
    if not changed:
        turn_sql.update(
            Conversation, conversation.pk, {"current_leaf": leaf.pk, "updated_at": timezone.now()}
        )
        return
    fields = {name: getattr(conversation, name) for name in changed}
    if "persona" in fields:
        fields["persona"] = conversation.persona_id
    Conversation.objects.filter(pk=conversation.pk).update(
        current_leaf=leaf, updated_at=timezone.now(), **fields
    )


def turn_begin_regenerate(
    *,
    user,
    owner: str,
    conversation_id: int,
    message_id: int,
    models: ModelPolicy | None = None,
) -> Begun:
    """A new version of an assistant reply, beside it, holding the conversation's lease."""
    now = timezone.now()
    conversation = selectors.conversation_get(user=user, conversation_id=conversation_id)
    if conversation is None:
        raise not_found("conversation")
    message = selectors.message_get(
        conversation=conversation, message_id=message_id, role=Message.Role.ASSISTANT
    )
    if message is None or message.parent is None:
        raise not_found("reply")
    _check_model(models, conversation, SettingsChange())
    instructions = turn_limits.admit(user_id=user.pk, conversation_id=conversation.pk, now=now)
    _claim(conversation, owner, now)
    reply = _placeholder(conversation, message.parent, _model_for(conversation), now)
    _set_leaf(conversation, reply)
    branch = selectors.message_branch(conversation=conversation, leaf_id=message.parent_id)
    return Begun(conversation, None, reply, branch, custom_instructions=instructions)


CONTINUABLE = (
    Message.Status.COMPLETE,
    Message.Status.STOPPED,
    Message.Status.ERROR,
    Message.Status.INTERRUPTED,
)
NOT_CONTINUABLE = "Only the latest reply, with text and no tool calls, can be continued."


def turn_begin_continue(
    *,
    user,
    owner: str,
    conversation_id: int,
    message_id: int,
    models: ModelPolicy | None = None,
) -> Begun:
    """Write more of an assistant reply, into the same message, holding the lease.

    Only the conversation's latest message can be continued (anything after it would
    no longer follow it), and only a reply of text: one that called tools is a step.
    It is a turn like any other for the model catalog and the user's limits.
    """
    now = timezone.now()
    conversation = selectors.conversation_get(user=user, conversation_id=conversation_id)
    if conversation is None:
        raise not_found("conversation")
    reply = selectors.message_get(
        conversation=conversation, message_id=message_id, role=Message.Role.ASSISTANT
    )
    if reply is None:
        raise not_found("reply")
    _check_model(models, conversation, SettingsChange())
    instructions = turn_limits.admit(user_id=user.pk, conversation_id=conversation.pk, now=now)
    _claim(conversation, owner, now)
    if (
        reply.pk != conversation.current_leaf_id
        or reply.status not in CONTINUABLE
        or reply.tool_calls
        or not reply.content
    ):
        raise TurnRefused("bad_request", NOT_CONTINUABLE)
    Message.objects.filter(pk=reply.pk).update(
        status=Message.Status.STREAMING, error="", finish_reason="", updated_at=now
    )
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=now)
    branch = selectors.message_branch(conversation=conversation, leaf_id=reply.pk)
    return Begun(
        conversation, None, branch[-1], branch, continued=True, custom_instructions=instructions
    )


def turn_begin_round(*, conversation: Conversation, parent: Message, owner: str) -> Begun:
    """The next reply of a turn that ran tools: the lease is already this turn's."""
    now = timezone.now()
    renewed = Conversation.objects.filter(pk=conversation.pk, turn_owner=owner).update(
        turn_expires_at=now + timedelta(seconds=lease_seconds())
    )
    if not renewed:
        raise TurnRefused("busy", BUSY_MESSAGE)  # The lease was lost: stop here.
    reply = _placeholder(conversation, parent, _model_for(conversation), now)
    _set_leaf(conversation, reply)
    branch = selectors.message_branch(conversation=conversation, leaf_id=parent.pk)
    return Begun(conversation, None, reply, branch)


def turn_append(
    *,
    conversation: Conversation,
    parent: Message,
    role: str,
    content: str = "",
    status: str = Message.Status.COMPLETE,
    error: str = "",
    tool_call_id: str = "",
    tool_name: str = "",
    release_owner: str = "",
) -> Message:
    """A message a running turn adds (a tool result, a closing note), made the active leaf;
    with `release_owner`, the turn ends with it and gives up its lease."""
    message = Message.objects.create(
        conversation=conversation,
        parent=parent,
        role=role,
        content=content,
        status=status,
        error=error,
        tool_call_id=tool_call_id,
        tool_name=tool_name,
    )
    _set_leaf(conversation, message)
    if release_owner:
        turn_release(conversation_id=conversation.pk, owner=release_owner)
    review.message_created(message, conversation)  # Dashboard counts; queues tool errors.
    return message


def turn_release(*, conversation_id: int, owner: str) -> None:
    """Give up a lease this process holds."""
    Conversation.objects.filter(pk=conversation_id, turn_owner=owner).update(
        turn_owner="", turn_expires_at=None
    )


@dataclass
class Progress:
    """A streaming reply's text so far, and its request record if not yet saved."""

    message_id: int
    content: str
    reasoning: str
    request: dict | None = None


def turns_renew(*, owner: str, conversation_ids: list[int]) -> set[int]:
    """Renew this process's leases; returns the conversations whose lease is still its own."""
    leased = Conversation.objects.filter(pk__in=conversation_ids, turn_owner=owner)
    leased.update(turn_expires_at=timezone.now() + timedelta(seconds=lease_seconds()))
    return set(leased.values_list("pk", flat=True))


def turns_flush(*, progress: list[Progress]) -> set[int]:
    """Save every streaming reply's text so far; returns the replies that could not be.

    All together first; if that fails, each in a savepoint of its own, so that one reply
    that cannot be saved (whatever is wrong with it) fails alone.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            for item in progress:
                _save_progress(item, now)
        return set()
    except Exception:
        if len(progress) == 1:
            logger.exception("Saving reply %s failed", progress[0].message_id)
            return {progress[0].message_id}
    failed = set()
    for item in progress:
        try:
            with transaction.atomic():
                _save_progress(item, now)
        except Exception:
            logger.exception("Saving reply %s failed", item.message_id)
            failed.add(item.message_id)
    return failed


def _save_progress(item: Progress, now: datetime) -> None:
    fields = {"content": item.content, "reasoning": item.reasoning, "updated_at": now}
    if item.request is not None:
        fields["request"] = item.request
    turn_sql.update(Message, item.message_id, fields)


def turns_expired(*, limit: int = 500) -> list[tuple[int, str]]:
    """Conversations whose turn's lease has expired, with the process that held it."""
    return list(
        Conversation.objects.exclude(turn_owner="")
        .filter(turn_expires_at__lt=timezone.now())
        .values_list("pk", "turn_owner")[:limit]
    )


def turns_sweep(*, conversation_ids: list[int]) -> list[Message]:
    """Interrupt the replies of these conversations' turns, whose process is gone; return
    them, saved.

    Each lease is checked again, locked, in the same transaction: one renewed since it was
    found expired (its process was waiting on the database) is left alone. A reply still
    streaming with no lease at all predates leases (an upgrade): it can never finish either.
    """
    now = timezone.now()
    grace = now - timedelta(seconds=lease_seconds())
    with transaction.atomic():
        expired = list(
            Conversation.objects.select_for_update()
            .filter(pk__in=conversation_ids, turn_expires_at__lt=now)
            .exclude(turn_owner="")
            .values_list("pk", flat=True)
        )
        unfinished = Message.objects.filter(
            status__in=[Message.Status.PENDING, Message.Status.STREAMING]
        ).filter(
            Q(conversation_id__in=expired) | Q(conversation__turn_owner="", updated_at__lt=grace)
        )
        ids = list(unfinished.values_list("pk", flat=True)[:500])
        Message.objects.filter(pk__in=ids).update(
            status=Message.Status.INTERRUPTED, error=INTERRUPTED, updated_at=now
        )
        Conversation.objects.filter(pk__in=expired).update(turn_owner="", turn_expires_at=None)
    return list(Message.objects.filter(pk__in=ids))


def reply_finish(
    *,
    message_id: int,
    status: str,
    content: str,
    reasoning: str = "",
    finish_reason: str = "",
    error: str = "",
    error_detail: str = "",
    first_token_ms: int | None = None,
    duration_ms: int | None = None,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
    usage_estimated: bool = False,
    tool_calls: list[dict] | None = None,
    reasoning_ms: int | None = None,
    request: dict | None = None,
    release_owner: str = "",
    added_tokens: tuple[int | None, int | None] | None = None,
) -> Message | None:
    """Record how a reply ended, with everything it streamed; None if it was deleted.

    With `release_owner`, the turn ends here: its lease goes in the same transaction,
    so the conversation is free the moment its watchers hear of the end. A continued
    reply passes `added_tokens` (its last request's prompt and completion tokens): it is
    counted once, as a reply, and each of its requests' tokens once.
    """
    fields = {
        "tool_calls": tool_calls or None,
        "status": status,
        "content": content,
        "reasoning": reasoning,
        "finish_reason": finish_reason or "",
        # The client cleans provider errors; this also covers failures of any other kind.
        "error": redact(error, settings.LLM_API_KEY),
        "error_detail": redact(error_detail, settings.LLM_API_KEY),
        "first_token_ms": first_token_ms,
        "duration_ms": duration_ms,
        "reasoning_ms": reasoning_ms,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "usage_estimated": usage_estimated,
        "updated_at": timezone.now(),
    }
    if request is not None:
        fields["request"] = request
    updated = turn_sql.update(Message, message_id, fields)
    if release_owner:
        turn_sql.release_by_message(message_id=message_id, owner=release_owner)
    if not updated:
        return None
    message = turn_sql.get(Message, message_id)
    if added_tokens is None:
        review.reply_finished(message)  # Dashboard counts; queues failed replies for review.
    else:
        review.reply_continued(message, added_tokens=added_tokens)
    return message
