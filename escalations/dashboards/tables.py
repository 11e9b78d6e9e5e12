"""Figures as tables: what each page shows, each chart draws and each CSV export writes.

One builder per page, so a page, its charts and its exports can never disagree."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone

from cases.models import Child
from escalations.dashboards import queries
from escalations.dashboards.forms import ReferenceData
from escalations.dashboards.queries import Filters
from escalations.models import Nature, OutcomeCategory, Pathway


@dataclass
class Cell:
    text: str
    href: str = ""
    numeric: bool = False
    value: float | None = None
    # What a link says to a screen reader beyond its number: "(Meadow School, Raised)".
    describes: str = ""


@dataclass
class Table:
    slug: str
    caption: str
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    chart: str = "bar"  # "bar", "columns" (a series over time) or "" for none
    note: str = ""

    def __post_init__(self):
        for row in self.rows:
            for header, cell in zip(self.headers[1:], row[1:], strict=False):
                cell.describes = f"{row[0].text}, {header}"

    def series(self, column: int = 1) -> list[tuple[str, float, str]]:
        """(label, value, link) for a chart of one numeric column."""
        return [
            (row[0].text, row[column].value or 0, row[column].href)
            for row in self.rows
            if row[column].value is not None
        ]


def days(value: float | None) -> str:
    if value is None:
        return "No data"
    return f"{value:.1f}".removesuffix(".0")


def count(n: int, href: str = "") -> Cell:
    return Cell(f"{n:,}", href=href if n else "", numeric=True, value=n)


def text(value: str) -> Cell:
    return Cell(value)


class Links:
    """Links from a figure to the list behind it, keeping the page's filters."""

    def __init__(self, slug: str, filters: Filters):
        self.base = reverse("dashboards:list", args=[slug])
        self.filters = filters

    def __call__(self, **changes) -> str:
        return f"{self.base}?{urlencode(self.filters.params(**changes))}"

    def month(self, first: date, *, resolved: bool = False, months: int = 1) -> str:
        last = first
        for _ in range(months):
            last = (last + timedelta(days=32)).replace(day=1)
        last -= timedelta(days=1)
        if resolved:
            return self(resolved_from=first, resolved_to=last)
        start = max(first, self.filters.date_from or first)
        end = min(last, self.filters.date_to or last)
        return self(date_from=start, date_to=end)


class Computed:
    """The dashboard's figures counted from the escalations themselves (queries), for filters
    the materialised summary rows cannot answer (materialise.serves)."""

    def __init__(self, qs, now: datetime):
        self.qs, self.now = qs, now

    def summary(self, *, stage_numbers, pathways) -> dict[str, int]:
        return queries.summary(
            self.qs, now=self.now, stage_numbers=stage_numbers, pathways=pathways
        )

    def by_nature(self):
        return queries.by_nature(self.qs)

    def by_agency(self):
        return queries.by_agency(self.qs)

    def trend(self):
        return queries.trend(self.qs)

    def durations(self):
        return queries.time_in_stage(self.qs), queries.time_to_resolution(self.qs)


