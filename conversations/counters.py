"""Counters kept in the database: add to a row's numbers, making the row on first use."""

from django.db import connection
from django.db.models import Model


def add(
    model: type[Model], keys: dict, increments: dict, *, if_exists: tuple[type[Model], int] = ()
) -> int:
    """Add `increments` to the row of `model` that `keys` name (a unique constraint), or
    make it: one statement, no race between processes, no savepoint. Returns the rows
    written (0 or 1).

    With `if_exists` (a model and a primary key: the row the counter belongs to), nothing
    is written when that row is gone. A foreign key is checked only when the transaction
    commits, so a count for an account deleted meanwhile would fail its whole batch there,
    whatever savepoint it was in; this way it writes nothing instead.
    """
    table = model._meta.db_table
    columns = [*keys, *increments]
    quote = connection.ops.quote_name
    params = [*keys.values(), *increments.values()]
    # Only our own table and column names go into the text; the values are parameters.
    values = f"VALUES ({', '.join(['%s'] * len(columns))}) "
    if if_exists:
        owner, pk = if_exists
        values = (
            f"SELECT {', '.join(['%s'] * len(columns))} WHERE EXISTS "  # noqa: S608
            f"(SELECT 1 FROM {quote(owner._meta.db_table)} "
            f"WHERE {quote(owner._meta.pk.column)} = %s) "
        )
        params.append(pk)
    sql = (
        f"INSERT INTO {table} ({', '.join(map(quote, columns))}) "  # noqa: S608
        + values
        + f"ON CONFLICT ({', '.join(map(quote, keys))}) DO UPDATE SET "
        + ", ".join(
            f"{quote(name)} = {quote(table)}.{quote(name)} + excluded.{quote(name)}"
            for name in increments
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
