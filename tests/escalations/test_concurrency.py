"""Two people acting on one escalation at the same moment: one wins, the other is told, and
nothing is lost (SPEC section 4). Needs PostgreSQL's row locks; SQLite locks the whole file."""

import threading

import pytest
from django.db import connection, connections

from escalations import services
from escalations.models import Escalation, EventKind, State
from escalations.services import ActionRefused, StaleEscalation
from tests.factories import AwaitingApprovalEscalationFactory, EscalationAtStage2Factory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locking with two threads needs PostgreSQL: set DATABASE_URL to run it",
    ),
]


def race(*actions):
    """Run each action in its own thread, released together by a barrier. Returns, per action,
    its result or the exception it raised."""
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)

    def run(i, action):
        try:
            barrier.wait(timeout=10)
            results[i] = action()
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results


def winners_and_losers(results):
    losers = [r for r in results if isinstance(r, Exception)]
    winners = [r for r in results if not isinstance(r, Exception)]
    return winners, losers


def assert_events_intact(esc: Escalation) -> list[str]:
    esc.refresh_from_db()
    sequences = list(esc.events.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, esc.event_count + 1))
    return list(esc.events.order_by("sequence").values_list("kind", flat=True))


@pytest.fixture
def at_stage_two(world):
    return EscalationAtStage2Factory()


def test_two_escalations_at_once_move_one_stage_and_the_other_is_told(world, at_stage_two):
    esc = at_stage_two
    seen = esc.revision
    results = race(
        lambda: services.escalate(
            esc.pk, by=world.alice, reason="Alice: no reply.", expected_revision=seen
        ),
        lambda: services.escalate(
            esc.pk, by=world.bob, reason="Bob: no reply.", expected_revision=seen
        ),
    )
    winners, losers = winners_and_losers(results)
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0], StaleEscalation)
    assert "changed by someone else" in str(losers[0])
    assert "Nothing was saved" in str(losers[0])
    esc.refresh_from_db()
    assert (esc.state, esc.stage.number, esc.revision) == (State.OPEN, 3, seen + 1)
    kinds = assert_events_intact(esc)
    assert kinds.count(EventKind.ESCALATED) == 1


def test_escalate_and_resolve_at_once_one_wins_and_nothing_is_half_done(world, at_stage_two):
    esc = at_stage_two
    seen = esc.revision
    results = race(
        lambda: services.escalate(
            esc.pk, by=world.alice, reason="No reply.", expected_revision=seen
        ),
        lambda: services.resolve(
            esc.pk,
            by=world.carol,
            category="information_shared",
            summary="CSC shared the assessment.",
            raiser_satisfied=True,
            expected_revision=seen,
        ),
    )
    winners, losers = winners_and_losers(results)
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0], ActionRefused)
    esc.refresh_from_db()
    kinds = assert_events_intact(esc)
    if esc.state == State.RESOLVED:
        assert (esc.stage.number, esc.outcomes.count()) == (2, 1)
        assert EventKind.ESCALATED not in kinds[-1:]
    else:
        assert (esc.state, esc.stage.number, esc.outcomes.count()) == (State.OPEN, 3, 0)
    assert esc.episodes.filter(ended_at__isnull=True).count() == (esc.state == State.OPEN)


def test_two_approvals_at_once_approve_once(world):
    esc = AwaitingApprovalEscalationFactory(by=world.robin, why_escalated="No answer.")
    # Two more leads at Small Steps, so two people other than Robin, who asked, may approve
    # (the one who asked approves only when nobody else could: ADR 0020).
    from policies.models import Role
    from tests.personas import make_person

    first = make_person("sage", "Sage Stone", (world.smallsteps, Role.SAFEGUARDING_LEAD))
    second = make_person("skye", "Skye Stone", (world.smallsteps, Role.SAFEGUARDING_LEAD))
    # No revision given: the lock alone must stop the second approval.
    results = race(
        lambda: services.approve(esc.pk, by=first, comments="Sage agrees."),
        lambda: services.approve(esc.pk, by=second, comments="Skye agrees."),
    )
    winners, losers = winners_and_losers(results)
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0], ActionRefused)
    assert "it is open" in str(losers[0])
    esc.refresh_from_db()
    assert (esc.state, esc.stage.number) == (State.OPEN, 2)
    assert esc.approvals.count() == 1
    assert esc.episodes.count() == 2
    kinds = assert_events_intact(esc)
    assert kinds.count(EventKind.APPROVED) == 1


def test_notes_written_at_the_same_moment_are_all_kept_in_order(world, at_stage_two):
    esc = at_stage_two
    people = [world.alice, world.bob, world.erin, world.frank]
    results = race(
        *[
            (lambda p=p: services.add_note(esc.pk, by=p, body=f"Note by {p.full_name}."))
            for p in people
        ]
    )
    assert not [r for r in results if isinstance(r, Exception)]
    kinds = assert_events_intact(esc)
    assert kinds.count(EventKind.NOTE) == 4
    assert esc.notes.count() == 4
