"""The dashboard's figures, materialised by a periodic refresh and read back by dimension
(ADR 0031).

`refresh(partnership)` groups the partnership's escalations (drafts aside, as
Escalation.objects.for_partnership_figures does) by every dimension the dashboard filters on,
and replaces the partnership's FigureCount and FigureDays rows in one transaction, inside the
database (INSERT ... SELECT): a dashboard then reads a few thousand summary rows instead of
every escalation. `Materialised` answers the same questions as escalations.dashboards.queries
from those rows, for the filters they can answer exactly (`serves`); other filters are
computed from the escalations as before.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from datetime import datetime

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Trunc
from django.utils import timezone

from cases.models import Agency
from escalations import clock
from escalations.dashboards.queries import AgencyCounts, Filters, Spread, Trend
from escalations.models import (
    LIVE_STATES,
    Escalation,
    FigureCount,
    FigureDays,
    FiguresAsAt,
    StageEpisode,
    State,
)
from policies.calendar import local_zone
from policies.models import Partnership


def _prefixed(q: Q, prefix: str) -> Q:
    """The same condition about the escalation reached through prefix."""
    if not prefix:
        return q
    parts = q.children  # scoped-lookup: allowed (the parts of a Q condition, not a relation)
    return Q(
        *[_prefixed(p, prefix) if isinstance(p, Q) else (f"{prefix}{p[0]}", p[1]) for p in parts],
        _connector=q.connector,
        _negated=q.negated,
    )


def _flag(condition: Q) -> Case:
    return Case(
        When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
    )


def _month(field: str) -> Trunc:
    return Trunc(field, "month", output_field=DateField(), tzinfo=local_zone())


def _common(prefix: str, now: datetime) -> dict:
    """The dimensions every row carries, of the escalation reached through prefix ("" or
    "escalation__"), named d_<column> (an annotation may not share a model field's name)."""
    return {
        "d_partnership_id": F(f"{prefix}partnership_id"),
        "d_pathway": F(f"{prefix}pathway"),
        "d_state": F(f"{prefix}state"),
        "d_stage_number": F(f"{prefix}stage__number"),
        "d_highest_stage_number": F(f"{prefix}highest_stage_number"),
        "d_is_overdue": _flag(_prefixed(clock.overdue_condition(now), prefix)),
        "d_is_resolved": _flag(Q(**{f"{prefix}resolved_on__isnull": False})),
        "d_has_learning": _flag(~Q(**{f"{prefix}learning": ""})),
        "d_has_policy_gap": _flag(~Q(**{f"{prefix}policy_gap": ""})),
    }


# Each grain of FigureCount: the escalations it counts and the dimensions it adds.
GRAINS = {
    "all": (Q(), {}),
    "nature": (Q(natures__isnull=False), {"d_nature": F("natures__nature")}),
    "agency": (
        Q(),
        {
            "d_raising_agency_id": F("raising_agency_id"),
            "d_receiving_agency_id": F("receiving_agency_id"),
        },
    ),
    "raised": (Q(raised_on__isnull=False), {"d_raised_month": _month("raised_on")}),
    "resolved": (Q(resolved_on__isnull=False), {"d_resolved_month": _month("resolved_on")}),
}


def _insert_grouped(model, grain: str, qs: QuerySet) -> None:
    """INSERT INTO model's table the rows of qs, grouped by its d_ annotations and counted, in
    the database alone (the columns left out stay empty)."""
    names = [name for name in qs.query.annotations if name.startswith("d_")]
    grouped = qs.values(*names).annotate(d_grain=Value(grain), d_n=Count("pk"))
    query = grouped.query
    selected = [*query.extra_select, *query.values_select, *query.annotation_select]
    columns = [name.removeprefix("d_") for name in selected]
    sql, params = query.sql_with_params()
    table = connection.ops.quote_name(model._meta.db_table)
    listed = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({listed}) {sql}", params)


def refresh(partnership: Partnership, *, now: datetime | None = None) -> FiguresAsAt:
    """Replace the partnership's materialised figures with counts as at now."""
    now = now or timezone.now()
    started = time.perf_counter()
    # scoped-lookup: allowed (aggregate figures of every escalation of the partnership, as for_partnership_figures gives its roles)
    base = Escalation.objects.filter(partnership=partnership).exclude(state=State.DRAFT).order_by()
    with transaction.atomic():
        FigureCount.objects.filter(partnership=partnership).delete()
        FigureDays.objects.filter(partnership=partnership).delete()
        for grain, (which, extra) in GRAINS.items():
            rows = base.filter(which).annotate(**_common("", now), **extra)
            _insert_grouped(FigureCount, grain, rows)
        # scoped-lookup: allowed (the ended stages of the partnership's escalations, for the figures above)
        ended = (
            StageEpisode.objects.filter(
                escalation__partnership=partnership, working_days_spent__isnull=False
            )
            .exclude(escalation__state=State.DRAFT)
            .order_by()
        )
        _insert_grouped(
            FigureDays,
            "stage",
            ended.annotate(
                **_common("escalation__", now),
                d_stage_ended=F("number"),
                d_days=F("working_days_spent"),
            ),
        )
        # Working days to resolution: the sum of the stages' days (as queries.time_to_resolution).
        # scoped-lookup: allowed (correlated to the partnership's escalation being grouped)
        spent = (
            StageEpisode.objects.filter(escalation=OuterRef("pk"))
            .order_by()
            .values("escalation")
            .annotate(total=Sum("working_days_spent"))
            .values("total")
        )
        resolved = base.filter(resolved_on__isnull=False).annotate(
            total_days=Subquery(spent, output_field=IntegerField())
        )
        _insert_grouped(
            FigureDays,
            "resolution",
            resolved.filter(total_days__isnull=False).annotate(
                **_common("", now),
                d_stage_ended=Value(0, output_field=IntegerField()),
                d_days=F("total_days"),
            ),
        )
        as_at, _ = FiguresAsAt.objects.update_or_create(
            partnership=partnership,
            defaults={"as_at": now, "seconds": round(time.perf_counter() - started, 3)},
        )
    return as_at


# pg_try_advisory_lock's key for a refresh in progress.
REFRESH_LOCK = 180031


def refresh_all(*, now: datetime | None = None) -> dict[str, float]:
    """Every partnership's figures, one transaction each; seconds taken per partnership. At
    national scale a refresh may outlast beat's interval: one that finds another still running
    does nothing (PostgreSQL), rather than both doing the work twice."""
    now = now or timezone.now()
    if connection.vendor != "postgresql":
        return {p.slug: refresh(p, now=now).seconds for p in Partnership.objects.order_by("slug")}
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [REFRESH_LOCK])
        if not cursor.fetchone()[0]:
            return {}
        try:
            return {
                p.slug: refresh(p, now=now).seconds for p in Partnership.objects.order_by("slug")
            }
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [REFRESH_LOCK])


