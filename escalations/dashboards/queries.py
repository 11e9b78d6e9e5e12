"""Figures for partnership dashboards, reports and the annual return (SPEC section 9).

Every function takes a base queryset that the caller has already scoped with
Escalation.objects.for_partnership_figures(user, partnership) and filtered; aggregation stays
in the database. Rows that name a child are marked with `shown_in_full`, computed from
visible_to(user), so a list never shows more than SPEC section 3 allows.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta

from django.db import connections
from django.db.models import (
    Aggregate,
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    DateTimeField,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncMonth

from escalations import clock, listing
from escalations.models import (
    LIVE_STATES,
    Escalation,
    EscalationNature,
    Outcome,
    StageEpisode,
    State,
)
from policies.calendar import local_zone, start_of_day
from policies.models import PARTNERSHIP_ROLES

RESOLVED = Q(resolved_on__isnull=False)


def overdue_now(now: datetime) -> Q:
    """Live and past due: the sweep's flag, or a due moment already passed before it ran (the
    one overdue rule, escalations.clock.overdue_condition)."""
    return clock.overdue_condition(now)


STATUSES = {
    "open": ("Open now", lambda now: Q(state__in=LIVE_STATES)),
    "overdue": ("Overdue now", overdue_now),
    "resolved": ("Resolved", lambda now: RESOLVED),
    "unresolved": ("Not resolved", lambda now: ~RESOLVED),
    "withdrawn": ("Withdrawn", lambda now: Q(state=State.WITHDRAWN)),
}


@dataclass(frozen=True)
class Filters:
    """What a dashboard, list, report or export is narrowed to. Each field is a query parameter."""

    date_from: date | None = None
    date_to: date | None = None
    agency: int | None = None
    raising_agency: int | None = None
    receiving_agency: int | None = None
    nature: str = ""
    pathway: str = ""
    stage: int | None = None
    highest_stage: int | None = None
    reached_stage: int | None = None
    status: str = ""
    outcome: str = ""
    learning: bool = False
    policy_gap: bool = False
    resolved_from: date | None = None
    resolved_to: date | None = None

    PARAMS = {"date_from": "from", "date_to": "to"}

    def apply(self, qs: QuerySet, *, now: datetime) -> QuerySet:
        # Periods are whole local days, compared as moments so the (partnership, raised_on)
        # index serves them.
        if self.date_from:
            qs = qs.filter(raised_on__gte=start_of_day(self.date_from))
        if self.date_to:
            qs = qs.filter(raised_on__lt=start_of_day(self.date_to + timedelta(days=1)))
        if self.resolved_from:
            qs = qs.filter(resolved_on__gte=start_of_day(self.resolved_from))
        if self.resolved_to:
            qs = qs.filter(resolved_on__lt=start_of_day(self.resolved_to + timedelta(days=1)))
        if self.agency:
            qs = qs.filter(Q(raising_agency=self.agency) | Q(receiving_agency=self.agency))
        if self.raising_agency:
            qs = qs.filter(raising_agency=self.raising_agency)
        if self.receiving_agency:
            qs = qs.filter(receiving_agency=self.receiving_agency)
        if self.nature:
            qs = qs.filter(Exists(natures_of(OuterRef("pk")).filter(nature=self.nature)))
        if self.pathway:
            qs = qs.filter(pathway=self.pathway)
        if self.stage:
            qs = qs.filter(stage__number=self.stage)
        if self.highest_stage:
            qs = qs.filter(highest_stage_number=self.highest_stage)
        if self.reached_stage:
            qs = qs.filter(highest_stage_number__gte=self.reached_stage)
        if self.status:
            qs = qs.filter(STATUSES[self.status][1](now))
        if self.outcome:
            qs = with_outcome(qs).filter(outcome_category=self.outcome)
        if self.learning:
            qs = qs.exclude(learning="")
        if self.policy_gap:
            qs = qs.exclude(policy_gap="")
        return qs

    def params(self, **changes) -> dict[str, str]:
        """Query parameters for these filters with some changed (None or "" drops one)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        params = {}
        for name, value in values.items():
            if value in (None, "", False):
                continue
            key = self.PARAMS.get(name, name)
            if isinstance(value, bool):
                value = "1"
            elif isinstance(value, date):
                value = value.isoformat()
            params[key] = str(value)
        return params

    @property
    def is_empty(self) -> bool:
        return not self.params()