def dashboard_tables(
    qs, *, ref: ReferenceData, filters: Filters, now: datetime, source=None
) -> dict[str, Table]:
    """The dashboard's figures: aggregates only, the same for everyone who may see them.
    source answers the counting (Computed from qs, or materialise.Materialised)."""
    source = source or Computed(qs, now)
    link = Links(ref.partnership.slug, filters)
    numbers = sorted(set(ref.stage_numbers) | {filters.stage or 1})
    s = source.summary(stage_numbers=numbers, pathways=Pathway.values)
    tables = {}

    tables["headline"] = Table(
        "headline",
        "Escalations at a glance",
        ["Figure", "Escalations"],
        [
            [text("Raised"), count(s["total"], link())],
            [text("Open now"), count(s["open"], link(status="open"))],
            [text("Overdue now"), count(s["overdue"], link(status="overdue"))],
            [text("Resolved"), count(s["resolved"], link(status="resolved"))],
            [text("Withdrawn"), count(s["withdrawn"], link(status="withdrawn"))],
            [text("Learning recorded"), count(s["learning"], link(learning=True))],
            [text("Policy gaps referred"), count(s["policy_gap"], link(policy_gap=True))],
        ],
        chart="",
    )
    tables["open-by-stage"] = Table(
        "open-by-stage",
        "Open escalations by stage now",
        ["Stage", "Open", "Overdue"],
        [
            [
                text(stage_label(ref, n)),
                count(s[f"open_at_{n}"], link(stage=n, status="open")),
                count(s[f"overdue_at_{n}"], link(stage=n, status="overdue")),
            ]
            for n in numbers
        ],
    )
    tables["highest-stage"] = Table(
        "highest-stage",
        "Highest stage reached",
        ["Stage", "Escalations"],
        [
            [text(stage_label(ref, n)), count(s[f"reached_{n}"], link(highest_stage=n))]
            for n in numbers
        ],
    )
    tables["pathway"] = Table(
        "pathway",
        "By pathway",
        ["Pathway", "Escalations"],
        [
            [text(label), count(s[f"pathway_{value}"], link(pathway=value))]
            for value, label in Pathway.choices
        ],
    )
    natures = source.by_nature()
    tables["nature"] = Table(
        "nature",
        "By nature of difference",
        ["Nature of difference", "Escalations"],
        [
            [text(label), count(natures[value], link(nature=value))]
            for value, label in Nature.choices
        ],
        note="One escalation may concern more than one nature of difference.",
    )
    tables.update(agency_tables(qs, ref, link, source.by_agency()))
    tables.update(duration_tables(qs, ref, link, numbers, source.durations()))
    tables.update(trend_tables(qs, link, source.trend()))

    return tables


def learning_table(qs, *, user) -> Table:
    """Latest learning and policy gaps; the words only where the user may see the record."""
    gaps = queries.learning_and_gaps(qs, user)
    return Table(
        "learning",
        "Latest learning and policy gaps",
        ["Reference", "Raised by", "Received by", "Learning", "Policy gap"],
        [
            [
                Cell(row["shown_reference"] or "Not shared with the partnership"),
                text(row["raising_agency__name"]),
                text(row["receiving_agency__name"]),
                text(withheld(row, "learning")),
                text(withheld(row, "policy_gap")),
            ]
            for row in gaps
        ],
        chart="",
        note="The words are shown only for escalations shared with the partnership: "
        "free text can identify a child.",
    )


def withheld(row: dict, name: str) -> str:
    if not row[f"has_{name}"]:
        return ""
    return row[f"{name}_text"] or "Recorded (not shared with the partnership)"


def stage_label(ref: ReferenceData, number: int) -> str:
    name = ref.stage_name(number)
    return f"{number}: {name}" if name else f"Stage {number}"


def agency_tables(
    qs, ref: ReferenceData, link: Links, counts: queries.AgencyCounts | None = None
) -> dict[str, Table]:
    counts = counts or queries.by_agency(qs)
    names = {a.pk: a.name for a in ref.agencies} | counts.names
    ids = sorted(names, key=lambda pk: names[pk])
    return {
        "raising-agency": Table(
            "raising-agency",
            "By raising agency",
            ["Agency", "Raised"],
            [[text(names[a]), count(counts.raised[a], link(raising_agency=a))] for a in ids],
        ),
        "receiving-agency": Table(
            "receiving-agency",
            "By receiving agency",
            ["Agency", "Received"],
            [[text(names[a]), count(counts.received[a], link(receiving_agency=a))] for a in ids],
        ),
    }