def as_at(partnership: Partnership) -> datetime | None:
    """When the partnership's figures were last refreshed (None: never)."""
    return (
        FiguresAsAt.objects.filter(partnership=partnership).values_list("as_at", flat=True).first()
    )


def serves(filters: Filters) -> bool:
    """Whether the summary rows answer these filters exactly: those on the dimensions every
    grain carries. Periods, agencies, natures and outcomes are counted from the escalations."""
    return not (
        filters.date_from
        or filters.date_to
        or filters.resolved_from
        or filters.resolved_to
        or filters.agency
        or filters.raising_agency
        or filters.receiving_agency
        or filters.nature
        or filters.outcome
    )


def _narrowed(qs: QuerySet, filters: Filters) -> QuerySet:
    """Filters.apply, restated over the dimensions every grain carries."""
    if filters.pathway:
        qs = qs.filter(pathway=filters.pathway)
    if filters.stage:
        qs = qs.filter(stage_number=filters.stage)
    if filters.highest_stage:
        qs = qs.filter(highest_stage_number=filters.highest_stage)
    if filters.reached_stage:
        qs = qs.filter(highest_stage_number__gte=filters.reached_stage)
    if filters.status:
        qs = qs.filter(STATUS[filters.status])
    if filters.learning:
        qs = qs.filter(has_learning=True)
    if filters.policy_gap:
        qs = qs.filter(has_policy_gap=True)
    return qs


STATUS = {
    "open": Q(state__in=LIVE_STATES),
    "overdue": Q(is_overdue=True),
    "resolved": Q(is_resolved=True),
    "unresolved": Q(is_resolved=False),
    "withdrawn": Q(state=State.WITHDRAWN),
}


def spread(histogram: dict[int, int]) -> Spread:
    """Count, median and 90th percentile of a histogram, interpolated as percentile_cont."""
    total = sum(histogram.values())
    if not total:
        return Spread(0, None, None)
    ordered = sorted(histogram.items())

    def nth(k: int) -> int:  # the k-th value (from 0) of the expanded, sorted list
        seen = 0
        for value, n in ordered:
            seen += n
            if k < seen:
                return value
        return ordered[-1][0]

    def at(fraction: float) -> float:
        position = fraction * (total - 1)
        low, high = math.floor(position), math.ceil(position)
        lo, hi = nth(low), nth(high)
        return lo + (hi - lo) * (position - low)

    return Spread(total, at(0.5), at(0.9))


