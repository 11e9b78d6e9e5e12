"""Who may move it into a stage (issue 15, point 5). Pan-Cheshire step 3: "they must be
escalated by a Senior Manager to the LSCB Board representative". Only a senior manager of the
raising agency sees Escalate and may escalate (the server refuses everyone else); the others
see who may, and ask them: a reason, an event in the history, and a notice through the outbox
to those people, saying what is asked and by when."""

import pytest

from escalations import services
from escalations.models import EventKind, Notice, NoticeKind
from escalations.notices.summary import notice_summary
from escalations.permissions import Act, allowed_actions
from escalations.services import ActionRefused
from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in
from tests.personas import weaver_in_pan_cheshire


@pytest.fixture
def at_step_2(db):
    """A Pan-Cheshire challenge from Weaver School at step 2 (Sam practitioner raised it; Lee
    line manager, Sue senior manager of the school; Cal answers for children's social care)."""
    partnership, _school, csc, people = weaver_in_pan_cheshire()
    esc = OpenEscalationFactory(
        by=people["sam"],
        child=services.ChildDetails(home_partnership=partnership, given_names="Wren"),
        receiving_agency=csc,
        receiving_person=people["cal"],
    )
    esc = services.escalate(esc, by=people["sam"], reason="No reply after the conversation.")
    assert esc.stage.number == 2
    return esc, people


def page(client, person, esc, suffix=""):
    sign_in(client, person)
    return client.get(f"/escalations/{esc.reference}/{suffix}")


def test_only_the_senior_manager_is_offered_escalate_and_the_server_refuses_others(
    client, at_step_2
):
    esc, people = at_step_2
    for name in ("sam", "lee"):
        html = page(client, people[name], esc).content.decode()
        assert "Escalate to the next stage" not in html
        assert "Ask them to escalate" in html
        assert "Who may move it to the next stage" in html
        assert (
            "Only a head of service / senior manager of Weaver School may move it to stage 3 "
            "(LSCB Board Members): ask Sue Senior." in html
        )
        # Server-side: the form is refused, and a posted escalation changes nothing.
        assert page(client, people[name], esc, "escalate/").status_code == 403
        response = client.post(
            f"/escalations/{esc.reference}/escalate/",
            {"revision": esc.revision, "reason": "Still unresolved."},
        )
        assert "Only a head of service / senior manager of Weaver School" in (
            response.content.decode()
        )
        with pytest.raises(ActionRefused, match="ask Sue Senior"):
            services.escalate(esc.pk, by=people[name], reason="Still unresolved.")
    esc.refresh_from_db()
    assert esc.stage.number == 2
    html = page(client, people["sue"], esc).content.decode()
    assert "Escalate to the next stage" in html
    assert "Ask them to escalate" not in html
    # The receiving side sees who may move it, and has nothing to ask.
    html = page(client, people["cal"], esc).content.decode()
    assert "ask Sue Senior" in html
    assert "Ask them to escalate" not in html


def test_asking_them_records_it_and_tells_only_those_who_may_move_it(client, at_step_2):
    esc, people = at_step_2
    form = page(client, people["sam"], esc, "ask-to-escalate/").content.decode()
    assert "Sue Senior" in form
    assert "Stage 3: LSCB Board Members" in form
    response = client.post(
        f"/escalations/{esc.reference}/ask-to-escalate/",
        {"revision": esc.revision, "reason": "Two meetings and no plan for the child."},
        follow=True,
    )
    html = response.content.decode()
    assert "Asked Sue Senior (head of service / senior manager) to move it to stage 3" in html
    assert "Asked to escalate" in html  # the history
    assert "Two meetings and no plan for the child." in html
    event = esc.events.get(kind=EventKind.ESCALATION_ASKED)
    assert event.actor == people["sam"]
    notices = Notice.objects.filter(escalation=esc, kind=NoticeKind.ESCALATION_ASKED)
    assert [n.recipient for n in notices] == [people["sue"]]
    summary = notice_summary(notices.get())
    assert summary["to_do"].startswith(
        "Escalate it to the next stage (or tell them why not) by the end of "
    )
    assert "only someone in your role may move it there" in summary["guidance"]
    esc.refresh_from_db()
    assert esc.stage.number == 2  # asking moves nothing
    # Asking again a week later tells them again; the senior manager then escalates.
    services.ask_to_escalate(esc.pk, by=people["lee"], reason="Still no plan.")
    assert Notice.objects.filter(kind=NoticeKind.ESCALATION_ASKED).count() == 2
    esc = services.escalate(esc.pk, by=people["sue"], reason="To the Board.")
    assert esc.stage.number == 3


def test_asking_needs_a_reason(client, at_step_2):
    esc, people = at_step_2
    sign_in(client, people["sam"])
    response = client.post(
        f"/escalations/{esc.reference}/ask-to-escalate/", {"revision": esc.revision, "reason": ""}
    )
    assert "Enter why it should go to the next stage" in response.content.decode()
    assert not esc.events.filter(kind=EventKind.ESCALATION_ASKED).exists()


def test_with_nobody_to_ask_it_says_whom_to_ask_and_saves_nothing(at_step_2):
    esc, people = at_step_2
    people["sue"].user.is_active = False
    people["sue"].user.save()
    with pytest.raises(ActionRefused, match="has nobody in that role in the portal"):
        services.ask_to_escalate(esc.pk, by=people["sam"], reason="Still unresolved.")
    assert not esc.events.filter(kind=EventKind.ESCALATION_ASKED).exists()
    assert not Notice.objects.filter(kind=NoticeKind.ESCALATION_ASKED).exists()


def test_the_senior_manager_and_stages_naming_nobody_have_nothing_to_ask(world, at_step_2):
    esc, people = at_step_2
    assert Act.ASK_TO_ESCALATE not in allowed_actions(people["sue"], esc)
    with pytest.raises(ActionRefused):
        services.ask_to_escalate(esc.pk, by=people["sue"], reason="Why not.")
    kirklees = OpenEscalationFactory()
    acts = allowed_actions(world.alice, kirklees)
    assert Act.ESCALATE in acts
    assert Act.ASK_TO_ESCALATE not in acts


def test_the_ask_page_says_what_it_is_for_in_its_heading(client, at_step_2):
    """Issue 17, point 13 (tests/test_pages_headings.py, whose escalations are Kirklees',
    where no stage names who moves it): the h1 says what the page is for."""
    from tests.test_pages_headings import h1_of

    esc, people = at_step_2
    response = page(client, people["sam"], esc, "ask-to-escalate/")
    assert response.status_code == 200
    assert h1_of(response.content.decode()) == "Ask them to escalate"
