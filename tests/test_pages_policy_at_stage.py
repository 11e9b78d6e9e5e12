"""What the policy says at each stage, on the escalation page and the escalate form, each rule
with its section and words or marked as the partnership's local practice (issue 15, points
5-7); who may move it into a stage; and reminders that say what the clock measures."""

import pytest
from django.utils import timezone

from escalations import services
from escalations.models import Notice, NoticeKind
from escalations.notices.summary import notice_summary
from escalations.services import ActionRefused
from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in
from tests.personas import weaver_in_pan_cheshire


def page(client, person, esc, suffix=""):
    sign_in(client, person)
    response = client.get(f"/escalations/{esc.reference}/{suffix}")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def cheshire(db):
    """A Pan-Cheshire school (Sam practitioner, Lee line manager, Sue senior manager) and
    children's social care."""
    partnership, _school, csc, people = weaver_in_pan_cheshire()
    esc = OpenEscalationFactory(
        by=people["sam"],
        child=services.ChildDetails(home_partnership=partnership, given_names="Wren"),
        receiving_agency=csc,
        receiving_person=people["cal"],
    )
    return esc, people


def test_kirklees_stage_1_shows_the_framework_for_decision_with_its_section(client, world):
    esc = OpenEscalationFactory()
    html = page(client, world.alice, esc)
    assert "What the policy says at this stage" in html
    assert "Framework for Decision Making in" in html
    assert "Emerging disagreement: Practitioner discussion" in html
    assert "the time for the practitioners&#x27; discussion" in html


def test_pan_cheshire_step_1_measures_the_time_to_raise_it_not_to_resolve_it(client, cheshire):
    esc, people = cheshire
    html = page(client, people["sam"], esc)
    assert "1 working day: the time to raise the issue with the other agency" in html
    assert "the LSCB does not need to be informed" in html
    assert "within one working day" in html  # the quote


def test_a_local_default_shows_as_the_partnerships_local_practice(client, cheshire):
    esc, people = cheshire
    esc = services.escalate(esc, by=people["sam"], reason="No reply after the conversation.")
    html = page(client, people["sam"], esc)
    assert "Stage 2: Safeguarding Leads/Line Managers" in html
    assert "This is Pan-Cheshire Local Safeguarding Children Boards" in html
    assert "local practice." in html


def test_the_escalate_form_shows_the_next_stages_guidance_and_source(client, world):
    esc = OpenEscalationFactory()
    html = page(client, world.alice, esc, "escalate/")
    assert "What the policy says at the next stage" in html
    assert "Written confirmation of emerging disagreement" in html
    assert "to agree and record" in html  # the approval's quote


def test_only_a_senior_manager_moves_pan_cheshire_to_step_3(client, cheshire):
    """ "they must be escalated by a Senior Manager to the LSCB Board representative"."""
    esc, people = cheshire
    esc = services.escalate(esc, by=people["sam"], reason="No reply after the conversation.")
    html = page(client, people["sam"], esc)  # the escalate form itself is refused to Sam
    assert "Only a head of service / senior manager of Weaver School may move it" in html
    assert "ask Sue Senior" in html
    for person in (people["sam"], people["lee"]):
        with pytest.raises(ActionRefused, match="Only a head of service / senior manager"):
            services.escalate(esc, by=person, reason="Still unresolved.")
    esc = services.escalate(esc, by=people["sue"], reason="Still unresolved: to the Board.")
    assert esc.stage.number == 3
    assert "Who may move it to this stage" in page(client, people["sue"], esc)


def test_reminders_say_what_the_stage_clock_measures(cheshire):
    esc, people = cheshire
    notice = Notice.objects.create(
        escalation=esc,
        kind=NoticeKind.REMINDER,
        recipient=people["sam"],
        created_at=timezone.now(),
    )
    guidance = notice_summary(notice)["guidance"]
    assert "measures the time to raise the issue with the other agency" in guidance
