"""Kirklees Appendix 4, the Child Death Overview Escalation Process (issue 15, point 11). The
protocol's text gives it only as a flow chart image, so its steps are unknown: the ladder file
declares it (title, section, transcribed: false, no steps), the loader refuses guessed or
unmarked steps, docs/policies.md says it is not yet transcribed, and Kirklees pages say the
process exists and whom to contact."""

import shutil
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from escalations import services
from policies.loading import LADDER_DIR
from policies.models import Partnership
from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in
from tests.policies.test_loading import edit, load

DOC = Path(__file__).resolve().parents[2] / "docs" / "policies.md"


@pytest.fixture
def ladder_copy(tmp_path) -> Path:
    folder = tmp_path / "ladders"
    shutil.copytree(LADDER_DIR, folder)
    return folder


def test_kirklees_declares_appendix_4_untranscribed_with_no_steps(world):
    ladder = Partnership.objects.get(slug="kirklees").current_ladder
    (pathway,) = ladder.pathways
    assert pathway["title"] == "Child Death Overview Escalation Process"
    assert pathway["policy_section"] == "Appendix 4: Child Death Overview Escalation Process"
    assert (pathway["transcribed"], pathway["steps"]) == (False, [])
    assert pathway["contact"]["name"] == "the KSCP Business Unit"


def test_the_policies_page_says_it_is_not_yet_transcribed():
    text = DOC.read_text(encoding="utf-8")
    assert (
        "**Separate process: Child Death Overview Escalation Process:** given only as a flow "
        "chart image; not yet transcribed — the KSCP is asked to supply the chart's steps"
    ) in text


def guessed_step(data):
    data["ladder"]["pathways"][0]["steps"] = [{"name": "Refer to the panel"}]


def unmarked_step(data):
    pathway = data["ladder"]["pathways"][0]
    pathway["transcribed"] = True
    pathway["steps"] = [{"name": "Refer to the panel", "read_from_chart": True}, {"name": "Meet"}]


def transcribed_without_steps(data):
    data["ladder"]["pathways"][0]["transcribed"] = True


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (
            guessed_step,
            "ladder.pathways[0].steps",
            "must be empty until the pathway is transcribed",
        ),
        (
            unmarked_step,
            "ladder.pathways[0].steps[1].read_from_chart",
            "read from the policy's chart",
        ),
        (transcribed_without_steps, "ladder.pathways[0].steps", "needs its steps"),
    ],
)
def test_the_loader_refuses_steps_not_read_from_the_chart(
    db,
    ladder_copy,
    change,
    field,
    problem,
):
    edit(ladder_copy, "kirklees", change)
    with pytest.raises(CommandError) as refused:
        load(ladder_copy)
    assert "kirklees.yaml" in str(refused.value)
    assert field in str(refused.value) and problem in str(refused.value)


def test_a_chart_read_step_by_step_loads(db, ladder_copy):
    def transcribed(data):
        pathway = data["ladder"]["pathways"][0]
        pathway["transcribed"] = True
        pathway["steps"] = [{"name": "Refer to the panel", "read_from_chart": True}]

    edit(ladder_copy, "kirklees", transcribed)
    load(ladder_copy)
    (pathway,) = Partnership.objects.get(slug="kirklees").current_ladder.pathways
    assert pathway["steps"] == [{"name": "Refer to the panel", "read_from_chart": True}]


def test_kirklees_pages_say_the_process_exists_and_whom_to_contact(client, world):
    esc = OpenEscalationFactory()
    sign_in(client, world.alice)
    page = client.get(f"/escalations/{esc.reference}/").content.decode()
    assert "A separate process: Child Death Overview Escalation Process" in page
    assert "contact the KSCP Business Unit" in page
    assert "given only as a flow chart image" in page or "only as a flow chart image" in page
    for agency in (world.school, world.csc):
        agency.partnerships.add(world.pan_cheshire)
    other = OpenEscalationFactory(
        child=services.ChildDetails(home_partnership=world.pan_cheshire, given_names="Wren")
    )
    assert (
        "Child Death Overview"
        not in client.get(f"/escalations/{other.reference}/").content.decode()
    )
