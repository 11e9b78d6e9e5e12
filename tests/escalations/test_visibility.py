"""Who sees which escalation (SPEC section 3): need to know, through visible_to only."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from escalations import services
from escalations.models import Escalation
from policies.models import Role
from tests.factories import (
    ClosedEscalationFactory,
    DraftEscalationFactory,
    EscalationAtStage2Factory,
    OpenEscalationFactory,
    WithdrawnEscalationFactory,
    climb,
)
from tests.personas import make_person

PEOPLE = [
    "alice",
    "bob",
    "carol",
    "dan",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "kim",
    "charlie",
    "mallory",
    "oscar",
    "pat",
    "robin",
    "quinn",
    "uma",
]
SCHOOL_SIDE = {"alice", "bob", "carol", "dan"}
CSC_SIDE = {"erin", "frank", "grace", "heidi"}
KIRKLEES_PARTNERSHIP = {"ivan", "judy", "kim"}


@pytest.fixture
def people(world):
    named = {name: getattr(world, name) for name in PEOPLE if hasattr(world, name)}
    named["quinn"] = make_person("quinn", "Quinn Quill", (world.school, Role.PRACTITIONER))
    named["uma"] = make_person("uma", "Uma Urwin", (world.csc, Role.PRACTITIONER))
    return named


def who_sees(people, esc) -> set[str]:
    return {
        name
        for name, person in people.items()
        if Escalation.objects.visible_to(person.user).filter(pk=esc.pk).exists()
    }


def raise_berkshire(world, **overrides):
    """Oscar's challenge (Berkshire School) to the Shared Constabulary about a Berkshire child."""
    fields = {
        "by": world.oscar,
        "child": services.ChildDetails(home_partnership=world.berkshire, given_names="Sky"),
        "receiving_agency": world.constabulary,
        "receiving_person": None,
        "natures": ["information_sharing"],
        "details": "Police did not share the strategy discussion outcome.",
        "outcome_sought": "The outcome is shared with school.",
        "interim_safety": "School DSL checks in daily.",
        "initial_discussion_on": timezone.localdate(),
    }
    return OpenEscalationFactory(**fields | overrides)


def test_before_the_partnership_stage_only_the_two_agencies_see_it(world, people):
    esc = OpenEscalationFactory()
    # Quinn and Uma work in the two agencies but take no part; practitioners see only their own.
    assert who_sees(people, esc) == SCHOOL_SIDE | CSC_SIDE


def test_at_the_partnership_stage_the_partnership_sees_the_record(world, people):
    esc = EscalationAtStage2Factory()
    for stage in (3, 4):
        esc = climb(esc, stage)
        assert who_sees(people, esc) == SCHOOL_SIDE | CSC_SIDE, stage
    esc = climb(esc, 5)
    assert who_sees(people, esc) == SCHOOL_SIDE | CSC_SIDE | KIRKLEES_PARTNERSHIP
    # Resolving does not take the record back from the partnership.
    services.resolve(
        esc, by=world.dan, category="upheld", summary="Reassessing.", raiser_satisfied=True
    )
    assert who_sees(people, esc) == SCHOOL_SIDE | CSC_SIDE | KIRKLEES_PARTNERSHIP


def test_sharing_with_the_partnership_shows_it_to_that_partnership_only(world, people):
    esc = OpenEscalationFactory()
    services.share_with_partnership(esc, by=world.carol, reason="A pattern with CSC.")
    assert who_sees(people, esc) == SCHOOL_SIDE | CSC_SIDE | KIRKLEES_PARTNERSHIP
    assert "mallory" not in who_sees(people, esc)


def test_a_draft_is_seen_by_its_raiser_alone(world, people):
    esc = DraftEscalationFactory()
    assert who_sees(people, esc) == {"alice"}


def test_withdrawn_and_closed_escalations_stay_visible_to_their_parties(world, people):
    assert who_sees(people, WithdrawnEscalationFactory()) == SCHOOL_SIDE | CSC_SIDE
    assert who_sees(people, ClosedEscalationFactory()) == SCHOOL_SIDE | CSC_SIDE


def test_a_person_added_to_it_sees_it(world, people):
    esc = OpenEscalationFactory()
    services.add_participant(esc, by=world.bob, person=world.charlie, reason="Health visitor.")
    services.add_participant(esc, by=world.frank, person=people["uma"], reason="Duty worker.")
    assert who_sees(people, esc) == SCHOOL_SIDE | CSC_SIDE | {"charlie", "uma"}


def test_the_holder_sees_it_even_from_outside_the_agencies(world, people):
    esc = OpenEscalationFactory(immediate_risk=True, start_stage_number=6)
    assert esc.holder == world.ivan
    assert who_sees(people, esc) == SCHOOL_SIDE | CSC_SIDE | KIRKLEES_PARTNERSHIP


def test_an_agency_in_two_partnerships_sees_its_own_escalations_in_both(world, people):
    kirklees = OpenEscalationFactory(receiving_agency=world.constabulary, receiving_person=None)
    berkshire = raise_berkshire(world)
    school_vs_csc = OpenEscalationFactory()
    assert who_sees(people, kirklees) == SCHOOL_SIDE | {"pat"}
    # Berkshire's business manager does not see it before its stage 4.
    assert who_sees(people, berkshire) == {"oscar", "pat"}
    assert "pat" not in who_sees(people, school_vs_csc)


def test_another_partnership_sees_nothing_even_at_its_own_partnership_stage(world, people):
    esc = OpenEscalationFactory(immediate_risk=True, start_stage_number=5)
    assert "mallory" not in who_sees(people, esc)
    berkshire = raise_berkshire(world, immediate_risk=True, start_stage_number=4)
    assert who_sees(people, berkshire) == {"oscar", "pat", "mallory"}


def test_the_one_person_group_sees_its_own_challenge_and_nothing_else(world, people):
    own = OpenEscalationFactory(by=world.robin, raising_agency=world.smallsteps)
    other = OpenEscalationFactory()
    assert who_sees(people, own) == {"robin"} | CSC_SIDE
    assert "robin" not in who_sees(people, other)


def test_a_deactivated_person_sees_nothing(world, people):
    esc = OpenEscalationFactory()
    world.carol.user.is_active = False
    world.carol.user.save()
    assert not Escalation.objects.visible_to(world.carol.user).filter(pk=esc.pk).exists()


def test_users_without_a_person_see_nothing(world):
    OpenEscalationFactory()
    admin = get_user_model().objects.create_superuser("root", "root@example.invalid", "x" * 16)
    assert Escalation.objects.visible_to(admin).count() == 0
    assert Escalation.objects.visible_to(AnonymousUser()).count() == 0
    assert Escalation.objects.visible_to(None).count() == 0


def test_visible_to_is_one_query_after_the_person_is_known(world, django_assert_max_num_queries):
    for _ in range(3):
        OpenEscalationFactory()
    user = get_user_model().objects.get(pk=world.carol.user.pk)
    with django_assert_max_num_queries(3):  # the person, their memberships, the escalations
        assert len(list(Escalation.objects.visible_to(user))) == 3