def duration_tables(
    qs, ref: ReferenceData, link: Links, numbers, durations=None
) -> dict[str, Table]:
    per_stage, resolution = durations or (
        queries.time_in_stage(qs),
        queries.time_to_resolution(qs),
    )
    empty = queries.Spread(0, None, None)
    rows = []
    for n in sorted(set(numbers) | set(per_stage)):
        spread = per_stage.get(n, empty)
        rows.append(
            [
                text(stage_label(ref, n)),
                count(spread.count),
                Cell(days(spread.median), numeric=True, value=spread.median),
                Cell(days(spread.p90), numeric=True, value=spread.p90),
            ]
        )
    return {
        "time-in-stage": Table(
            "time-in-stage",
            "Working days spent in each stage",
            ["Stage", "Stages ended", "Median working days", "90th percentile"],
            rows,
            note="Counted when a stage ends: working days after the day it started, up to and "
            "including the day it ended.",
        ),
        "time-to-resolution": Table(
            "time-to-resolution",
            "Working days to resolution",
            ["Escalations", "Resolved", "Median working days", "90th percentile"],
            [
                [
                    text("Resolved escalations"),
                    count(resolution.count, link(status="resolved")),
                    Cell(days(resolution.median), numeric=True, value=resolution.median),
                    Cell(days(resolution.p90), numeric=True, value=resolution.p90),
                ]
            ],
            chart="",
        ),
    }


def trend_tables(qs, link: Links, trend: queries.Trend | None = None) -> dict[str, Table]:
    trend = trend or queries.trend(qs)
    months = [
        [
            text(f"{m:%B %Y}"),
            count(trend.raised[m], link.month(m)),
            count(trend.resolved[m], link.month(m, resolved=True)),
        ]
        for m in trend.months()
    ]
    quarters = [
        [
            text(f"{q:%b} to {(q + timedelta(days=62)):%b %Y}"),
            count(raised, link.month(q, months=3)),
            count(resolved, link.month(q, resolved=True, months=3)),
        ]
        for q, raised, resolved in trend.quarters()
    ]
    return {
        "trend-month": Table(
            "trend-month",
            "Raised and resolved by month",
            ["Month", "Raised", "Resolved"],
            months,
            chart="columns",
        ),
        "trend-quarter": Table(
            "trend-quarter",
            "Raised and resolved by quarter",
            ["Quarter", "Raised", "Resolved"],
            quarters,
            chart="columns",
        ),
    }


def partnership_stage(ref: ReferenceData) -> int:
    """The first stage at which the ladder brings the partnership in (its last if none)."""
    return next(
        (s.number for s in ref.stages if s.brings_in_partnership),
        max(ref.stage_numbers, default=1),
    )


def report_tables(qs, *, ref: ReferenceData, filters: Filters) -> dict[str, Table]:
    """Outcomes at the stages agencies report on (Pan-Cheshire steps 2 and 3: the stages after
    the first and before the partnership is brought in), by agency."""
    link = Links(ref.partnership.slug, filters)
    first_partnership = partnership_stage(ref)
    reported = [n for n in ref.stage_numbers if 1 < n < first_partnership]
    outcomes = queries.outcomes_at_stages(qs, reported)
    names = {a.pk: a.name for a in ref.agencies}
    categories = OutcomeCategory.choices
    tables = {}
    for n in reported:
        for side, heading in (("raising", "raised by"), ("receiving", "received by")):
            counter = outcomes[n][side]
            ids = sorted({a for a, _ in counter} | set(names), key=lambda pk: names.get(pk, ""))
            rows = []
            for agency_id in ids:
                values = [counter[(agency_id, c)] for c, _ in categories]
                rows.append(
                    [text(names.get(agency_id, f"Agency {agency_id}"))]
                    + [
                        count(v, link(stage=n, outcome=c, **{f"{side}_agency": agency_id}))
                        for v, (c, _) in zip(values, categories, strict=True)
                    ]
                    + [count(sum(values))]
                )
            slug = f"outcomes-stage-{n}-{side}"
            tables[slug] = Table(
                slug,
                f"Outcomes at {stage_label(ref, n)}, {heading} agency",
                ["Agency"] + [label for _, label in categories] + ["Total"],
                rows,
                chart="",
            )
    return tables


