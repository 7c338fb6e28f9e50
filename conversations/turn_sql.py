"""The statements of a running turn, each built once per process.

A turn's start is one transaction on the path to the first token (turn_services.py),
and every streaming reply is saved each second and once more at its end. Built by the
ORM, these statements took several times longer to compile than the database took to
run them: about 2.6 ms of Python against 0.3 ms in SQLite for a new conversation's
start. Here each is written once and only its values change. Everything else (reads
for pages, admin, exports) stays with the ORM.
"""

import functools
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

from .models import Conversation, Message, Persona, TurnAllowance


def _db():
    # The connection itself, not django.db.connection's proxy: fewer lookups per value.
    return connections[DEFAULT_DB_ALIAS]


def _table(model: type[Model]) -> str:
    return _db().ops.quote_name(model._meta.db_table)


@functools.cache
def _insert_plan(model: type[Model]) -> tuple[str, list]:
    fields = [f for f in model._meta.local_concrete_fields if not f.primary_key]
    quote = _db().ops.quote_name
    sql = (
        f"INSERT INTO {_table(model)} ({', '.join(quote(f.column) for f in fields)})"  # noqa: S608
        f" VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(model._meta.pk.column)}"
    )
    return sql, fields


def insert(obj: Model) -> None:
    """Save a new instance with one INSERT … RETURNING its id, as `save()` would write it
    (defaults, auto_now_add), without building the query each time."""
    sql, fields = _insert_plan(type(obj))
    connection = _db()
    values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = connection.alias


@functools.cache
def _root_sql() -> str:
    m, c = _table(Message), _table(Conversation)
    return (
        f"SELECT m.id FROM {m} m JOIN {c} c ON c.id = m.conversation_id"  # noqa: S608
        " WHERE m.client_id = %s AND m.parent_id IS NULL AND c.owner_id = %s LIMIT 1"
    )


def root_id_by_client_id(*, user_id: int, client_id: str) -> int | None:
    """The id of the first message of the user's conversation the client created with this
    id (a first message sent again), or None."""
    with _db().cursor() as cursor:
        cursor.execute(_root_sql(), [client_id, user_id])
        row = cursor.fetchone()
    return row[0] if row else None


@functools.cache
def _conversation_sql() -> str:
    return f"SELECT * FROM {_table(Conversation)} WHERE id = %s AND owner_id = %s"  # noqa: S608


def conversation_get(*, user_id: int, conversation_id: int) -> Conversation | None:
    """The user's conversation with this id (its persona loaded), or None."""
    found = list(Conversation.objects.raw(_conversation_sql(), [conversation_id, user_id]))
    if not found:
        return None
    conversation = found[0]
    if conversation.persona_id is not None:
        conversation.persona = get(Persona, conversation.persona_id)
    return conversation


@functools.cache
def _claim_sql() -> str:
    return (
        f"UPDATE {_table(Conversation)} SET turn_owner = %s, turn_expires_at = %s"  # noqa: S608
        " WHERE id = %s AND (turn_owner = '' OR turn_expires_at < %s)"
    )


def claim(*, conversation_id: int, owner: str, now: datetime, expires: datetime) -> bool:
    """Take a conversation's lease unless another live one holds it; one UPDATE."""
    connection = _db()
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(), [owner, adapt(expires), conversation_id, adapt(now)])
        return cursor.rowcount == 1


@functools.cache
def _allowance_insert_sql() -> str:
    return (
        f"INSERT INTO {_table(TurnAllowance)} (user_id, turns_tat)"  # noqa: S608
        " VALUES (%s, NULL) ON CONFLICT DO NOTHING"
    )


def allowance_create(*, user_id: int) -> None:
    """The user's allowance row, if they have none yet."""
    with _db().cursor() as cursor:
        cursor.execute(_allowance_insert_sql(), [user_id])


@functools.cache
def _update_plan(model: type[Model], names: tuple[str, ...]) -> tuple[str, list]:
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    quote = _db().ops.quote_name
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {_table(model)} SET {sets} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
    return sql, fields


def update(model: type[Model], pk: int, values: dict) -> int:
    """Set some fields of one row, as `QuerySet.update` would; the rows changed (0 or 1)."""
    sql, fields = _update_plan(model, tuple(values))
    connection = _db()
    params = [
        f.get_db_prep_save(v, connection) for f, v in zip(fields, values.values(), strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, pk])
        return cursor.rowcount


@functools.cache
def _get_sql(model: type[Model]) -> str:
    pk = _db().ops.quote_name(model._meta.pk.column)
    return f"SELECT * FROM {_table(model)} WHERE {pk} = %s"  # noqa: S608


def get(model: type[Model], pk: int) -> Model | None:
    """One row by its id, or None."""
    found = list(model.objects.raw(_get_sql(model), [pk]))
    return found[0] if found else None


@functools.cache
def _release_by_message_sql() -> str:
    return (
        f"UPDATE {_table(Conversation)} SET turn_owner = '', turn_expires_at = NULL"  # noqa: S608
        f" WHERE id = (SELECT conversation_id FROM {_table(Message)} WHERE id = %s)"
        " AND turn_owner = %s"
    )


def release_by_message(*, message_id: int, owner: str) -> None:
    """Give up the lease `owner` holds on the conversation of a message."""
    with _db().cursor() as cursor:
        cursor.execute(_release_by_message_sql(), [message_id, owner])
