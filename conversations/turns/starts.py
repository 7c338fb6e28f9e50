"""Turn starts: everything a turn needs before its request goes upstream, in one call
inside one transaction (chat/group_commit.py).

A turn holds a lease on its conversation (Conversation.turn_owner / turn_expires_at):
one running turn per conversation, whichever server process it runs in. A start checks
the user's limits (limits/turn_limits.py), the turn's model (against the catalog in
memory) and that the user may use its model and persona (the access rules in memory:
access/policy.py), claims the lease, saves the user's message and the reply's
placeholder, and reads the branch; its hot statements are built once (turns/sql.py).
"""

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from .. import selectors
from ..errors import BUSY_MESSAGE, TurnRefused, not_found
from ..files import selectors as file_selectors
from ..files import services as file_services
from ..limits import turn_limits
from ..models import Conversation, Message
from ..projects import selectors as project_selectors
from ..projects.models import Project
from ..services import SettingsChange, conversation_apply_settings, title_from_text
from . import checks
from . import compare as turn_compare
from . import files as turn_files
from . import sql as turn_sql

if TYPE_CHECKING:  # Given by the caller, from the process's catalog (provider/).
    from ..provider.availability import ModelPolicy


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
    # A compare: every reply, in column order (`reply` is the first), each with its view.
    compare: "list[turn_compare.CompareStart] | None" = None


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


def turn_begin_send(
    *,
    user,
    owner: str,
    client_id: str,
    conversation_id: int | None,
    content: str,
    change: SettingsChange | None = None,
    edit_id: int | None = None,
    attachment_ids: list[str] | None = None,
    temporary: bool = False,
    models: "ModelPolicy | None" = None,
    project_id: int | None = None,
    compare: "list[turn_compare.CompareSpec] | None" = None,
    blind: bool | None = None,
) -> Begun | AlreadySent:
    """Save a user's message and its reply's placeholder, holding the conversation's lease.

    `change` (the persona, model and parameters the message carries) applies to the
    conversation from this reply on. `models` checks the model the turn takes from its
    conversation or persona (a model the send names was checked before); a message sent
    again is answered before any check. `attachment_ids`: the sender's own files the
    message carries (an edit given None keeps the edited message's). `project_id`: the
    sender's project a new conversation starts in (its defaults fill what the send leaves
    out); ignored for an existing conversation. `temporary`: a new conversation starts as a
    temporary chat (an existing one stays as it is). `compare`: the model or persona of each
    of two to four replies written at once (`blind`: hide their names until chosen; None is
    the site's default); every one counts against the user's limits.
    """
    now = timezone.now()
    turns = len(compare) if compare else 1
    change = change or SettingsChange()
    created = conversation_id is None
    project = None
    if created and project_id is not None:
        project = project_selectors.project_get(user=user, project_id=project_id)
        if project is None:
            raise not_found("project")
        change = _project_defaults(change, project)
    ids = turn_sql.NewIds(**_ids_wanted(user=user, client_id=client_id, created=created))
    persona = checks.settings_persona(
        user=user, change=change, access=models.access if models is not None else None
    )
    if created:
        started = _start_conversation(
            user=user, owner=owner, client_id=client_id, content=content, change=change,
            persona=persona, models=models, ids=ids, now=now, project=project,
            temporary=temporary, turns=turns,
        )  # fmt: skip
        if isinstance(started, AlreadySent):
            return started
        conversation, instructions = started
        parent = None
    else:
        conversation, parent = _conversation_and_parent(
            user=user, conversation_id=conversation_id, edit_id=edit_id
        )
    message = _user_message(
        conversation, parent, content=content, client_id=client_id, now=now, ids=ids,
        created=created,
    )  # fmt: skip
    if isinstance(message, AlreadySent):
        return message
    files = turn_files.files_for(user=user, ids=attachment_ids, edit_id=edit_id)
    if files:
        file_services.attachments_link(message=message, attachments=files, mark_conversation=False)
        conversation.has_files = True
    message.files = files
    changed: list[str] = []
    if not created:
        # After the duplicate check: a resend is never refused, never busy.
        changed = conversation_apply_settings(
            conversation=conversation, change=change, persona=persona
        )
        checks.turn_check(models, conversation, change, user.pk)
        if changed:  # Announced (conversation.updated, with its tags) from the event loop.
            prefetch_related_objects([conversation], "tags")
        instructions = turn_limits.admit(
            user_id=user.pk, conversation_id=conversation.pk, now=now, turns=turns
        )
        _claim(conversation, owner, now)
    compared = None
    if compare:
        placed: list[Message] = []

        def place(model: str) -> Message:  # The first takes the id asked for up front.
            placed.append(_placeholder(conversation, message, model, now, None if placed else ids))
            return placed[-1]

        compared = turn_compare.compare_start(
            user=user, conversation=conversation, prompt=message, specs=compare, blind=blind,
            models=models, now=now, placeholder=place,
        )  # fmt: skip
        reply = compared[0].reply
    else:
        reply = _placeholder(conversation, message, _model_for(conversation), now, ids)
    _set_leaf(conversation, reply, [*changed, "has_files"] if files else changed)
    branch = (
        [message]
        if created
        else selectors.message_branch(conversation=conversation, leaf_id=message.pk)
    )
    turn_files.with_files(conversation, branch, models)
    return Begun(
        conversation,
        message,
        reply,
        branch,
        created=created,
        changed=changed,
        custom_instructions=instructions,
        compare=compared,
    )


