"""The materialised dashboard figures (ADR 0031) equal a straight count of the escalations,
figure by figure, after seeded random events: raises, escalations, resolutions, withdrawals,
learning, deadlines passing and the sweep marking them, under every filter the summary rows
answer."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.cache import caches
from django.db import connection, connections  # noqa: F401 (connection: the skipif)

from escalations import services
from escalations.dashboards import materialise
from escalations.dashboards.forms import ReferenceData
from escalations.dashboards.queries import Filters
from escalations.dashboards.tables import dashboard_tables
from escalations.deadlines import sweep
from escalations.models import LIVE_STATES, Escalation, FigureCount, State
from tests.factories import OpenEscalationFactory, climb
from tests.helpers import sign_in


@pytest.fixture(autouse=True)
def no_cached_figures():
    caches["shared"].clear()
    yield
    caches["shared"].clear()


def _filter_sets(w) -> list[Filters]:
    return [
        Filters(),
        Filters(pathway="child_protection"),
        Filters(stage=1),
        Filters(stage=2),
        Filters(highest_stage=2),
        Filters(reached_stage=2),
        *[Filters(status=s) for s in ("open", "overdue", "resolved", "unresolved", "withdrawn")],
        Filters(learning=True),
        Filters(policy_gap=True),
        Filters(status="open", stage=1, pathway="referral"),
    ]


def _random_event(rng: random.Random, w, day: date) -> None:
    # scoped-lookup: allowed (the test picks any Kirklees escalation to act on, as its holder)
    mine = list(Escalation.objects.filter(partnership=w.kirklees).order_by("pk"))
    live = [e for e in mine if e.state in LIVE_STATES and e.state != State.AWAITING_APPROVAL]
    kinds = ["raise", "raise", "raise", "escalate", "escalate", "resolve", "withdraw"]
    kind = rng.choice([*kinds, "learning", "sweep"])
    if kind == "raise" or not live:
        by, receiving = rng.choice([(w.alice, w.csc), (w.alice, w.health), (w.charlie, w.csc)])
        OpenEscalationFactory(
            by=by,
            raising_agency=by.memberships.first().agency,
            receiving_agency=receiving,
            receiving_person=w.erin if receiving == w.csc else None,
            pathway=rng.choice(["referral", "child_protection", "conference"]),
            natures=rng.sample(["referral_decision", "assessment", "information_sharing"], 2),
            initial_discussion_on=day - timedelta(days=rng.choice([0, 0, 7, 20])),
        )
        return
    esc = rng.choice(live)
    if kind == "escalate" and esc.stage.number < 3 and esc.raising_agency_id == w.school.pk:
        # Meadow School has the approvers Kirklees step 2 asks for.
        climb(esc, esc.stage.number + 1)
    elif kind == "resolve":
        services.resolve(
            esc,
            by=esc.holder,
            category=rng.choice(["upheld", "not_upheld"]),
            summary="Agreed after a call.",
            raiser_satisfied=True,
        )
    elif kind == "withdraw":
        services.withdraw(esc, by=esc.raised_by, reason="Information since shared.")
    elif kind == "learning":
        services.record_learning(
            esc,
            by=esc.raised_by,
            learning="Call before writing.",
            policy_gap=rng.choice(["", "The guide is silent on this."]),
        )
    else:
        sweep()


def _both(w, filters: Filters, now: datetime):
    ref = ReferenceData.load(w.kirklees)
    base = Escalation.objects.for_partnership_figures(w.ivan.user, w.kirklees)
    qs = filters.apply(base, now=now)
    straight = dashboard_tables(qs, ref=ref, filters=filters, now=now)
    source = materialise.Materialised(w.kirklees, filters)
    summarised = dashboard_tables(qs, ref=ref, filters=filters, now=now, source=source)
    return straight, summarised


def test_every_figure_equals_a_straight_count_after_random_events(world):
    w = world
    rng = random.Random(18)
    day = date(2026, 11, 2)
    checked, overdue_seen = 0, 0
    for _round in range(4):
        for _ in range(6):
            day += timedelta(days=rng.choice([1, 3, 10]))
            with time_machine.travel(datetime(day.year, day.month, day.day, 10, tzinfo=UTC)):
                _random_event(rng, w, day)
        now = datetime(day.year, day.month, day.day, 16, tzinfo=UTC)
        with time_machine.travel(now, tick=False):
            materialise.refresh(w.kirklees, now=now)
            for filters in _filter_sets(w):
                straight, summarised = _both(w, filters, now)
                assert summarised == straight, filters
                checked += 1
            straight, _ = _both(w, Filters(), now)
            overdue_seen = max(overdue_seen, straight["headline"].rows[2][1].value)
    # The events left a spread worth comparing: every state, and something overdue.
    states = set(Escalation.objects.filter(partnership=w.kirklees).values_list("state", flat=True))
    assert {State.OPEN, State.RESOLVED, State.WITHDRAWN} <= states
    assert overdue_seen > 0
    assert checked == 4 * len(_filter_sets(w))


def test_a_refresh_replaces_the_figures_and_says_when(world):
    w = world
    now = datetime(2026, 11, 2, 10, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        OpenEscalationFactory(initial_discussion_on=date(2026, 11, 2))
        materialise.refresh(w.kirklees, now=now)
        OpenEscalationFactory(initial_discussion_on=date(2026, 11, 2))
        s = materialise.Materialised(w.kirklees, Filters()).summary(stage_numbers=[1], pathways=[])
        assert s["total"] == 1  # as at the refresh, which the page shows
        later = now + timedelta(minutes=1)
        materialise.refresh(w.kirklees, now=later)
        s = materialise.Materialised(w.kirklees, Filters()).summary(stage_numbers=[1], pathways=[])
        assert s["total"] == 2
        assert materialise.as_at(w.kirklees) == later
    assert not FigureCount.objects.filter(partnership=w.berkshire).exists()


def test_filters_the_summary_cannot_answer_are_counted_from_the_escalations(world):
    assert materialise.serves(Filters(status="overdue", stage=2, learning=True))
    assert not materialise.serves(Filters(date_from=date(2026, 11, 1)))
    assert not materialise.serves(Filters(resolved_to=date(2026, 11, 30)))
    assert not materialise.serves(Filters(raising_agency=world.school.pk))
    assert not materialise.serves(Filters(agency=world.school.pk))
    assert not materialise.serves(Filters(nature="assessment"))
    assert not materialise.serves(Filters(outcome="upheld"))


def test_the_dashboard_shows_the_refreshed_figures_and_when_they_were_counted(client, world):
    w = world
    sign_in(client, w.ivan)
    counted = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    with time_machine.travel(counted, tick=False):
        OpenEscalationFactory(initial_discussion_on=date(2026, 11, 2))
        OpenEscalationFactory(initial_discussion_on=date(2026, 11, 2))
        materialise.refresh(w.kirklees, now=counted)
    with time_machine.travel(counted + timedelta(minutes=1, seconds=30), tick=False):
        OpenEscalationFactory(initial_discussion_on=date(2026, 11, 2))
        caches["shared"].clear()
        page = client.get("/partnerships/kirklees/dashboard/")
    assert page.status_code == 200
    headline = page.context["headline"]
    assert [row[1].value for row in headline.rows[:2]] == [2, 2]  # raised, open as at 10:00
    assert "Figures calculated at 10:00 on 2 November 2026" in page.content.decode()
    # A filter the summary rows cannot answer is counted from the escalations, up to date.
    filtered = client.get("/partnerships/kirklees/dashboard/", {"raising_agency": w.school.pk})
    assert filtered.context["headline"].rows[0][1].value == 3


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="an advisory lock")
def test_a_refresh_that_finds_another_still_running_leaves_the_work_to_it(world):
    other = connections.create_connection("default")
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [materialise.REFRESH_LOCK])
    try:
        assert materialise.refresh_all() == {}
        assert materialise.as_at(world.kirklees) is None
    finally:
        # Released before the next refresh: a closed connection's server process ends (and
        # lets go of its locks) a moment after the client has gone, which the PostgreSQL run
        # once lost the race to.
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [materialise.REFRESH_LOCK])
        other.close()
    assert "kirklees" in materialise.refresh_all()


def test_the_page_says_how_often_the_figures_are_refreshed(client, world, settings):
    settings.FIGURES_REFRESH_SECONDS = 300
    materialise.refresh(world.kirklees)
    sign_in(client, world.ivan)
    page = client.get("/partnerships/kirklees/dashboard/").content.decode()
    assert "they are refreshed every 5 minutes" in page
