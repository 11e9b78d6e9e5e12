"""Done when (issue 15): "A practitioner, a senior manager and a business manager of each
partnership can follow a whole ladder ... and see at each stage the policy's guidance, who must
act and what their clock measures." Walks every escalation stage of every ladder file, read
from the files themselves (a new partnership's file is walked without a change here), and reads
the escalation page at each stage as the raising practitioner, their senior manager and the
partnership's business manager (who opens it once the stage brings the partnership in, SPEC
section 3, and is refused below that)."""

import html
import re
from pathlib import Path

import pytest
import yaml

from cases.models import Sector
from escalations import services
from policies.models import Partnership
from tests.factories import AgencyFactory, OpenEscalationFactory, climb
from tests.helpers import sign_in
from tests.personas import make_person

LADDERS = sorted((Path(__file__).resolve().parents[1] / "policies" / "ladders").glob("*.yaml"))


def words(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text))).strip()


def shown(client, person, esc) -> tuple[int, str]:
    sign_in(client, person)
    response = client.get(f"/escalations/{esc.reference}/")
    return response.status_code, words(response.content.decode())


def source_of(basis: dict, partnership_name: str) -> str:
    """What the page says of where a rule comes from."""
    if "local_choice" in basis:
        return f"This is {partnership_name}'s local practice."
    return f"From the policy, {words(basis['policy_section'])}:"


@pytest.mark.parametrize("path", LADDERS, ids=lambda p: p.stem)
def test_every_stage_shows_its_guidance_who_acts_and_what_its_clock_measures(client, world, path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    partnership = Partnership.objects.get(slug=data["partnership"]["slug"])
    name = partnership.name
    school = AgencyFactory(name=f"{name} Test School", partnerships=[partnership])
    csc = AgencyFactory(
        name=f"{name} Test Social Care",
        sector=Sector.CHILDRENS_SOCIAL_CARE,
        partnerships=[partnership],
    )
    slug = partnership.slug
    practitioner = make_person(f"{slug}-p", "Pia Practitioner", (school, "practitioner"))
    make_person(f"{slug}-lm", "Lou Linemanager", (school, "line_manager"))
    make_person(f"{slug}-sl", "Sol Lead", (school, "safeguarding_lead"))
    senior = make_person(f"{slug}-sm", "Sam Senior", (school, "senior_manager"))
    make_person(f"{slug}-csc", "Cy Worker", (csc, "practitioner"))
    make_person(f"{slug}-csl", "Cas Lead", (csc, "safeguarding_lead"))
    make_person(f"{slug}-csm", "Cam Senior", (csc, "senior_manager"))
    business = make_person(f"{slug}-bm", "Bea Business", (partnership, "business_manager"))
    make_person(f"{slug}-ch", "Cher Chair", (partnership, "chair"))
    esc = OpenEscalationFactory(
        by=practitioner,
        child=services.ChildDetails(home_partnership=partnership, given_names="Wren"),
        receiving_agency=csc,
        receiving_person=None,
    )
    stages = [s for s in data["ladder"]["stages"] if not s.get("after_resolution")]
    assert len(stages) >= 3
    for stage in stages:
        # Each stage reached as the policy allows: the senior manager may move it into any
        # (Pan-Cheshire step 3 names them), and approval gates are agreed by whoever is asked.
        esc = climb(esc, stage["number"], by=senior)
        assert esc.stage.number == stage["number"]
        rules = stage["rules"]
        expected = [
            f"Stage {stage['number']}: {words(stage['name'])}",
            words(stage["who"]),
            source_of(rules["who"], name),
        ]
        if stage.get("guidance"):
            expected += [words(stage["guidance"]), source_of(rules["guidance"], name)]
        limit = stage.get("time_limit")
        if limit not in (None, "none"):
            assert limit.get("measures"), f"{path.stem} stage {stage['number']}"
            expected += [words(limit["measures"]), source_of(rules["time_limit"], name)]
        readers = [practitioner, senior]
        if stage.get("brings_in_partnership") or esc.partnership_sees_record:
            readers.append(business)
        else:
            assert shown(client, business, esc)[0] == 404  # not the partnership's yet
        for person in readers:
            status, page = shown(client, person, esc)
            assert status == 200
            assert "What the policy says at this stage" in page
            for text in expected:
                assert text in page, (path.stem, stage["number"], person.full_name, text)