def natures_of(escalation) -> QuerySet:
    # scoped-lookup: allowed (correlated to an escalation of the queryset being filtered)
    return EscalationNature.objects.filter(escalation=escalation)


def with_outcome(qs: QuerySet) -> QuerySet:
    """The category of the latest written outcome (a reopened escalation may have two)."""
    # scoped-lookup: allowed (about the rows of the queryset passed in, from for_partnership_figures)
    latest = Outcome.objects.filter(escalation=OuterRef("pk")).order_by("-recorded_at", "-id")
    return qs.annotate(outcome_category=Subquery(latest.values("category")[:1]))


def with_visibility(qs: QuerySet, user) -> QuerySet:
    """Mark the rows this user may see in full (SPEC section 3), from visible_to itself."""
    return qs.annotate(
        shown_in_full=Exists(Escalation.objects.visible_to(user).filter(pk=OuterRef("pk")))
    )


# Child fields are fetched only for rows shown in full: a redacted row never carries them.
CHILD_FIELDS = {
    "child_given_names": ("child__given_names", CharField()),
    "child_family_name": ("child__family_name", CharField()),
    "child_is_family_group": ("child__is_family_group", BooleanField()),
    "child_is_unborn": ("child__is_unborn", BooleanField()),
    "child_date_of_birth": ("child__date_of_birth", DateField()),
    "child_anonymised_on": ("child__anonymised_on", DateTimeField()),
}


class Count_(Func):
    """COUNT(*) that Django does not treat as an aggregate, so a subquery needs no GROUP BY."""

    function = "COUNT"
    template = "%(function)s(*)"
    output_field = IntegerField()


ORDER = ("-raised_on", "-id")


def list_rows(qs: QuerySet, user, *, start: int = 0, stop: int | None = None) -> QuerySet:
    """The escalations behind a figure, newest first, with child details only where allowed.

    Each row also carries `total` (how many match) from an uncorrelated subquery the database
    runs once, and its natures as text, so a page of the list is one query."""
    if stop is None:
        total = Subquery(qs.order_by().annotate(n=Count_()).values("n")[:1])
    else:
        # A page counts only up to listing.COUNT_CAP: the dashboard's figures give the exact
        # numbers, and counting a whole partnership's history grew with it (issue 18).
        sql, params = listing.Source.of(qs, ORDER).first_ids(listing.COUNT_CAP + 1)
        total = RawSQL(  # noqa: S611 (compiled by Django, parameters)
            f"SELECT COUNT(*) FROM ({sql}) c",  # noqa: S608
            params,
            output_field=IntegerField(),
        )
    if stop is not None:
        # Choose the page's rows first and work out visibility for those alone: asked over a
        # whole partnership, PostgreSQL may hash the visible set from every escalation.
        qs = qs.filter(pk__in=qs.order_by(*ORDER).values("pk")[start:stop])
    rows = with_visibility(qs, user)
    child = {
        name: Case(When(shown_in_full=True, then=F(path)), default=Value(None), output_field=out)
        for name, (path, out) in CHILD_FIELDS.items()
    }
    return (
        rows.with_nature_list()
        .annotate(**child, total=total)
        .select_related("stage", "raising_agency", "receiving_agency")
        .order_by(*ORDER)
    )