def _project_defaults(change: SettingsChange, project: Project) -> SettingsChange:
    """A new chat in a project takes the project's persona and model where the send names
    none (the page sends the project's defaults itself; other clients may leave them out)."""
    extra: dict = {}
    if "persona" not in change.given and project.default_persona_id is not None:
        extra["persona"] = project.default_persona_id
    if "model" not in change.given and project.default_model:
        extra["model"] = project.default_model
    if not extra:
        return change
    return dataclasses.replace(change, given=change.given | frozenset(extra), **extra)


def _start_conversation(
    *,
    user,
    owner,
    client_id,
    content,
    change,
    persona,
    models,
    ids,
    now,
    project=None,
    temporary=False,
    turns=1,
) -> tuple[Conversation, str] | AlreadySent:
    """A new conversation for a first message, its lease held and the user's limits checked;
    or what was saved if this first message was sent before. Returns it and the user's
    custom instructions (read with the limits)."""
    # Almost always none: a cheap id lookup first, the whole message only if found.
    if turn_sql.root_id_by_client_id(user_id=user.pk, client_id=client_id) is not None:
        existing = selectors.message_get_root_by_client_id(user=user, client_id=client_id)
        file_selectors.with_attachments([existing])  # Its frame carries its files again.
        return AlreadySent(existing.conversation, existing, created=True)
    conversation = Conversation(
        owner=user,
        title=title_from_text(content),
        temporary=temporary,
        turn_owner=owner,
        turn_expires_at=now + timedelta(seconds=lease_seconds()),
        project=project,
    )
    conversation_apply_settings(conversation=conversation, change=change, persona=persona)
    checks.turn_check(models, conversation, change, user.pk)
    instructions = turn_limits.admit(user_id=user.pk, conversation_id=None, now=now, turns=turns)
    turn_sql.insert(conversation, ids)
    return conversation, instructions


def _conversation_and_parent(
    *, user, conversation_id: int, edit_id: int | None
) -> tuple[Conversation, int | None]:
    """The user's conversation, and what the message answers: its current leaf, or for an
    edit the parent of the message it rewrites."""
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
    return conversation, parent


def _user_message(
    conversation: Conversation,
    parent: int | None,
    *,
    content: str,
    client_id: str,
    now: datetime,
    ids: turn_sql.NewIds,
    created: bool,
) -> Message | AlreadySent:
    """The user's message, saved; or, sent again (a reconnect, say), what was saved."""
    message = Message(
        conversation=conversation,
        parent_id=parent,
        role=Message.Role.USER,
        content=content,
        client_id=client_id,
        selected_at=now,
    )
    try:
        if created:  # A new conversation holds no message to clash with: no savepoint.
            turn_sql.insert(message, ids)
        else:
            with transaction.atomic():
                turn_sql.insert(message)
    except IntegrityError:
        existing = selectors.message_get_by_client_id(
            conversation=conversation, client_id=client_id
        )
        if existing is None:
            raise
        file_selectors.with_attachments([existing])
        return AlreadySent(conversation, existing, created=False)
    return message


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
    models: "ModelPolicy | None" = None,
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
    checks.turn_check(models, conversation, SettingsChange(), user.pk)
    instructions = turn_limits.admit(user_id=user.pk, conversation_id=conversation.pk, now=now)
    _claim(conversation, owner, now)
    reply = _placeholder(conversation, message.parent, _model_for(conversation), now)
    _set_leaf(conversation, reply)
    branch = selectors.message_branch(conversation=conversation, leaf_id=message.parent_id)
    turn_files.with_files(conversation, branch, models)
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
    models: "ModelPolicy | None" = None,
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
    checks.turn_check(models, conversation, SettingsChange(), user.pk)
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
    turn_files.with_files(conversation, branch, models)
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
    turn_files.with_files(conversation, branch, None)
    return Begun(conversation, None, reply, branch)


turn_begin_send.send_reads_early = _send_reads_early
