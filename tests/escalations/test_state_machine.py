"""Random people doing random things to an escalation, checked after every step.

Each example raises a fresh Kirklees escalation (the personas are built once per test; the
escalations share nothing), so no example sees another's events. Invariants: the record only
grows, in order, unchanged; the stage moves one step up at most, into an approval stage only
by an approval; the state is always a legal one; highest_stage_number is the highest stage
entered."""

from datetime import timedelta

from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from escalations import services
from escalations.models import Escalation, Event, EventKind, State
from escalations.services import ActionItem, ActionRefused
from tests.factories import DraftEscalationFactory, OpenEscalationFactory

# Weighted towards the people who move a school's challenge on, so examples climb the ladder.
PERSONAS = [
    *["alice", "bob", "carol", "carol", "dan"] * 2,
    *["erin", "frank", "grace", "ivan", "judy", "kim", "charlie", "mallory"],
]
TEXT = st.sampled_from(
    ["No reply.", "Still unresolved.", "Agreed on the phone.", "  "] + ["Unresolved."] * 4
)


def build_machine(world):
    class EscalationMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.esc = None
            self.seen: list[tuple] = []

        def person(self, name):
            return getattr(world, name)

        def act(self, service, name, **kwargs):
            """Try the action; a refusal must leave the escalation exactly as it was."""
            before = self.fingerprint()
            try:
                service(self.esc.pk, by=self.person(name), **kwargs)
            except ActionRefused:
                assert self.fingerprint() == before

        def fingerprint(self):
            esc = Escalation.objects.get(pk=self.esc.pk)
            return (esc.state, esc.stage_id, esc.revision, esc.event_count, esc.holder_id)

        @initialize(
            start=st.sampled_from([1, 1, 1, 3, 5]),
            draft=st.sampled_from([False, False, False, True]),
        )
        def raise_one(self, start, draft):
            factory = DraftEscalationFactory if draft else OpenEscalationFactory
            self.esc = factory(immediate_risk=start != 1, start_stage_number=start)

        @rule(name=st.sampled_from(["alice", "carol"]))
        def submit(self, name):
            before = self.fingerprint()
            try:
                services.submit_escalation(
                    Escalation.objects.get(pk=self.esc.pk), by=self.person(name)
                )
            except ActionRefused:
                assert self.fingerprint() == before

        @rule(name=st.sampled_from(PERSONAS), reason=TEXT)
        def escalate(self, name, reason):
            self.act(services.escalate, name, reason=reason)

        @rule(name=st.sampled_from(PERSONAS), comments=TEXT)
        def approve(self, name, comments):
            self.act(services.approve, name, comments=comments)

        @rule(name=st.sampled_from(PERSONAS), comments=TEXT)
        def return_with_comments(self, name, comments):
            self.act(services.return_with_comments, name, comments=comments)

        @rule(
            name=st.sampled_from(PERSONAS),
            summary=TEXT,
            category=st.sampled_from(["upheld", "not_upheld", "withdrawn"]),
            with_action=st.booleans(),
        )
        def resolve(self, name, summary, category, with_action):
            actions = (
                [ActionItem("Joint visit", "Erin Earl", timezone.localdate() + timedelta(days=7))]
                if with_action
                else []
            )
            self.act(
                services.resolve,
                name,
                category=category,
                summary=summary,
                raiser_satisfied=True,
                actions=actions,
            )

        @rule(name=st.sampled_from(PERSONAS), reason=TEXT)
        def reopen(self, name, reason):
            self.act(services.reopen, name, reason=reason)

        @rule(name=st.sampled_from(PERSONAS), declined=st.sampled_from(["", "Family moved."]))
        def close(self, name, declined):
            self.act(services.close, name, declined_reason=declined)

        @rule(name=st.sampled_from(PERSONAS), reason=TEXT)
        def withdraw(self, name, reason):
            self.act(services.withdraw, name, reason=reason)

        @rule(name=st.sampled_from(PERSONAS), body=TEXT)
        def add_note(self, name, body):
            self.act(services.add_note, name, body=body)

        @rule(name=st.sampled_from(PERSONAS))
        def mark_action_done(self, name):
            action = self.esc.actions.filter(done_on__isnull=True).first()
            if action is None:
                return
            before = self.fingerprint()
            try:
                services.mark_action_done(action.pk, escalation=self.esc.pk, by=self.person(name))
            except ActionRefused:
                assert self.fingerprint() == before

        @rule(name=st.sampled_from(PERSONAS))
        def record_learning_and_debrief(self, name):
            self.act(services.record_learning, name, learning="Share the same day.")
            self.act(
                services.record_debrief, name, summary="Debrief held.", held_on=timezone.localdate()
            )

        @rule(name=st.sampled_from(PERSONAS), reason=TEXT)
        def share(self, name, reason):
            self.act(services.share_with_partnership, name, reason=reason)

        @invariant()
        def the_record_only_grows_in_order_and_unchanged(self):
            if self.esc is None:
                return
            events = [
                (e.sequence, e.kind, e.from_state, e.to_state, e.from_stage, e.to_stage, e.reason)
                for e in Event.objects.filter(escalation_id=self.esc.pk).order_by("sequence")
            ]
            assert [e[0] for e in events] == list(range(1, len(events) + 1))
            assert events[: len(self.seen)] == self.seen
            esc = Escalation.objects.select_related("ladder").get(pk=self.esc.pk)
            assert esc.event_count == len(events)
            approval_stages = {s.number for s in esc.ladder.stages.all() if s.approval_required}
            last = esc.ladder.last_escalation_stage_number()
            for seq, kind, _, _, from_stage, to_stage, _ in events[len(self.seen) :]:
                assert from_stage is not None and to_stage is not None, seq
                assert to_stage in (from_stage, from_stage + 1), (seq, kind)
                assert 1 <= to_stage <= last
                if to_stage != from_stage and to_stage in approval_stages:
                    assert kind == EventKind.APPROVED, (seq, kind)
            self.seen = events

        @invariant()
        def the_state_and_stage_are_consistent(self):
            if self.esc is None:
                return
            esc = Escalation.objects.select_related("stage").get(pk=self.esc.pk)
            assert esc.state in State.values
            assert not esc.stage.after_resolution
            entered = [esc.stage.number] + [e[5] for e in self.seen]
            assert esc.highest_stage_number == max(entered)
            assert (esc.pending_stage_id is not None) == (esc.state == State.AWAITING_APPROVAL)
            # Numbered when submitted, never before; a withdrawn draft stays unnumbered.
            assert (esc.reference is None) == (esc.raised_on is None)
            if esc.state == State.DRAFT:
                assert esc.reference is None

    return EscalationMachine


def test_random_people_doing_random_things_never_lose_or_reorder_events(world):
    machine = build_machine(world)
    machine.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=20,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    machine.TestCase().runTest()