COLUMNS = (
    "grain",
    "state",
    "stage_number",
    "highest_stage_number",
    "pathway",
    "is_overdue",
    "is_resolved",
    "has_learning",
    "has_policy_gap",
    "nature",
    "raising_agency_id",
    "receiving_agency_id",
    "raised_month",
    "resolved_month",
    "n",
)


class Materialised:
    """The dashboard's figures for one partnership and set of filters, from its summary rows:
    two queries (a few thousand rows), added up here."""

    def __init__(self, partnership: Partnership, filters: Filters, *, known_agencies=()):
        self.partnership = partnership
        self.known_agencies = set(known_agencies)
        counts = _narrowed(FigureCount.objects.filter(partnership=partnership), filters)
        days = _narrowed(FigureDays.objects.filter(partnership=partnership), filters)
        self._counts, self._days = counts.order_by(), days.order_by()
        self._rows: dict[str, list[tuple]] | None = None

    def rows(self, grain: str) -> list[tuple]:
        """The grain's rows as COLUMNS. Grain "all" as stored (the summary reads every shared
        dimension); the others added up in the database over the shared dimensions, which the
        filters have already used, so Python handles a few hundred rows, not thousands."""
        if self._rows is None:
            self._rows = defaultdict(list)
            for row in self._counts.filter(grain="all").values_list(*COLUMNS):
                self._rows["all"].append(row)
            own = ("grain", "nature", "raising_agency_id", "receiving_agency_id")
            own += ("raised_month", "resolved_month")
            grouped = self._counts.exclude(grain="all").values_list(*own).annotate(t=Sum("n"))
            for grain_, nature, raising, receiving, raised, resolved, n in grouped:
                shared = (None,) * 8  # the shared dimensions, added up
                self._rows[grain_].append(
                    (grain_, *shared, nature, raising, receiving, raised, resolved, n)
                )
        return self._rows[grain]

    def summary(self, *, stage_numbers, pathways) -> dict[str, int]:
        s: Counter = Counter()
        for _, state, stage, highest, pathway, overdue, resolved, learning, gap, *_, n in self.rows(
            "all"
        ):
            live = state in LIVE_STATES
            s["total"] += n
            s["open"] += n if live else 0
            s["overdue"] += n if overdue else 0
            s["resolved"] += n if resolved else 0
            s["withdrawn"] += n if state == State.WITHDRAWN else 0
            s["learning"] += n if learning else 0
            s["policy_gap"] += n if gap else 0
            s[f"open_at_{stage}"] += n if live else 0
            s[f"overdue_at_{stage}"] += n if overdue else 0
            s[f"reached_{highest}"] += n
            s[f"pathway_{pathway}"] += n
        keys = ["total", "open", "overdue", "resolved", "withdrawn", "learning", "policy_gap"]
        for number in stage_numbers:
            keys += [f"open_at_{number}", f"overdue_at_{number}", f"reached_{number}"]
        keys += [f"pathway_{pathway}" for pathway in pathways]
        return {key: s[key] for key in keys}

    def by_nature(self) -> Counter:
        found: Counter = Counter()
        for row in self.rows("nature"):
            found[row[9]] += row[-1]
        return found

    def by_agency(self) -> AgencyCounts:
        result = AgencyCounts()
        for row in self.rows("agency"):
            raising, receiving, n = row[10], row[11], row[-1]
            result.raised[raising] += n
            result.received[receiving] += n
            result.pairs[(raising, receiving)] += n
        unknown = (set(result.raised) | set(result.received)) - self.known_agencies
        if unknown:
            result.names = dict(Agency.objects.filter(pk__in=unknown).values_list("pk", "name"))
        return result

    def trend(self) -> Trend:
        result = Trend()
        for row in self.rows("raised"):
            result.raised[row[12]] += row[-1]
        for row in self.rows("resolved"):
            result.resolved[row[13]] += row[-1]
        return result

    def durations(self) -> tuple[dict[int, Spread], Spread]:
        """(working days per stage ended, working days to resolution), as
        queries.time_in_stage and queries.time_to_resolution."""
        found: dict[int, Counter] = defaultdict(Counter)
        totals = self._days.values_list("stage_ended", "days").annotate(t=Sum("n"))
        for stage_ended, days, n in totals:
            found[stage_ended][days] += n
        per_stage = {number: spread(h) for number, h in sorted(found.items()) if number}
        return per_stage, spread(found.get(0, {}))
