"""Many rows of one model written in one statement, for the deadline sweep: its first run after
a long stop (or at a million escalations) writes hundreds of thousands of notices and events,
and building model instances and per-value parameters for them costs more than the database's
work."""

from __future__ import annotations

import re
from datetime import date, datetime

from django.db import connection
from django.db.models.expressions import RawSQL


def insert_rows(model, rows: list[dict], *, ignore_conflicts: bool = False) -> int:
    """Insert plain rows (column attname to value); returns how many were written, so with
    ignore_conflicts a row whose unique key is already there is not counted. Every column a
    row does not name gets the model's default, as bulk_create would give it."""
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        return _insert_portably(model, rows, ignore_conflicts=ignore_conflicts)
    columns = list(rows[0])
    fields = [model._meta.get_field(column) for column in columns]
    # Django's defaults are not the database's: a text column's is "", a nullable one's None,
    # so a column added later (a status that starts blank) would otherwise be NULL and refused.
    given = {field.attname for field in fields}
    defaults = [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.attname not in given
    ]
    quote = connection.ops.quote_name
    # One array literal per column, unnested into rows, and each default once: PostgreSQL
    # reads a literal '{...}' about as fast as COPY, where psycopg2's own ARRAY[...] for a
    # list is an expression of one parameter per value and took most of the statement's time
    # at 40,000 rows.
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    constants = "".join(f", %s::{field.db_type(connection)}" for field in defaults)
    # In the order the statement names them: the constants, then the arrays.
    values = [field.get_db_prep_save(field.get_default(), connection) for field in defaults]
    values += [_array([row[column] for row in rows]) for column in columns]
    statement = (
        f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608 (names from the model, values as parameters)
        f"({', '.join(quote(field.column) for field in fields + defaults)}) "
        f"SELECT given.*{constants} FROM unnest({arrays}) AS given"
        + (" ON CONFLICT DO NOTHING" if ignore_conflicts else "")
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, values)
        return cursor.rowcount


def among(ids: list[int]):
    """A value for `pk__in` of many ids: on PostgreSQL one array parameter, where Django
    would prepare and send each id as a parameter of its own (3 s of a sweep at 1,000,000)."""
    if connection.vendor != "postgresql":
        return ids
    return RawSQL("SELECT unnest(%s::bigint[])", [_array(ids)])


def _insert_portably(model, rows: list[dict], *, ignore_conflicts: bool) -> int:
    """SQLite (development and tests): bulk_create, counting what it wrote by the table's
    size, since it does not say which rows a conflict left out."""
    before = model.objects.count() if ignore_conflicts else 0
    model.objects.bulk_create(
        [model(**row) for row in rows], batch_size=2000, ignore_conflicts=ignore_conflicts
    )
    return model.objects.count() - before if ignore_conflicts else len(rows)


def _array(values: list) -> str:
    """A PostgreSQL array literal of these values (the cast in the statement gives the type)."""
    kinds = set(map(type, values))
    if kinds <= {int, type(None)}:  # ids, some of them absent: no quoting needed
        return "{" + ",".join(["NULL" if value is None else str(value) for value in values]) + "}"
    if kinds == {str}:
        joined = ",".join(values)
        # Keys and kinds ("12:0:overdue:5:due1796200489") need no quotes: only a comma, brace,
        # quote, backslash or space would, or an empty or NULL element.
        if (
            joined.count(",") == len(values) - 1
            and not _NEEDS_QUOTES.search(joined)
            and all(values)
            and "NULL" not in {value.upper() for value in values if len(value) == 4}
        ):
            return "{" + joined + "}"
    # A column's values repeat (one moment, one kind): each is written out once. A column
    # holds one type, so True and 1 (equal keys) never meet in it.
    said: dict = {}

    def say(value) -> str:
        text = said.get(value)
        if text is None:
            text = said[value] = _element(value)
        return text

    return "{" + ",".join([say(value) for value in values]) + "}"


_NEEDS_QUOTES = re.compile(r'[{}"\\\s]')


def _element(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | date):
        return f'"{value.isoformat()}"'
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
