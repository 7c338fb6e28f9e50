"""The statements of a running turn, each built once per process.

A turn's start is one transaction on the path to the first token (turns/starts.py),
and every streaming reply is saved each second and once more at its end. Built by the
ORM, these statements took several times longer to compile than the database took to
run them: about 2.6 ms of Python against 0.3 ms in SQLite for a new conversation's
start. Here each is written once and only its values change. Everything else (reads
for pages, admin, exports) stays with the ORM.
"""

import contextlib
import functools
import threading
from collections.abc import Hashable, Iterator
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

from ..limits.models import TurnAllowance
from ..models import Conversation, Message
from ..personas.models import Persona
from ..projects.models import Project


def _db():
    # The connection itself, not django.db.connection's proxy: fewer lookups per value.
    return connections[DEFAULT_DB_ALIAS]


def _table(model: type[Model]) -> str:
    return _db().ops.quote_name(model._meta.db_table)


# ---- reads sent early -------------------------------------------------------------------
#
# In a PostgreSQL pipeline a statement goes out at once and its answer is waited for only
# when it is read. A batch of turn starts (group_commit) sends every start's reads first,
# then runs the starts: each finds its answers there, and the batch waits on the database
# about once, not twice a start. A wait costs more than its round trip: the database
# thread then needs the interpreter lock back, which a busy event loop holds up to the
# switch interval (1 ms). A batch of 40 starts, alone: 56 ms before, 31 ms after; beside
# a thread running Python without pause: 207 ms before, 119 ms after.

_early = threading.local()


@contextlib.contextmanager
def early_reads() -> Iterator[None]:
    """Within this block, reads sent with `send_early` are kept for the code that reads
    them; what nobody read is dropped at its end."""
    _early.cursors = {}
    try:
        yield
    finally:
        cursors, _early.cursors = _early.cursors, None
        for cursor in cursors.values():
            cursor.close()


def send_early(key: Hashable, sql: str, params: list) -> None:
    """Send a read now, for `read(key, …)` to take later (only inside `early_reads`)."""
    cursors = getattr(_early, "cursors", None)
    if cursors is None or key in cursors:
        return
    cursor = _db().cursor()
    cursor.execute(sql, params)
    cursors[key] = cursor


def read(key: Hashable, sql: str, params: list):
    """A cursor with the answer to `sql`: the one sent early under `key`, or sent now."""
    cursors = getattr(_early, "cursors", None)
    cursor = cursors.pop(key, None) if cursors and key is not None else None
    if cursor is None:
        cursor = _db().cursor()
        cursor.execute(sql, params)
    return cursor


@functools.cache
def _insert_plan(model: type[Model]) -> tuple[str, list]:
    fields = [f for f in model._meta.local_concrete_fields if not f.primary_key]
    quote = _db().ops.quote_name
    sql = (
        f"INSERT INTO {_table(model)} ({', '.join(quote(f.column) for f in fields)})"  # noqa: S608
        f" VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(model._meta.pk.column)}"
    )
    return sql, fields


@functools.cache
def _insert_with_id_plan(model: type[Model]) -> tuple[str, list]:
    fields = list(model._meta.local_concrete_fields)
    quote = _db().ops.quote_name
    sql = (
        f"INSERT INTO {_table(model)} ({', '.join(quote(f.column) for f in fields)})"  # noqa: S608
        f" VALUES ({', '.join(['%s'] * len(fields))})"
    )
    return sql, fields


def insert(obj: Model, ids: "NewIds | None" = None) -> None:
    """Save a new instance as `save()` would write it (defaults, auto_now_add), without
    building the query each time: with an id from `ids` when it has one for the model
    (nothing to read back), else with one INSERT … RETURNING its id."""
    pk = ids.take(type(obj)) if ids is not None else None
    if pk is not None:
        obj.pk = pk
    sql, fields = (_insert_plan if pk is None else _insert_with_id_plan)(type(obj))
    connection = _db()
    values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if pk is None:
            obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = connection.alias


@functools.cache
def _ids_sql(conversations: int, messages: int) -> str:
    def next_id(model: type[Model]) -> str:
        table, column = model._meta.db_table, model._meta.pk.column
        return f"nextval(pg_get_serial_sequence('{table}', '{column}'))"

    return "SELECT " + ", ".join(
        [next_id(Conversation)] * conversations + [next_id(Message)] * messages
    )


def _ids_key(key: Hashable, conversations: int, messages: int) -> tuple:
    # The counts too: an answer with another number of ids is never taken for this one.
    return ("ids", key, conversations, messages)


