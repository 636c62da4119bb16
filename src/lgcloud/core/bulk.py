"""Plain multi-row INSERTs for batches (executemany), in the caller's transaction.

At a million rows the ORM's ``bulk_create`` spends most of a batch compiling SQL (about 4 µs per
field per row, measured in bench/README.md). Batches that write plain values (str, int, None,
JSON already dumped, datetimes adapted with :func:`adapt_datetime`) use this instead: the same
table, columns and constraints, and nothing the model's ``save()`` would add.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Model


def insert_rows(model: type[Model], columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    quote = connection.ops.quote_name
    # Identifiers come from the caller's model metadata and constant column names; values are bound.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(model._meta.db_table), ", ".join(quote(c) for c in columns), ", ".join(["%s"] * len(columns))
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def adapt_datetime(value: datetime) -> Any:
    """A timezone-aware datetime as the database driver takes it."""
    return connection.ops.adapt_datetimefield_value(value)
