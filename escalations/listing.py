"""Lists of escalations that cost the same whatever an agency's history (issue 18, point 3).

A list shows one page, most urgent first, and says how many match. Counting every match, or
ordering every match to find the first twenty, grows with the agency's history: at 1,000,000
escalations a safeguarding lead's home page took two seconds. So, in one home for every list:

- **Counts stop at COUNT_CAP.** Above it the page says "more than 1,000", which is all a person
  reading a list needs; the dashboards give exact figures. Counting stops early along an index.
- **An agency's escalations are the union of two sides**, raised by it and raised with it. Asked
  with an OR, the database must gather and sort every escalation of both sides; asked side by
  side, each side is read along its own index in the list's order, and only the first
  (offset + page) of each is needed: the page is among them.
- **Pages follow by offset with one row more than shown**, so "Next" needs no count.

Each list is a `Source`: its branches (one queryset, or the two sides) and its order. Visibility
stays with the caller: every branch is already `visible_to` the reader.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BooleanField, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import HttpRequest

COUNT_CAP = 1000
PAGE_SIZE = 20

# Soonest due first (the overdue are the soonest due, flagged or not yet swept); among those
# with no deadline (resolved, closed), newest first; the id last makes the order total, so
# that a page is the same read from either side. The indexes esc_raising_urgent and
# esc_receiving_urgent hold this order; `overdue` is not in it, as the sweep's flags are in
# no index (their updates stay in place).
URGENT_FIRST = (F("due_at").asc(nulls_last=True), F("raised_on").desc(), F("id").desc())


@dataclass(frozen=True)
class Source:
    """The querysets whose union is the list, and the order it is shown in."""

    branches: tuple[QuerySet, ...]
    order: tuple = URGENT_FIRST

    @classmethod
    def of(cls, queryset: QuerySet, order=URGENT_FIRST) -> Source:
        return cls((queryset,), tuple(order))

    @classmethod
    def either_side(cls, queryset: QuerySet, agency_ids, order=URGENT_FIRST) -> Source:
        """Escalations of the queryset raised by or raised with any of the agencies."""
        ids = sorted(agency_ids)
        return cls(
            (queryset.filter(raising_agency__in=ids), queryset.filter(receiving_agency__in=ids)),
            tuple(order),
        )

    def filter(self, *args, **kwargs) -> Source:
        return Source(tuple(b.filter(*args, **kwargs) for b in self.branches), self.order)

    def first_ids(self, limit: int) -> tuple[str, list]:
        """SQL for the ids of the first `limit` of each branch, in the list's order, as one set:
        their union holds the list's first `limit`. Counts read them in order too, so that
        the database walks each side's index rather than gathering the whole agency."""
        parts, params = [], []
        for n, branch in enumerate(self.branches):
            branch = branch.order_by(*self.order)
            try:
                sql, branch_params = branch.values("id")[:limit].query.sql_with_params()
            except EmptyResultSet:  # none(), or "in" an empty set: nothing to read
                continue
            # Django compiled it; every value is a parameter.
            parts.append(f"SELECT b{n}.id FROM ({sql}) b{n}")  # noqa: S608
            params.extend(branch_params)
        if not parts:
            return "SELECT NULL AS id WHERE 1 = 0", []
        return " UNION ".join(parts), params


@dataclass(frozen=True)
class Tally:
    """How many match, up to COUNT_CAP; `capped` when there are more."""

    value: int
    capped: bool

    @classmethod
    def of(cls, counted: int) -> Tally:
        """From a count of at most COUNT_CAP + 1."""
        return cls(min(counted, COUNT_CAP), counted > COUNT_CAP)

    def __str__(self) -> str:
        return f"more than {COUNT_CAP:,}" if self.capped else f"{self.value:,}"

    def __bool__(self) -> bool:
        return self.value > 0


def tallies(sources: dict[str, Source | None]) -> dict[str, Tally]:
    """Every list's count, capped, in one query."""
    names = [name for name, source in sources.items() if source is not None]
    if not names:
        return {}
    selects, params = [], []
    for name in names:
        sql, source_params = sources[name].first_ids(COUNT_CAP + 1)
        selects.append(f"(SELECT COUNT(*) FROM ({sql}) c)")  # noqa: S608 (compiled, parameters)
        params.extend(source_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(selects), params)
        row = cursor.fetchone()
    return {name: Tally.of(value) for name, value in zip(names, row, strict=True)}


class Pages:
    """What the pagination and count templates read of a list (as Django's Paginator)."""

    def __init__(self, tally: Tally | None, size: int):
        self.tally = tally
        self.size = size

    @property
    def count(self) -> int | None:
        return None if self.tally is None or self.tally.capped else self.tally.value

    @property
    def count_words(self) -> str:
        return str(self.tally) if self.tally is not None else ""

    @property
    def num_pages(self) -> int | None:
        """Known only when the count is exact."""
        count = self.count
        return None if count is None else max(1, -(-count // self.size))


class Page:
    """One page of a list: its rows, and whether there are pages before and after."""

    def __init__(self, rows: list, number: int, has_next: bool, pages: Pages):
        self.object_list = rows
        self.number = number
        self._has_next = has_next
        self.paginator = pages

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    def has_next(self) -> bool:
        return self._has_next

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


def among(outer: QuerySet, sql: str, params: list) -> Q | RawSQL:
    """The outer queryset's rows whose id is among those the SQL reads. On PostgreSQL as an
    array the database reads first and then looks up by primary key: asked "in", it may judge
    the reader's visibility over every escalation before joining the few ids."""
    if connection.vendor != "postgresql":
        return Q(pk__in=RawSQL(sql, params))  # noqa: S611 (compiled by Django, parameters)
    quote = connection.ops.quote_name
    column = f"{quote(outer.model._meta.db_table)}.{quote('id')}"
    return RawSQL(  # noqa: S611 (compiled by Django, parameters)
        f"{column} = ANY(ARRAY({sql}))", params, output_field=BooleanField()
    )


def page_number(request: HttpRequest, param: str) -> int:
    try:
        return max(1, int(request.GET.get(param) or 1))
    except ValueError:
        return 1


def page(
    request: HttpRequest,
    source: Source,
    outer: QuerySet,
    *,
    param: str = "page",
    tally: Tally | None = None,
    size: int | None = None,
) -> Page:
    """The page asked for in `param`, rows from `outer` (the reader's visible escalations with
    what the page shows of them) restricted to the first ids of each branch. A page past a
    known end gives the last page; past an end beyond the cap, an empty page that links back."""
    size = size or PAGE_SIZE
    number = page_number(request, param)
    if tally is not None and not tally.capped:
        number = min(number, max(1, -(-tally.value // size)))
    if tally is not None and not tally:
        return Page([], 1, False, Pages(tally, size))  # counted none: nothing to read
    start = (number - 1) * size
    rows = list(
        outer.filter(among(outer, *source.first_ids(start + size + 1))).order_by(*source.order)[
            start:
        ][: size + 1]
    )
    return Page(rows[:size], number, len(rows) > size, Pages(tally, size))
