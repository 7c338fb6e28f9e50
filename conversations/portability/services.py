"""Writes for imports: a checked file's conversations saved, each in one short transaction,
its rows prepared beforehand and inserted in bulk (raw SQL: a 30,000-message chain)."""

from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from ..files.models import Attachment
from ..models import Conversation, Message
from ..personas.models import Persona
from ..projects.models import Project
from ..tags import services as tag_services

if TYPE_CHECKING:
    from .schema import NewConversation, NewMessage


def conversation_import(
    *,
    owner: AbstractBaseUser,
    conversation: "NewConversation",
    persona: Persona | None,
    files: dict[str, Attachment] | None = None,
    project: Project | None = None,
) -> Conversation:
    """Save one imported conversation, checked whole beforehand, in one short transaction.

    Linear in its size, and the transaction holds little but the inserts: every message's
    row is prepared before it starts; inside, ids are taken for all of them at once, so
    parents are known as rows go in, and the rows go in as one prepared INSERT run many
    times. The search index's insert trigger sees every message.

    Files its messages carry (`files`, stored beforehand, by the ids the messages name)
    are linked to them in the same transaction.
    """
    now = timezone.now()
    messages = conversation.messages
    rows = [_message_row(new, now) for new in messages]
    with transaction.atomic():
        saved = Conversation.objects.create(
            owner=owner,
            persona=persona,
            project=project,
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
        if files:
            _files_link(messages, ids, files)
        if conversation.tags:
            tag_services.conversation_add_imported_tags(
                conversation=saved, names_given=conversation.tags
            )
        if conversation.current is not None:
            leaf = ids[conversation.current]
        else:
            leaf = ids[-1] if ids else None
        # The file's dates, not today's: the sidebar files it where it belongs.
        Conversation.objects.filter(pk=saved.pk).update(
            current_leaf_id=leaf,
            has_files=bool(files),  # The chat's pages read files only where there are some.
            created_at=conversation.created_at or saved.created_at,
            updated_at=conversation.updated_at or saved.updated_at,
            import_fingerprint=conversation.fingerprint,
        )
    saved.refresh_from_db()
    return saved


def _files_link(messages: list["NewMessage"], ids: list[int], files: dict[str, Attachment]) -> None:
    """Each message's files, linked in one insert."""
    through = Attachment.messages.through
    through.objects.bulk_create(
        [
            through(attachment_id=files[file_id].pk, message_id=pk)
            for new, pk in zip(messages, ids, strict=True)
            for file_id in new.files
        ]
    )


# Every column of a message, so a field added later is filled with its default here too.
_FIELDS = Message._meta.concrete_fields


_COLUMNS = [field.attname for field in _FIELDS]


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


_ID, _CONVERSATION, _PARENT = (
    _COLUMNS.index(name) for name in ("id", "conversation_id", "parent_id")
)
