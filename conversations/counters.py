"""Counters kept in the database: add to a row's numbers, making the row on first use."""

from django.db import connection
from django.db.models import Model


def add(model: type[Model], keys: dict, increments: dict) -> None:
    """Add `increments` to the row of `model` that `keys` name (a unique constraint), or
    make it: one statement, no race between processes, no savepoint."""
    table = model._meta.db_table
    columns = [*keys, *increments]
    quote = connection.ops.quote_name
    # Only our own table and column names go into the text; the values are parameters.
    sql = (
        f"INSERT INTO {table} ({', '.join(map(quote, columns))}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({', '.join(map(quote, keys))}) DO UPDATE SET "
        + ", ".join(
            f"{quote(name)} = {quote(table)}.{quote(name)} + excluded.{quote(name)}"
            for name in increments
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*keys.values(), *increments.values()])
