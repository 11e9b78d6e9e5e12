"""Reading well (issue 17, points 13-16): question pages ask the question; an unborn baby is
named as the style guide would; Berkshire's 24-hour step is seen while it applies."""

from django.utils import timezone

from escalations import services
from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in


def h1_of(content: str) -> str:
    return content.split("<h1")[1].split("</h1>")[0]


def test_a_one_question_action_page_asks_its_question_as_its_heading(client, world):
    escalation = OpenEscalationFactory()
    sign_in(client, world.alice)
    content = client.get(f"/escalations/{escalation.reference}/withdraw/").content.decode()
    heading = h1_of(content)
    assert "Why are you withdrawing the challenge?" in heading
    assert "<label" in heading  # the question is the field's label
    assert "<title>Why are you withdrawing the challenge?" in content


def test_an_unborn_baby_is_named_by_the_mothers_initials(client, world):
    escalation = OpenEscalationFactory(
        child=services.ChildDetails(
            home_partnership=world.kirklees,
            given_names="Jane",
            family_name="Smith",
            is_unborn=True,
            date_of_birth=None,
        )
    )
    assert escalation.child.display_name == "Unborn baby (mother: JS)"
    sign_in(client, world.alice)
    content = client.get(f"/escalations/{escalation.reference}/").content.decode()
    assert "Unborn baby (mother: JS)" in h1_of(content)
    assert "Unborn child of" not in content
    home = client.get("/").content.decode()
    assert "Unborn baby (mother: JS)" in home


def raise_berkshire(world):
    return OpenEscalationFactory(
        by=world.oscar,
        child=services.ChildDetails(home_partnership=world.berkshire, given_names="Sky"),
        receiving_agency=world.constabulary,
        receiving_person=None,
        immediate_risk=True,
        initial_discussion_on=timezone.localdate(),
    )


def test_berkshires_24_hour_step_is_shown_while_it_applies(client, world):
    escalation = raise_berkshire(world)
    sign_in(client, world.oscar)
    page = f"/escalations/{escalation.reference}/"
    standing = client.get(page).content.decode().split("Where it stands")[1].split("</dl>")[0]
    assert "Step 1 of 2: Professionals attempt to resolve differences" in standing
    assert "within 1 working day" in standing
    services.advance_step(escalation.pk, by=world.oscar, note="No agreement; told my manager.")
    standing = client.get(page).content.decode().split("Where it stands")[1].split("</dl>")[0]
    assert "Step 2 of 2: Contact between the relevant line managers" in standing
    assert "within 24 hours" in standing
