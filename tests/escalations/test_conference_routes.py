"""Conference concerns are ladder data (ladder.conference_concerns in a partnership's file):
who records them, who they go to and who stands in come from the file, so another
partnership's file can add the route, a file can drop it, and no code names a partnership."""

import re
import shutil
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from cases.models import Agency, Sector
from escalations.conference import services
from escalations.models import ConferenceReport, Notice, NoticeKind
from policies.loading import LADDER_DIR, LadderFileError, parse_ladder_file
from policies.models import Partnership, Role
from tests.helpers import sign_in
from tests.personas import make_person

CONFERENCE_CODE = Path(services.__file__).parent


@pytest.fixture
def ladder_copy(tmp_path) -> Path:
    folder = tmp_path / "ladders"
    shutil.copytree(LADDER_DIR, folder)
    yield folder
    # The database goes back to the shipped files after the test: so must the cached sectors.
    services.forget_recorder_sectors()


def edit(folder: Path, slug: str, change) -> None:
    path = folder / f"{slug}.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def load(folder: Path) -> None:
    call_command("load_policies", "--dir", str(folder), stdout=StringIO())


def kirklees_route() -> dict:
    return yaml.safe_load((LADDER_DIR / "kirklees.yaml").read_text())["ladder"][
        "conference_concerns"
    ]


def test_only_kirklees_file_gives_a_route_and_it_cites_appendix_3(world):
    routes = {p.slug: services.route_for(p) for p in Partnership.objects.all()}
    assert {slug for slug, route in routes.items() if route} == {"kirklees"}
    route = routes["kirklees"]
    assert route.source == "Appendix 3: Child Protection Case Conference escalation"
    assert route.recipient_roles == (Role.SAFEGUARDING_LEAD,)
    assert route.recipient_rule == "policy"
    assert (route.recorder_sectors, route.recorder_rule) == (
        (Sector.CHILDRENS_SOCIAL_CARE,),
        "local",
    )
    assert route.stand_in_rule == "local"


def test_no_partnership_is_named_in_the_conference_code():
    slugs = [path.stem for path in LADDER_DIR.glob("*.yaml")]
    for path in CONFERENCE_CODE.glob("*.py"):
        text = path.read_text().lower()
        for slug in slugs:
            assert not re.search(rf"[\"']{re.escape(slug)}[\"']", text), (path.name, slug)


def test_a_route_in_another_partnerships_file_lets_its_chairs_record_there(
    client, world, ladder_copy
):
    csc = Agency.objects.create(
        name="Berkshire Children's Services", sector=Sector.CHILDRENS_SOCIAL_CARE
    )
    csc.partnerships.set([world.berkshire])
    chair = make_person("quinn", "Quinn Quail", (csc, Role.PRACTITIONER, "Conference chair"))
    sign_in(client, chair)
    assert client.get("/conference/new/").status_code == 403
    assert "Record a conference concern" not in client.get("/conference/").content.decode()

    route = kirklees_route() | {"source": "Section 9: Conference escalation"}
    edit(ladder_copy, "berkshire", lambda data: data["ladder"].update(conference_concerns=route))
    load(ladder_copy)

    assert 'href="/conference/"' in client.get("/").content.decode()
    assert "Record a conference concern" in client.get("/conference/").content.decode()
    page = client.get("/conference/new/").content.decode()
    assert "Section 9: Conference escalation" in page
    response = client.post(
        "/conference/new/",
        {
            "meeting_on-day": "2",
            "meeting_on-month": "11",
            "meeting_on-year": "2026",
            "family_identifier": "B family",
            "chair_name": "Quinn Quail",
            "agency": str(world.constabulary.pk),
            "reason": "non_attendance",
            "details": "Nobody came.",
        },
    )
    assert response.status_code == 302
    report = ConferenceReport.objects.get()
    assert report.partnership == world.berkshire
    told = Notice.objects.filter(conference_report=report)
    assert [(n.recipient, n.kind) for n in told] == [(world.pat, NoticeKind.CONFERENCE_CONCERN)]


def test_a_file_that_drops_the_route_stops_new_concerns(client, world, ladder_copy):
    sign_in(client, world.erin)  # a practitioner in Northfold Children's Social Care
    assert client.get("/conference/new/").status_code == 200
    assert 'href="/conference/"' in client.get("/").content.decode()
    edit(ladder_copy, "kirklees", lambda data: data["ladder"].pop("conference_concerns"))
    load(ladder_copy)
    assert services.route_for(world.kirklees) is None
    assert client.get("/conference/new/").status_code == 403
    assert 'href="/conference/"' not in client.get("/").content.decode()
    # A safeguarding lead still sees the concerns already sent to their agency.
    sign_in(client, world.grace)
    assert client.get("/conference/").status_code == 200


def test_the_navigation_offers_concerns_to_recorders_and_agency_managers_only(client, world):
    for person, shown in ((world.erin, True), (world.grace, True), (world.alice, False)):
        sign_in(client, person)
        assert ('href="/conference/"' in client.get("/").content.decode()) is shown, person


def test_the_roles_it_goes_to_come_from_the_file(world, ladder_copy):
    def to_senior_managers(data):
        data["ladder"]["conference_concerns"]["sent_to"]["roles"] = ["senior_manager"]

    edit(ladder_copy, "kirklees", to_senior_managers)
    load(ladder_copy)
    report = services.record_conference_concern(
        by=world.erin,
        partnership=world.kirklees,
        meeting_on=date(2026, 11, 2),
        family_identifier="T family",
        chair_name="Erin Earl",
        agency=world.school,
        reason="report_late",
        details="The report came after the conference.",
    )
    told = Notice.objects.filter(conference_report=report)
    assert {(n.recipient, n.kind) for n in told} == {(world.dan, NoticeKind.CONFERENCE_CONCERN)}
    assert services.may_respond_to_conference_concern(world.dan, report)
    assert not services.may_respond_to_conference_concern(world.carol, report)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r["sent_to"].update(roles=["headteacher"]), "conference_concerns.sent_to.roles"),
        (
            lambda r: r["recorded_by"].update(source="usual"),
            "conference_concerns.recorded_by.source",
        ),
        (lambda r: r["recorded_by"].update(sectors=[]), "conference_concerns.recorded_by.sectors"),
        (lambda r: r.pop("source"), "conference_concerns.source"),
    ],
)
def test_a_bad_route_names_its_field_and_loads_nothing(ladder_copy, change, field):
    edit(ladder_copy, "kirklees", lambda data: change(data["ladder"]["conference_concerns"]))
    with pytest.raises(LadderFileError, match=re.escape(field)):
        parse_ladder_file(ladder_copy / "kirklees.yaml")


def test_a_misspelt_sector_is_refused_by_load_policies_and_nothing_changes(world, ladder_copy):
    def misspelt(data):
        data["ladder"]["conference_concerns"]["recorded_by"]["sectors"] = ["childrens_socialcare"]

    edit(ladder_copy, "kirklees", misspelt)
    versions = world.kirklees.ladders.count()
    with pytest.raises(CommandError, match="unknown sector childrens_socialcare"):
        load(ladder_copy)
    assert world.kirklees.ladders.count() == versions