class NewIds:
    """Ids for the rows a turn's start will insert, asked for up front.

    On PostgreSQL they come from the tables' sequences, in a statement whose answer is
    read only at the first insert (in a batch, sent early with the start's other reads),
    so the inserts have nothing to read back and travel with the next statement that is
    read. Elsewhere (SQLite) there are none, and each insert returns its id.
    """

    def __init__(self, *, conversations: int = 0, messages: int = 0, key: Hashable = None) -> None:
        self._counts = (conversations, messages)
        self._cursor = None
        self._ids: dict[type[Model], list[int]] | None = None
        if _db().vendor == "postgresql" and (conversations or messages):
            early = _ids_key(key, conversations, messages) if key is not None else None
            self._cursor = read(early, _ids_sql(conversations, messages), [])

    @staticmethod
    def send_early(*, conversations: int = 0, messages: int = 0, key: Hashable) -> None:
        """Ask for the ids of the NewIds made later with the same arguments (early_reads)."""
        if _db().vendor == "postgresql" and (conversations or messages):
            send_early(
                _ids_key(key, conversations, messages), _ids_sql(conversations, messages), []
            )

    def take(self, model: type[Model]) -> int | None:
        """The next id for a row of `model`, or None (the insert returns one)."""
        if self._cursor is None and self._ids is None:
            return None
        if self._ids is None:
            row = list(self._cursor.fetchone())
            self._cursor.close()
            self._cursor = None
            conversations = self._counts[0]
            self._ids = {Conversation: row[:conversations], Message: row[conversations:]}
        left = self._ids.get(model)
        return left.pop(0) if left else None


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
    with contextlib.closing(read(*_root_read(user_id, client_id))) as cursor:
        row = cursor.fetchone()
    return row[0] if row else None


# Each read sent early is written once, key and all, for both who sends it and who reads
# it: a key that differed between the two would lose the early answer without a sound.
def _root_read(user_id: int, client_id: str) -> tuple[Hashable, str, list]:
    return ("root", user_id, client_id), _root_sql(), [client_id, user_id]


def root_id_send_early(*, user_id: int, client_id: str) -> None:
    send_early(*_root_read(user_id, client_id))


@functools.cache
def _conversation_sql() -> str:
    return f"SELECT * FROM {_table(Conversation)} WHERE id = %s AND owner_id = %s"  # noqa: S608


def conversation_get(*, user_id: int, conversation_id: int) -> Conversation | None:
    """The user's conversation with this id (its persona loaded), or None."""
    key, sql, params = _conversation_read(user_id, conversation_id)
    found = objects(Conversation, sql, params, key=key)
    if not found:
        return None
    conversation = found[0]
    if conversation.persona_id is not None:
        conversation.persona = get(Persona, conversation.persona_id)
    if conversation.project_id is not None:  # Its instructions go with every reply.
        conversation.project = get(Project, conversation.project_id)
    return conversation


@functools.cache
def _claim_sql() -> str:
    return (
        f"UPDATE {_table(Conversation)} SET turn_owner = %s, turn_expires_at = %s"  # noqa: S608
        " WHERE id = %s AND (turn_owner = '' OR turn_expires_at < %s) RETURNING id"
    )


def claim(*, conversation_id: int, owner: str, now: datetime, expires: datetime) -> bool:
    """Take a conversation's lease unless another live one holds it; one UPDATE."""
    connection = _db()
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(), [owner, adapt(expires), conversation_id, adapt(now)])
        return cursor.fetchone() is not None


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
    found = objects(model, _get_sql(model), [pk])
    return found[0] if found else None


def _conversation_read(user_id: int, conversation_id: int) -> tuple[Hashable, str, list]:
    return (
        ("conversation", user_id, conversation_id),
        _conversation_sql(),
        [conversation_id, user_id],
    )


def conversation_send_early(*, user_id: int, conversation_id: int) -> None:
    send_early(*_conversation_read(user_id, conversation_id))


def objects(model: type[Model], sql: str, params: list, key: Hashable = None) -> list[Model]:
    """Instances of `model` from a statement selecting its columns, as `raw()` makes them.

    Unlike `raw()`, which reads the columns' names before any row, this reads the rows
    first: inside a pipeline (group_commit) a statement's columns are known only once its
    answer has come."""
    connection = _db()
    with contextlib.closing(read(key, sql, params)) as cursor:
        rows = cursor.fetchall()
        columns = tuple(column[0] for column in cursor.description)
    build = _builder(model, columns)
    return [build(row, connection) for row in rows]


@functools.cache
def _builder(model: type[Model], columns: tuple[str, ...]):
    connection = _db()
    by_column = {f.column: f for f in model._meta.concrete_fields}
    # Values in the model's field order, as `from_db` takes them; other columns are left out.
    order = sorted(
        (i for i, name in enumerate(columns) if name in by_column),
        key=lambda i: model._meta.concrete_fields.index(by_column[columns[i]]),
    )
    fields = [by_column[columns[i]] for i in order]
    names = [f.attname for f in fields]
    converters = []
    for position, f in enumerate(fields):
        column = f.get_col(model._meta.db_table)
        for convert in connection.ops.get_db_converters(column) + column.get_db_converters(
            connection
        ):
            converters.append((position, convert, column))

    def build(row, connection) -> Model:
        values = [row[i] for i in order]
        for position, convert, column in converters:
            values[position] = convert(values[position], column, connection)
        return model.from_db(connection.alias, names, values)

    return build


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
