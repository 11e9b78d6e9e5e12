"""A small hand-made data set whose figures are known, in Kirklees, plus one Berkshire
escalation that no Kirklees page may show.

All moments are 10:00 UTC (10:00 in London in winter). "Now" for the figures is 1 Feb 2027.

- holiday: raised 23 Dec 2026; escalated (Carol approves) 4 Jan 2027; resolved 11 Jan 2027.
  Stage 1 spans Christmas: 24, 29, 30, 31 Dec and 4 Jan = 5 working days (25 and 28 Dec and
  1 Jan are bank holidays). Stage 2: 5, 6, 7, 8, 11 Jan = 5. To resolution: 10.
- quick: raised 2 Nov 2026 (information sharing + assessment, child protection), resolved
  5 Nov: 3 working days. Learning and a policy gap recorded.
- still_open: raised 2 Nov 2026 (conference), open at stage 1, due 9 Nov: overdue now.
- withdrawn: raised 3 Nov 2026, withdrawn 4 Nov: 1 working day at stage 1.
- partnership: raised 9 Nov 2026, one stage a day to stage 5 (the partnership sees the
  record from there), open and overdue now. Learning recorded.
- berkshire: Oscar's challenge to the Shared Constabulary about a Berkshire child.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.cache import cache, caches

from escalations import services
from escalations.models import Escalation
from tests.factories import OpenEscalationFactory, climb

NOW = datetime(2027, 2, 1, 10, 0, tzinfo=UTC)


def at(day: date):
    return time_machine.travel(
        datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC), tick=False
    )


@dataclass
class Dataset:
    world: object
    holiday: Escalation
    quick: Escalation
    still_open: Escalation
    withdrawn: Escalation
    partnership: Escalation
    berkshire: Escalation


@pytest.fixture(autouse=True)
def fresh_figures_cache():
    # Figures are cached for a minute, in the cache web processes share (Redis when the
    # broker is); each test starts with none.
    cache.clear()
    caches["shared"].clear()
    yield
    cache.clear()
    caches["shared"].clear()


@pytest.fixture
def dataset(world) -> Dataset:
    w = world
    with at(date(2026, 11, 2)):
        quick = OpenEscalationFactory(
            natures=["information_sharing", "assessment"],
            pathway="child_protection",
            initial_discussion_on=date(2026, 11, 2),
        )
        still_open = OpenEscalationFactory(
            pathway="conference",
            initial_discussion_on=date(2026, 11, 2),
            child=services.ChildDetails(
                home_partnership=w.kirklees, given_names="Rowan", family_name="Quietly"
            ),
        )
        berkshire = OpenEscalationFactory(
            by=w.oscar,
            raising_agency=w.berkshire_school,
            receiving_agency=w.constabulary,
            receiving_person=None,
            initial_discussion_on=date(2026, 11, 2),
            child=services.ChildDetails(
                home_partnership=w.berkshire, given_names="Bramble", family_name="Elsewhere"
            ),
        )
    with at(date(2026, 11, 3)):
        withdrawn = OpenEscalationFactory(initial_discussion_on=date(2026, 11, 3))
    with at(date(2026, 11, 4)):
        services.withdraw(withdrawn, by=w.alice, reason="Resolved by a phone call.")
    with at(date(2026, 11, 5)):
        services.resolve(
            quick,
            by=w.alice,
            category="not_upheld",
            summary="CSC explained.",
            raiser_satisfied=True,
        )
        services.record_learning(
            quick,
            by=w.alice,
            learning="Share disclosures the same day.",
            policy_gap="The threshold guide is silent on disclosures at school.",
        )
    with at(date(2026, 11, 9)):
        partnership = OpenEscalationFactory(
            initial_discussion_on=date(2026, 11, 9),
            child=services.ChildDetails(
                home_partnership=w.kirklees, given_names="Skye", family_name="Sharedwith"
            ),
        )
    with at(date(2026, 11, 10)):
        climb(partnership, 2)  # Alice escalates, Carol approves
    for day, stage in ((11, 3), (12, 4), (13, 5)):
        with at(date(2026, 11, day)):
            climb(partnership, stage, by=w.bob)
    with at(date(2026, 11, 13)):
        services.record_learning(partnership, by=w.bob, learning="Meet face to face sooner.")
    with at(date(2026, 12, 23)):
        holiday = OpenEscalationFactory(initial_discussion_on=date(2026, 12, 23))
    with at(date(2027, 1, 4)):
        climb(holiday, 2, why="No reply over Christmas.")  # Alice escalates, Carol approves
    with at(date(2027, 1, 11)):
        services.resolve(
            holiday,
            by=w.alice,
            category="upheld",
            summary="CSC will reassess.",
            raiser_satisfied=True,
        )
    for esc in (quick, still_open, withdrawn, partnership, holiday, berkshire):
        esc.refresh_from_db()
    return Dataset(w, holiday, quick, still_open, withdrawn, partnership, berkshire)
