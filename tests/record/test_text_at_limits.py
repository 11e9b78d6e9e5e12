"""A record with every free-text box at its maximum (cases.limits) still renders: the limits
keep the record's size bounded, and the render's own time limit (RECORD_RENDER_SECONDS) stops
anything slower. The time is printed, never asserted (measured: README, security section)."""

from __future__ import annotations

from datetime import date

import pytest

from cases import limits
from escalations import services
from escalations.record.render import load_for_record, record_form, render_form_pdf
from escalations.services import ActionItem
from tests.factories import EscalationAtStageFactory
from tests.record.helpers import reader

# Every box once; notes are as many as people write, so a few at their maximum.
NOTES = 3


def words(limit: int, seed: str) -> str:
    """Text of exactly `limit` characters in words of varied length, as people write."""
    text = " ".join(f"{seed}{i % 97}{'x' * (i % 11)}" for i in range(limit))
    return text[:limit]


@pytest.fixture
def everything_at_its_limit(world):
    A, R = limits.ACCOUNT, limits.REASON
    esc = EscalationAtStageFactory(
        stage=5,
        child=services.ChildDetails(
            home_partnership=world.kirklees,
            given_names="Zoë",
            family_name="Testwell",
            date_of_birth=date(2018, 7, 14),
            address=words(limits.ADDRESS, "road"),
        ),
        details=words(A, "detail"),
        outcome_sought=words(A, "outcome"),
        interim_safety=words(A, "safe"),
        why_escalated=words(R, "why"),
    )
    for i in range(NOTES):
        services.add_note(esc, by=world.carol, body=words(A, f"note{i}"))
    services.record_position(esc, by=world.carol, body=words(A, "school"))
    services.record_position(esc, by=world.grace, body=words(A, "csc"))
    services.record_response(esc, by=world.grace, summary=words(A, "response"))
    services.resolve(
        esc,
        by=world.dan,
        category="partly_upheld",
        summary=words(A, "agreed"),
        raiser_satisfied=True,
        actions=[
            ActionItem(words(R, f"action{i}"), "Frank Ford", date(2027, 1, 4)) for i in range(5)
        ],
    )
    services.record_parents_informed(esc, by=world.carol, informed=False, reason=words(R, "p"))
    services.record_learning(
        esc, by=world.carol, learning=words(A, "learn"), policy_gap=words(A, "gap")
    )
    services.record_debrief(
        esc, by=world.carol, summary=words(A, "debrief"), held_on=date(2026, 12, 1)
    )
    esc.refresh_from_db()
    return esc


def test_a_record_with_every_box_at_its_limit_renders(everything_at_its_limit, capsys):
    form = record_form(load_for_record(everything_at_its_limit))
    runs = [render_form_pdf(form) for _ in range(2)]  # the first in a process loads fonts
    pages = len(reader(runs[-1].pdf).pages)
    with capsys.disabled():
        took = ", ".join(f"{r.seconds:.2f} s wall ({r.cpu_seconds:.2f} s CPU)" for r in runs)
        print(f"\nrecord at every limit: {len(runs[-1].pdf):,} bytes, {pages} pages: {took}")
    assert pages > 5