@dataclass
class RowsPage:
    """One page of a list; the count, up to listing.COUNT_CAP, comes with the rows (see
    list_rows), and one row more than shown tells whether a next page exists."""

    number: int
    size: int
    total: listing.Tally
    rows: list
    more: bool = False

    @property
    def num_pages(self) -> int | None:
        """Known only when the count is exact."""
        if self.total.capped:
            return None
        return max(1, math.ceil(self.total.value / self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.more


def page_of(qs: QuerySet, user, number: str | int | None, size: int) -> RowsPage:
    """One page of list_rows(qs, user); a number past a known end gives the last page."""
    try:
        number = max(1, int(number or 1))
    except (TypeError, ValueError):
        number = 1
    found = list(list_rows(qs, user, start=(number - 1) * size, stop=number * size + 1))
    if found:
        tally = listing.Tally.of(found[0].total)
        return RowsPage(number, size, tally, found[:size], more=len(found) > size)
    tally = listing.tallies({"list": listing.Source.of(qs, ORDER)})["list"] if number > 1 else None
    if tally and not tally.capped:
        return page_of(qs, user, math.ceil(tally.value / size), size)
    if tally:  # past the end of more than the cap: nothing here, and a way back
        return RowsPage(number, size, tally, [])
    return RowsPage(1, size, listing.Tally(0, False), [])


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont: the fraction-th value, interpolated between neighbours."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """percentile_cont in Python, for databases without it: the same interpolation."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


@dataclass(frozen=True)
class Spread:
    count: int
    median: float | None
    p90: float | None


def _has_percentile_cont(qs: QuerySet) -> bool:
    return connections[qs.db].vendor == "postgresql"


def time_in_stage(qs: QuerySet) -> dict[int, Spread]:
    """Working days spent per stage number (stored when each stage ended): median and 90th."""
    # scoped-lookup: allowed (about the rows of the queryset passed in, from for_partnership_figures)
    ended = StageEpisode.objects.filter(
        escalation__in=qs.values("pk"), working_days_spent__isnull=False
    )
    if _has_percentile_cont(qs):
        rows = (
            ended.values("number")
            .annotate(
                n=Count("id"),
                median=PercentileCont("working_days_spent", 0.5),
                p90=PercentileCont("working_days_spent", 0.9),
            )
            .order_by("number")
        )
        return {r["number"]: Spread(r["n"], r["median"], r["p90"]) for r in rows}
    by_stage: dict[int, list[int]] = defaultdict(list)
    for number, days in ended.order_by("number", "working_days_spent").values_list(
        "number", "working_days_spent"
    ):
        by_stage[number].append(days)
    return {
        number: Spread(len(days), percentile(days, 0.5), percentile(days, 0.9))
        for number, days in sorted(by_stage.items())
    }


def time_to_resolution(qs: QuerySet) -> Spread:
    """Working days from the first stage's start to resolution: the sum of the stages' days
    (working_days_between is additive over consecutive stages)."""
    # scoped-lookup: allowed (about the rows of the queryset passed in, from for_partnership_figures)
    totals = (
        StageEpisode.objects.filter(escalation__in=qs.filter(RESOLVED).values("pk"))
        .values("escalation")
        .annotate(total=Sum("working_days_spent"))
        .order_by()
    )
    if _has_percentile_cont(qs):
        row = totals.aggregate(
            n=Count("escalation"),
            median=PercentileCont("total", 0.5),
            p90=PercentileCont("total", 0.9),
        )
        return Spread(row["n"], row["median"], row["p90"])
    values = sorted(r["total"] for r in totals if r["total"] is not None)
    return Spread(len(values), percentile(values, 0.5), percentile(values, 0.9))


def summary(
    qs: QuerySet, *, now: datetime, stage_numbers: Iterable[int], pathways: Iterable[str]
) -> dict[str, int]:
    """Headline counts, open and overdue by current stage, highest stage reached and pathway,
    in one pass over the rows (conditional counts)."""
    live = Q(state__in=LIVE_STATES)
    counts = {
        "n_total": Count("pk"),
        "n_open": Count("pk", filter=live),
        "n_overdue": Count("pk", filter=overdue_now(now)),
        "n_resolved": Count("pk", filter=RESOLVED),
        "n_withdrawn": Count("pk", filter=Q(state=State.WITHDRAWN)),
        "n_learning": Count("pk", filter=~Q(learning="")),
        "n_policy_gap": Count("pk", filter=~Q(policy_gap="")),
    }
    for n in stage_numbers:
        counts[f"n_open_at_{n}"] = Count("pk", filter=live & Q(stage__number=n))
        counts[f"n_overdue_at_{n}"] = Count("pk", filter=overdue_now(now) & Q(stage__number=n))
        counts[f"n_reached_{n}"] = Count("pk", filter=Q(highest_stage_number=n))
    for pathway in pathways:
        counts[f"n_pathway_{pathway}"] = Count("pk", filter=Q(pathway=pathway))
    # Keys carry an n_ prefix: an aggregate may not share a name with a model field.
    return {key[2:]: value for key, value in qs.order_by().aggregate(**counts).items()}


@dataclass
class AgencyCounts:
    raised: Counter = field(default_factory=Counter)
    received: Counter = field(default_factory=Counter)
    names: dict[int, str] = field(default_factory=dict)
    pairs: Counter = field(default_factory=Counter)


def by_agency(qs: QuerySet) -> AgencyCounts:
    """Challenges raised and received per agency, from one grouping by (raising, receiving)."""
    result = AgencyCounts()
    rows = (
        qs.order_by()
        .values(
            "raising_agency", "raising_agency__name", "receiving_agency", "receiving_agency__name"
        )
        .annotate(n=Count("pk"))
    )
    for r in rows:
        result.raised[r["raising_agency"]] += r["n"]
        result.received[r["receiving_agency"]] += r["n"]
        result.pairs[(r["raising_agency"], r["receiving_agency"])] += r["n"]
        result.names[r["raising_agency"]] = r["raising_agency__name"]
        result.names[r["receiving_agency"]] = r["receiving_agency__name"]
    return result


def by_nature(qs: QuerySet) -> Counter:
    """Escalations per nature of difference (one escalation may have several)."""
    # scoped-lookup: allowed (about the rows of the queryset passed in, from for_partnership_figures)
    rows = (
        EscalationNature.objects.filter(escalation__in=qs.values("pk"))
        .values("nature")
        .annotate(n=Count("id"))
        .order_by()
    )
    return Counter({r["nature"]: r["n"] for r in rows})


def by_outcome(qs: QuerySet) -> Counter:
    """Escalations per category of their latest written outcome (None: no outcome yet)."""
    rows = with_outcome(qs.order_by()).values("outcome_category").annotate(n=Count("pk"))
    return Counter({r["outcome_category"]: r["n"] for r in rows})


@dataclass
class Trend:
    raised: Counter = field(default_factory=Counter)  # first of month -> count
    resolved: Counter = field(default_factory=Counter)

    def months(self) -> list[date]:
        keys = sorted(set(self.raised) | set(self.resolved))
        if not keys:
            return []
        months, month = [], keys[0]
        while month <= keys[-1]:
            months.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return months

    def quarters(self) -> list[tuple[date, int, int]]:
        """(first day of quarter, raised, resolved), every quarter in the range."""
        totals: dict[date, list[int]] = {}
        for month in self.months():
            quarter = month.replace(month=3 * ((month.month - 1) // 3) + 1)
            pair = totals.setdefault(quarter, [0, 0])
            pair[0] += self.raised[month]
            pair[1] += self.resolved[month]
        return [(q, r, s) for q, (r, s) in totals.items()]


def trend(qs: QuerySet) -> Trend:
    """Raised and resolved per local month; quarters are added up from months."""
    zone = local_zone()
    rows = (
        qs.order_by()
        .annotate(
            raised_month=TruncMonth("raised_on", tzinfo=zone),
            resolved_month=TruncMonth("resolved_on", tzinfo=zone),
        )
        .values("raised_month", "resolved_month")
        .annotate(n=Count("pk"))
    )
    result = Trend()
    for r in rows:
        if r["raised_month"]:
            result.raised[_as_date(r["raised_month"])] += r["n"]
        if r["resolved_month"]:
            result.resolved[_as_date(r["resolved_month"])] += r["n"]
    return result


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def partnership_role_ids(user) -> list[int]:
    """The partnerships in which the user holds a partnership role (business manager, chair,
    administrator)."""
    person = getattr(user, "person", None)
    if person is None:
        return []
    return [
        m.partnership_id
        for m in person.memberships.all()
        if m.partnership_id and m.role in PARTNERSHIP_ROLES
    ]


def learning_and_gaps(qs: QuerySet, user, *, limit: int | None = 10) -> list[dict]:
    """Escalations with learning or a policy gap recorded, newest first. The words are given
    only for rows the user may see in full: free text can name a child."""
    qs = qs.exclude(learning="", policy_gap="")
    if limit:
        # As in list_rows: pick the rows, then ask about visibility for those alone.
        qs = qs.filter(pk__in=qs.order_by(*ORDER).values("pk")[:limit])
    # Where the policy sends learning or gaps in policy to the partnership (Kirklees: "records
    # of any learning should be shared with the KSCP Business unit"; Berkshire: gaps "must be
    # brought to the attention of the ... Partners"), its partnership roles read the words
    # even below the partnership stages; the rest of the record stays withheld.
    mine = partnership_role_ids(user)
    rows = (
        with_visibility(qs, user)
        .annotate(
            learning_text=Case(
                When(shown_in_full=True, then=F("learning")),
                When(
                    Q(partnership_id__in=mine, partnership__learning_to_partnership=True),
                    then=F("learning"),
                ),
                default=Value(""),
                output_field=CharField(),
            ),
            policy_gap_text=Case(
                When(shown_in_full=True, then=F("policy_gap")),
                When(
                    Q(partnership_id__in=mine, partnership__policy_gaps_to_partnership=True),
                    then=F("policy_gap"),
                ),
                default=Value(""),
                output_field=CharField(),
            ),
            has_learning=~Q(learning=""),
            has_policy_gap=~Q(policy_gap=""),
            shown_reference=Case(
                When(shown_in_full=True, then=F("reference")),
                default=Value(""),
                output_field=CharField(),
            ),
        )
        .values(
            "shown_in_full",
            "shown_reference",
            "raising_agency__name",
            "receiving_agency__name",
            "learning_text",
            "policy_gap_text",
            "has_learning",
            "has_policy_gap",
            "raised_on",
        )
        .order_by(*ORDER)
    )
    return list(rows)


def outcomes_at_stages(qs: QuerySet, stage_numbers: Iterable[int]) -> dict[int, dict[str, Counter]]:
    """Per stage: latest outcome categories of escalations that ended there, by raising and by
    receiving agency (Pan-Cheshire: agencies report outcomes at steps 2 and 3)."""
    stage_numbers = list(stage_numbers)
    rows = (
        with_outcome(
            qs.filter(outcome_category_exists(), ~Q(state__in=LIVE_STATES)).filter(
                stage__number__in=stage_numbers
            )
        )
        .order_by()
        .values("stage__number", "raising_agency", "receiving_agency", "outcome_category")
        .annotate(n=Count("pk"))
    )
    result = {n: {"raising": Counter(), "receiving": Counter()} for n in stage_numbers}
    for r in rows:
        at = result[r["stage__number"]]
        at["raising"][(r["raising_agency"], r["outcome_category"])] += r["n"]
        at["receiving"][(r["receiving_agency"], r["outcome_category"])] += r["n"]
    return result


def outcome_category_exists() -> Exists:
    # scoped-lookup: allowed (correlated to the rows of the queryset it filters)
    return Exists(Outcome.objects.filter(escalation=OuterRef("pk")))


def reached_stages(qs: QuerySet, first_stage: int) -> QuerySet:
    """Every escalation that reached first_stage or beyond (Pan-Cheshire: every step 4)."""
    return qs.filter(highest_stage_number__gte=first_stage)