def annual_return_tables(
    qs, *, ref: ReferenceData, filters: Filters, now: datetime
) -> dict[str, Table]:
    link = Links(ref.partnership.slug, filters)
    agencies = queries.by_agency(qs)
    tables = agency_tables(qs, ref, link, agencies)
    numbers = ref.stage_numbers
    s = queries.summary(qs, now=now, stage_numbers=numbers, pathways=())
    tables["stage-reached"] = Table(
        "stage-reached",
        "Highest stage reached",
        ["Stage", "Escalations"],
        [
            [text(stage_label(ref, n)), count(s[f"reached_{n}"], link(highest_stage=n))]
            for n in numbers
        ],
    )
    natures = queries.by_nature(qs)
    tables["nature"] = Table(
        "nature",
        "By nature of difference",
        ["Nature of difference", "Escalations"],
        [
            [text(label), count(natures[value], link(nature=value))]
            for value, label in Nature.choices
        ],
    )
    outcomes = queries.by_outcome(qs)
    tables["outcome"] = Table(
        "outcome",
        "By outcome",
        ["Outcome", "Escalations"],
        [
            [text(label), count(outcomes[value], link(outcome=value))]
            for value, label in OutcomeCategory.choices
        ]
        + [[text("No outcome yet"), count(outcomes[None])]],
    )
    tables["resolved"] = Table(
        "resolved",
        "Resolved or not",
        ["Resolved", "Escalations"],
        [
            [text("Resolved"), count(s["resolved"], link(status="resolved"))],
            [text("Not resolved"), count(s["total"] - s["resolved"], link(status="unresolved"))],
        ],
    )
    per_stage = queries.time_in_stage(qs)
    tables["median-days"] = Table(
        "median-days",
        "Median working days per stage",
        ["Stage", "Stages ended", "Median working days"],
        [
            [
                text(stage_label(ref, n)),
                count(sp.count),
                Cell(days(sp.median), numeric=True, value=sp.median),
            ]
            for n, sp in sorted(per_stage.items())
        ],
    )
    tables["under-use"] = Table(
        "under-use",
        "Agencies that raised no challenge, or received none",
        ["Agency", "Raised", "Received"],
        [
            [text(a.name), count(agencies.raised[a.pk]), count(agencies.received[a.pk])]
            for a in ref.agencies
            if not agencies.raised[a.pk] or not agencies.received[a.pk]
        ],
        chart="",
    )
    return tables


def child_name(row) -> str:
    """The child's name for a list row shown in full (its child fields are empty otherwise)."""
    if not row.shown_in_full:
        return ""
    return Child(
        given_names=row.child_given_names or "",
        family_name=row.child_family_name or "",
        is_family_group=bool(row.child_is_family_group),
        is_unborn=bool(row.child_is_unborn),
        anonymised_on=row.child_anonymised_on,
    ).display_name


# Figures at 100,000 escalations take a few hundred milliseconds to compute; a business
# manager's dashboard may be a minute old. Lists and anything per person are never cached.
FIGURES_SECONDS = 60
# Shared by every web process (Redis when the broker is Redis: settings.CACHES).
FIGURES_CACHE = "shared"


def figures_key(page: str, ref: ReferenceData, filters: Filters) -> str:
    params = urlencode(sorted(filters.params().items()))
    digest = hashlib.sha256(params.encode()).hexdigest()[:32]
    return f"dashboards:{page}:{ref.partnership.pk}:{digest}"


def cached_figures(
    page: str,
    ref: ReferenceData,
    filters: Filters,
    build: Callable[[], dict[str, Table]],
    *,
    computed_at: datetime | None = None,
) -> tuple[datetime, dict[str, Table]]:
    """(when computed, tables) for one partnership, page and set of filters, in the cache
    every web process shares."""
    shared = caches[FIGURES_CACHE]
    key = figures_key(page, ref, filters)
    hit = shared.get(key)
    if hit is None:
        hit = (computed_at or timezone.now(), build())
        shared.set(key, hit, FIGURES_SECONDS)
    return hit
