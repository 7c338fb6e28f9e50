"""Writes: every change the app makes to conversations, personas, messages and users."""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from .accounts import signup as accounts
from .llm import ToolCall
from .models import (
    Conversation,
    Invite,
    Message,
    ModelInfo,
    Persona,
    SetupToken,
    invite_expiry,
)
from .provider import availability, catalog
from .review import services as review

if TYPE_CHECKING:
    from .portability.schema import NewConversation, NewMessage

TITLE_CHARS = 60


def title_from_text(text: str) -> str:
    """A first title from the opening message: its first line, shortened on a word.

    Made of its first few hundred characters (past its leading space), never all of it.
    """
    line = " ".join(text.lstrip()[: TITLE_CHARS * 8].split())
    if len(line) <= TITLE_CHARS:
        return line or "New chat"
    return line[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


class SignupRefused(Exception):
    """A sign-up the site's rules do not allow; the message says why, fit to show."""


def user_create(
    *, username: str, password: str, token: str = "", trusted_local: bool = False
) -> AbstractBaseUser:
    """Create an account as the sign-up rules allow, or raise SignupRefused.

    The first account becomes a superuser: on a laptop (`trusted_local`) freely, anywhere
    else only with the setup token. After it, CHAT_SIGNUP decides: open, closed, or `invite`
    (`token` must be an open invite code, used up here). Tokens and codes are used up in
    the same transaction as the account, so two sign-ups can never share one.
    """
    User = get_user_model()
    with transaction.atomic():
        if not User.objects.exists():
            if not (trusted_local or setup_token_consume(token)):
                raise SignupRefused(
                    "That setup token is not valid: it may have been used, expired, or been "
                    "replaced by a newer one."
                )
            return User.objects.create_superuser(username=username, password=password)
        if settings.CHAT_SIGNUP == "closed":
            raise SignupRefused("Sign-up is closed on this site.")
        user = User.objects.create_user(username=username, password=password)
        if settings.CHAT_SIGNUP == "invite" and not _invite_consume(token, user):
            # Raising inside the transaction takes the new account back out.
            raise SignupRefused("That invite code is not valid: it may have been used or expired.")
        return user


def setup_token_issue() -> str:
    """A new one-time token for the first account; any earlier one stops working."""
    token = accounts.new_secret()
    with transaction.atomic():
        SetupToken.objects.all().delete()
        SetupToken.objects.create(
            token_hash=accounts.secret_hash(token),
            expires_at=timezone.now() + accounts.SETUP_TOKEN_TTL,
        )
    return token


def setup_token_consume(token: str) -> bool:
    """Use up the setup token; whether it was the current, unexpired one."""
    if not token:
        return False
    # A delete is atomic: of two sign-ups racing with the same token, one deletes it.
    deleted, _ = SetupToken.objects.filter(
        token_hash=accounts.secret_hash(token), expires_at__gt=timezone.now()
    ).delete()
    return deleted > 0


def invite_create(
    *,
    created_by: AbstractBaseUser | None,
    note: str = "",
    expires_at: datetime | None = None,
) -> tuple[Invite, str]:
    """A single-use sign-up invite; returns it and its code, which is not stored."""
    code = accounts.new_secret()
    invite = Invite.objects.create(
        code_hash=accounts.secret_hash(code),
        note=note,
        created_by=created_by,
        expires_at=expires_at or invite_expiry(),
    )
    return invite, code


def _invite_consume(code: str, user: AbstractBaseUser) -> bool:
    if not code:
        return False
    used = Invite.objects.filter(
        code_hash=accounts.secret_hash(code), used_at__isnull=True, expires_at__gt=timezone.now()
    ).update(used_at=timezone.now(), used_by=user)
    return used == 1


def conversation_create(
    *, owner: AbstractBaseUser, persona: Persona | None, model: str, title: str = ""
) -> Conversation:
    """Start a conversation."""
    return Conversation.objects.create(owner=owner, persona=persona, model=model, title=title)


# The settings a user may give one conversation, over its persona's.
PARAMETER_FIELDS = ("temperature", "top_p", "max_tokens", "system_prompt")


@dataclass(frozen=True)
class SettingsChange:
    """What a frame changes of a conversation's settings: only the fields named in `given`.

    A given `None` (or `""` for `model` and `system_prompt`) clears the user's own choice,
    so the persona's (else the default) applies again.
    """

    given: frozenset[str] = frozenset()
    persona: int | None = None
    model: str = ""
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    system_prompt: str = ""

    @property
    def chosen_model(self) -> str:
        """The model this change picks, "" when it picks none (or clears the choice)."""
        return self.model if "model" in self.given else ""


def conversation_apply_settings(
    *, conversation: Conversation, change: SettingsChange, persona: Persona | None
) -> list[str]:
    """Apply a change to a conversation in memory (the caller saves); return what changed.

    `persona` is the persona `change.persona` names, already checked as the user's to use.
    A conversation given a different persona follows that persona's model from then on,
    unless the same change also chooses a model: choosing a persona chooses its model.
    """
    changed: list[str] = []
    if "persona" in change.given and (persona.pk if persona else None) != conversation.persona_id:
        conversation.persona = persona
        changed.append("persona")
        if "model" not in change.given and conversation.model:
            conversation.model = ""
            changed.append("model")
    if "model" in change.given and change.model != conversation.model:
        conversation.model = change.model
        changed.append("model")
    for name in PARAMETER_FIELDS:
        if name in change.given and getattr(change, name) != getattr(conversation, name):
            setattr(conversation, name, getattr(change, name))
            changed.append(name)
    return changed


def conversation_update_settings(
    *, conversation: Conversation, change: SettingsChange, persona: Persona | None
) -> list[str]:
    """Change a conversation's persona, model or parameters from its next reply on."""
    changed = conversation_apply_settings(conversation=conversation, change=change, persona=persona)
    if changed:
        conversation.save(update_fields=changed)
    return changed


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

    The same save as a turn's own (turn_services.reply_finish), tool calls given typed.
    """
    from .turn_services import reply_finish

    return reply_finish(
        message_id=message_id,
        # Saved in our own shape, not the wire's: {id, name, arguments}.
        tool_calls=[{"id": c.id, "name": c.name, "arguments": c.arguments} for c in tool_calls]
        if tool_calls
        else None,
        **fields,
    )


# What a persona sends upstream: changing any of these makes a new version.
PERSONA_SENT_FIELDS = (
    "system_prompt",
    "model",
    "temperature",
    "top_p",
    "max_tokens",
    "tools",
    "tool_choice",
)
PERSONA_FIELDS = ("name", "description", *PERSONA_SENT_FIELDS)


def persona_create(*, owner: AbstractBaseUser | None, name: str, **fields) -> Persona:
    """Create a persona; owner None makes it shared."""
    unknown = set(fields) - set(PERSONA_FIELDS)
    if unknown:
        raise TypeError(f"not persona fields: {sorted(unknown)}")
    return Persona.objects.create(owner=owner, name=name, **fields)


def persona_update(*, persona: Persona, **fields) -> Persona:
    """Edit a persona (staff may also change its owner); its version goes up when what it
    sends changes."""
    changed = [name for name, value in fields.items() if getattr(persona, name) != value]
    unknown = set(fields) - {*PERSONA_FIELDS, "owner"}
    if unknown:
        raise TypeError(f"not persona fields: {sorted(unknown)}")
    if not changed:
        return persona
    for name in changed:
        setattr(persona, name, fields[name])
    update = [*changed, "updated_at"]
    if set(changed) & set(PERSONA_SENT_FIELDS):
        persona.version += 1
        update.append("version")
    persona.save(update_fields=update)
    return persona


def persona_duplicate(*, persona: Persona, owner: AbstractBaseUser) -> Persona:
    """Copy a persona (shared or one's own) into a new one the user owns."""
    fields = {name: getattr(persona, name) for name in PERSONA_FIELDS if name != "name"}
    return persona_create(owner=owner, name=f"{persona.name} (copy)"[:100], **fields)


def persona_delete(*, persona: Persona) -> None:
    """Delete a persona; conversations that used it keep their history and lose the link."""
    persona.delete()


def conversation_rename(*, conversation: Conversation, title: str) -> Conversation:
    """The user's own title, which automatic titles never overwrite."""
    conversation.title = title.strip()[:200] or "Untitled"
    conversation.title_source = Conversation.TitleSource.USER
    conversation.save(update_fields=["title", "title_source"])
    return conversation


def conversation_set_title_generated(*, conversation_id: int, title: str) -> bool:
    """Store a generated title unless the user has named the conversation; say if it was stored."""
    return bool(
        Conversation.objects.filter(
            pk=conversation_id, title_source=Conversation.TitleSource.FIRST_MESSAGE
        ).update(title=title[:200], title_source=Conversation.TitleSource.GENERATED)
    )


def conversation_set_flags(
    *, conversation: Conversation, pinned: bool | None = None, archived: bool | None = None
) -> Conversation:
    """Pin or unpin, archive or unarchive."""
    if pinned is not None:
        conversation.pinned = pinned
    if archived is not None:
        conversation.archived = archived
    conversation.save(update_fields=["pinned", "archived"])
    return conversation


def conversation_delete(*, conversation: Conversation) -> None:
    """Delete a conversation and every message in it, for good."""
    with transaction.atomic():
        # The leaf points into the messages being deleted: unhook it first.
        Conversation.objects.filter(pk=conversation.pk).update(current_leaf=None)
        conversation.delete()


def conversation_switch(*, conversation: Conversation, leaf_id: int) -> Conversation:
    """Make the branch ending at `leaf_id` the one the conversation shows and continues."""
    from .selectors import message_branch

    with transaction.atomic():
        conversation.current_leaf_id = leaf_id
        conversation.save(update_fields=["current_leaf"])
        path = [m.pk for m in message_branch(conversation=conversation, leaf_id=leaf_id)]
        Message.objects.filter(pk__in=path).update(selected_at=timezone.now())
    return conversation


def models_sync(*, provider_entries: list[dict]) -> tuple[int, int]:
    """Record the provider's chat models; return (added, now unavailable). Staff edits stay."""
    ids = {str(e["id"]) for e in provider_entries if catalog.is_chat_model(e)}
    existing = set(ModelInfo.objects.values_list("model_id", flat=True))
    for model_id in sorted(ids - existing):
        entry = catalog.built_in(model_id)
        ModelInfo.objects.create(
            model_id=model_id,
            display_name=entry.display_name,
            context_window=entry.context_window,
            supports_tools=entry.supports_tools,
        )
    ModelInfo.objects.filter(model_id__in=ids).update(available=True)
    gone = ModelInfo.objects.exclude(model_id__in=ids).update(available=False)
    # Updates send no signals: every process reloads the catalog once this commits.
    transaction.on_commit(availability.catalog_changed)
    return len(ids - existing), gone


def conversation_import(
    *, owner: AbstractBaseUser, conversation: "NewConversation", persona: Persona | None
) -> Conversation:
    """Save one imported conversation, checked whole beforehand, in one short transaction.

    Linear in its size, and the transaction holds little but the inserts: every message's
    row is prepared before it starts; inside, ids are taken for all of them at once, so
    parents are known as rows go in, and the rows go in as one prepared INSERT run many
    times. The search index's insert trigger sees every message.
    """
    now = timezone.now()
    messages = conversation.messages
    rows = [_message_row(new, now) for new in messages]
    with transaction.atomic():
        saved = Conversation.objects.create(
            owner=owner,
            persona=persona,
            title=conversation.title,
            model=conversation.model,
            pinned=conversation.pinned,
            archived=conversation.archived,
            title_source=Conversation.TitleSource.USER,
        )
        ids = _message_ids_take(len(rows))
        for row, new, pk in zip(rows, messages, ids, strict=True):
            row[_ID], row[_CONVERSATION] = pk, saved.pk
            row[_PARENT] = ids[new.parent] if new.parent is not None else None
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(_INSERT_MESSAGE, rows)
        if conversation.current is not None:
            leaf = ids[conversation.current]
        else:
            leaf = ids[-1] if ids else None
        # The file's dates, not today's: the sidebar files it where it belongs.
        Conversation.objects.filter(pk=saved.pk).update(
            current_leaf_id=leaf,
            created_at=conversation.created_at or saved.created_at,
            updated_at=conversation.updated_at or saved.updated_at,
            import_fingerprint=conversation.fingerprint,
        )
    saved.refresh_from_db()
    return saved


# Every column of a message, so a field added later is filled with its default here too.
_FIELDS = Message._meta.concrete_fields
_COLUMNS = [field.attname for field in _FIELDS]
_ID, _CONVERSATION, _PARENT = (
    _COLUMNS.index(name) for name in ("id", "conversation_id", "parent_id")
)
_INSERT_MESSAGE = "INSERT INTO conversations_message ({}) VALUES ({})".format(  # noqa: S608 - column names from the model
    ", ".join(field.column for field in _FIELDS), ", ".join(["%s"] * len(_FIELDS))
)


def _message_row(new: "NewMessage", now: datetime) -> list:
    """A message's column values, as the ORM would write them (id, conversation and
    parent are filled in later)."""
    stamp = new.created_at or now
    values = {"created_at": stamp, "updated_at": now, "selected_at": stamp, **new.fields}
    row = []
    for field in _FIELDS:
        value = values[field.attname] if field.attname in values else field.get_default()
        row.append(field.get_db_prep_save(value, connection))
    return row


def _message_ids_take(count: int) -> list[int]:
    """Ids for `count` new messages, inside the transaction that will insert them."""
    if not count:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('conversations_message', 'id')) "
                "FROM generate_series(1, %s)",
                [count],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: this transaction already holds the write lock (it has written the
        # conversation), so no one else can take ids until it ends; AUTOINCREMENT never
        # reuses one, so start past both the highest id and the highest ever given.
        cursor.execute(
            "SELECT max(coalesce((SELECT max(id) FROM conversations_message), 0), "
            "coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'conversations_message'), 0))"
        )
        start = cursor.fetchone()[0] + 1
        return list(range(start, start + count))
