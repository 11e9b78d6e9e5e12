"""Recording on the child's file (issue 15, point 9): where the policy says so, each agency
confirms it has recorded the escalation on its own file for the child, with the date and its
file reference; the escalation shows which have; those that have not are asked."""

from datetime import date

import pytest

from escalations import services
from escalations.models import ChildFileRecord, Notice, NoticeKind
from escalations.services import ActionRefused
from tests.factories import ResolvedEscalationFactory
from tests.helpers import sign_in


def test_each_agency_confirms_its_own_file_and_the_page_shows_who_has(client, world):
    esc = ResolvedEscalationFactory()
    # Those holding it on each side are asked (the notice never names the child).
    asked = set(
        Notice.objects.filter(escalation=esc, kind=NoticeKind.CHILD_FILE_DUE).values_list(
            "recipient__user__username", flat=True
        )
    )
    assert {"alice", "erin"} <= asked
    sign_in(client, world.alice)
    page = client.get(f"/escalations/{esc.reference}/").content.decode()
    assert "Recorded on the child&#x27;s file" in page or "Recorded on the child's file" in page
    assert page.count("Not yet confirmed") == 2
    with pytest.raises(ActionRefused, match="reference for the child"):
        services.record_on_child_file(
            esc, by=world.alice, recorded_on=date(2026, 11, 3), file_reference=" "
        )
    response = client.post(
        f"/escalations/{esc.reference}/child-file/",
        {
            "revision": esc.revision,
            "recorded_on-day": "3",
            "recorded_on-month": "11",
            "recorded_on-year": "2026",
            "file_reference": "MIS-4471",
        },
    )
    assert response.status_code == 302
    record = ChildFileRecord.objects.get()
    assert (record.agency, record.file_reference, record.recorded_on) == (
        world.school,
        "MIS-4471",
        date(2026, 11, 3),
    )
    page = client.get(f"/escalations/{esc.reference}/").content.decode()
    assert "reference MIS-4471" in page and page.count("Not yet confirmed") == 1


def test_a_partnership_whose_policy_is_silent_asks_for_no_confirmation(world):
    from cases.models import Sector
    from tests.factories import AgencyFactory, PartnershipFactory
    from tests.personas import make_person

    playgroup = PartnershipFactory(slug="playgroup")
    setting = AgencyFactory(name="Little Acorns", partnerships=[playgroup])
    other = AgencyFactory(
        name="Acorn CSC", sector=Sector.CHILDRENS_SOCIAL_CARE, partnerships=[playgroup]
    )
    worker = make_person("acorn", "Ash Acorn", (setting, "practitioner"))
    esc = ResolvedEscalationFactory(
        by=worker,
        child=services.ChildDetails(home_partnership=playgroup, given_names="Wren"),
        receiving_agency=other,
        receiving_person=None,
        resolved_by=worker,
    )
    assert not Notice.objects.filter(escalation=esc, kind=NoticeKind.CHILD_FILE_DUE).exists()
    with pytest.raises(ActionRefused):
        services.record_on_child_file(
            esc, by=worker, recorded_on=date(2026, 11, 3), file_reference="A-1"
        )
