"""seed_demo: invented people for every role, and escalations topped up to N."""

import re
from datetime import date
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from cases.demo import DEMO_PASSWORD
from cases.models import Agency, Membership, Person
from escalations import services
from escalations.models import LIVE_STATES, Escalation, Event, EventKind, State
from policies.models import AGENCY_ROLES, PARTNERSHIP_ROLES, Partnership, Role
from tests.factories import OpenEscalationFactory


def seed(n: int = 0) -> str:
    out = StringIO()
    call_command("seed_demo", "--escalations", str(n), "--quiet", stdout=out)
    return out.getvalue()


def base_counts() -> dict:
    return {
        "users": get_user_model().objects.count(),
        "people": Person.objects.count(),
        "agencies": Agency.objects.count(),
        "memberships": Membership.objects.count(),
        "partnerships": Partnership.objects.count(),
    }


@pytest.fixture
def seeded(db):
    seed(120)


def test_seeding_twice_makes_no_new_people_or_agencies(seeded):
    before = base_counts()
    output = seed(120)
    assert base_counts() == before
    assert "0 new escalations" in output


def test_escalations_are_topped_up_to_the_number_asked_for(seeded):
    assert Escalation.objects.count() == 120
    assert "30 new escalations" in seed(150)
    assert Escalation.objects.count() == 150
    seed(100)  # fewer than there are: nothing removed, nothing added
    assert Escalation.objects.count() == 150
    references = list(Escalation.objects.values_list("reference", flat=True))
    assert len(set(references)) == len(references)


def test_every_role_in_every_partnership_has_a_demo_login(seeded):
    for partnership in Partnership.objects.all():
        demo = Membership.objects.filter(person__user__email__endswith="@demo.invalid")
        agency_roles = set(
            demo.filter(agency__partnerships=partnership).values_list("role", flat=True)
        )
        partnership_roles = set(demo.filter(partnership=partnership).values_list("role", flat=True))
        assert agency_roles == set(AGENCY_ROLES), partnership.slug
        assert partnership_roles == set(PARTNERSHIP_ROLES), partnership.slug
    user = get_user_model().objects.get(username="kir-school-practitioner")
    assert user.check_password(DEMO_PASSWORD)


def test_the_demo_logins_command_lists_every_demo_person(seeded):
    out = StringIO()
    call_command("demo_logins", stdout=out)
    text = out.getvalue()
    assert DEMO_PASSWORD in text
    for username in (
        get_user_model()
        .objects.filter(email__endswith="@demo.invalid")
        .values_list("username", flat=True)
    ):
        assert username in text


def demo_logins_output(*args: str) -> list[str]:
    out = StringIO()
    call_command("demo_logins", *args, stdout=out)
    return out.getvalue().splitlines()


def test_each_demo_person_is_one_line_of_the_logins_even_with_three_roles(seeded):
    lines = demo_logins_output()
    assert len(lines) == len(set(lines))
    for username in (
        get_user_model()
        .objects.filter(email__endswith="@demo.invalid")
        .values_list("username", flat=True)
    ):
        assert sum(line.split()[0] == username for line in lines[1:]) == 1, username
    (robin,) = [line for line in lines if "kir-smallsteps-lead" in line]
    assert "Practitioner, safeguarding lead, head of service / senior manager" in robin


def test_the_short_table_shows_each_role_and_each_partnership_once_at_least(seeded):
    lines = demo_logins_output("--featured")
    assert DEMO_PASSWORD in lines[0]
    assert lines[-1] == f"All {len(demo_logins_output()) - 1} demo logins: make logins"
    table = lines[1:-1]
    assert 8 <= len(table) <= 12
    assert len(table) == len(set(table))
    for role in Role:
        assert any(role.label.lower() in line.lower() for line in table), role.label
    for partnership in Partnership.objects.all():
        assert any(
            partnership.slug.title() in line or partnership.reference_prefix.lower() + "-" in line
            for line in table
        ), partnership.slug


def test_some_live_escalations_are_past_due_and_not_yet_marked_overdue(seeded):
    live = Escalation.objects.filter(state__in=LIVE_STATES)
    assert live.exists()
    past_due = live.filter(due_at__lt=timezone.now())
    assert past_due.exists()
    assert not past_due.filter(overdue=True).exists()


def test_demo_escalations_are_spread_over_partnerships_states_and_stages(seeded):
    by_partnership = dict(
        Escalation.objects.values_list("partnership__slug").annotate(n=Count("id"))
    )
    assert set(by_partnership) == {p.slug for p in Partnership.objects.all()}
    states = set(Escalation.objects.values_list("state", flat=True))
    assert {State.OPEN, State.RESOLVED, State.CLOSED} <= states
    assert Escalation.objects.filter(stage__number__gte=2).exists()


def test_demo_records_are_whole(seeded):
    for esc in Escalation.objects.prefetch_related("events").select_related("stage"):
        events = list(esc.events.all())
        assert [e.sequence for e in events] == list(range(1, esc.event_count + 1))
        assert esc.highest_stage_number == max(e.to_stage for e in events) == esc.stage.number
        stage_moves = [e for e in events if e.to_stage != e.from_stage]
        approval_stages = {s.number for s in esc.ladder.stages.all() if s.approval_required}
        for event in stage_moves:
            assert event.to_stage == event.from_stage + 1
            if event.to_stage in approval_stages:
                assert event.kind == EventKind.APPROVED
        assert esc.raising_agency_id != esc.receiving_agency_id
        assert esc.partnership in esc.raising_agency.partnerships.all()


def test_a_challenge_raised_after_seeding_gets_a_fresh_reference(seeded):
    partnership = Partnership.objects.get(slug="kirklees")
    alice = Person.objects.get(user__username="kir-school-practitioner")
    school = alice.memberships.get().agency
    csc = Agency.objects.get(name="Kirklees Children's Social Care")
    esc = OpenEscalationFactory(
        by=alice,
        child=services.ChildDetails(home_partnership=partnership, given_names="Demo"),
        raising_agency=school,
        receiving_agency=csc,
        receiving_person=None,
        details="Invented.",
        outcome_sought="Invented.",
        interim_safety="Invented.",
        initial_discussion_on=date.today(),
    )
    assert Escalation.objects.filter(reference=esc.reference).count() == 1
    assert Event.objects.filter(escalation=esc).count() == 2


def test_seeding_without_ladders_loads_them_first(db):
    seed(0)
    assert Partnership.objects.count() == 5
    assert Membership.objects.filter(role=Role.BUSINESS_MANAGER).count() == 5


def test_demo_safeguarding_leads_have_invented_mobiles_for_text_alerts(seeded):
    leads = Person.objects.filter(memberships__role=Role.SAFEGUARDING_LEAD).distinct()
    mobiles = [p.mobile for p in leads if p.mobile]
    assert mobiles and len(set(mobiles)) == len(mobiles)
    # Ofcom's range for drama: no real phone has these numbers.
    assert all(re.fullmatch(r"\+447700900\d{3}", m) for m in mobiles)
    assert (
        not Person.objects.exclude(memberships__role=Role.SAFEGUARDING_LEAD)
        .exclude(mobile="")
        .exists()
    )
