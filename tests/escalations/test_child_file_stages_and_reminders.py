"""The child's file at every stage, and reminders (issue 15, point 9). Kirklees: "At all
stages, a clear record of the progress of any disagreement should be kept by all agencies
involved", so each agency confirms at each stage, not only at resolution; the page shows per
agency which have confirmed, for which stage. Agencies that have not confirmed are reminded by
the deadline sweep every 5 working days, at most 3 times (a local choice in the ladder files),
and a sweep run twice sends nothing twice."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from escalations import services
from escalations.deadlines import sweep
from escalations.models import ChildFileRecord, Escalation, Notice, NoticeKind
from escalations.notices.summary import notice_summary
from escalations.permissions import Act, allowed_actions
from policies.calendar import local_zone
from tests.factories import (
    EscalationAtStageFactory,
    OpenEscalationFactory,
    ResolvedEscalationFactory,
)
from tests.helpers import sign_in

# Monday 2 November 2026, 10:00: the working days after it fall on plain weekdays.
MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=local_zone())


def working_days_later(n: int) -> datetime:
    day = MONDAY
    while n:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def reminders() -> list[tuple[str, str]]:
    return sorted(
        Notice.objects.filter(kind=NoticeKind.CHILD_FILE_REMINDER).values_list(
            "recipient__user__username", "key"
        )
    )


def confirm(esc, person, reference="MIS-1"):
    return services.record_on_child_file(
        esc.pk, by=person, recorded_on=date(2026, 11, 2), file_reference=reference
    )


def test_kirklees_asks_at_each_stage_and_the_page_shows_which_agency_has_for_which(client, world):
    esc = EscalationAtStageFactory(stage=3)
    assert Act.RECORD_CHILD_FILE in allowed_actions(world.alice, esc)
    sign_in(client, world.alice)
    page = client.get(f"/escalations/{esc.reference}/").content.decode()
    assert "Confirm it is recorded on your child" in page
    assert page.count("Not yet confirmed</strong> Stage 3") == 2
    response = client.post(
        f"/escalations/{esc.reference}/child-file/",
        {
            "revision": esc.revision,
            "recorded_on-day": "2",
            "recorded_on-month": "11",
            "recorded_on-year": "2026",
            "file_reference": "MIS-4471",
        },
    )
    assert response.status_code == 302
    record = ChildFileRecord.objects.get()
    assert (record.agency, record.stage_number) == (world.school, 3)
    page = client.get(f"/escalations/{esc.reference}/").content.decode()
    assert "Recorded</strong> Stage 3: on 2 November 2026, reference MIS-4471" in page
    assert page.count("Not yet confirmed</strong> Stage 3") == 1  # the social care's
    # Resolved: the outcome is a confirmation of its own; stage 3's stays shown.
    esc = services.resolve(
        esc.pk,
        by=esc.holder,
        category="upheld",
        summary="Agreed a joint visit.",
        raiser_satisfied=True,
        actions=[],
    )
    page = client.get(f"/escalations/{esc.reference}/").content.decode()
    assert "Recorded</strong> Stage 3" in page
    assert page.count("Not yet confirmed</strong> The outcome") == 2


def test_where_the_policy_asks_only_at_the_end_an_open_escalation_asks_nothing(world):
    esc = OpenEscalationFactory(
        by=world.oscar,
        child=services.ChildDetails(home_partnership=world.berkshire, given_names="Sky"),
        receiving_agency=world.constabulary,
        receiving_person=None,
    )
    assert esc.partnership.child_file_record and not esc.partnership.child_file_at_each_stage
    assert Act.RECORD_CHILD_FILE not in allowed_actions(world.oscar, esc)


def test_after_resolution_those_not_confirmed_are_reminded_every_5_working_days_3_times(world):
    esc = ResolvedEscalationFactory()
    Escalation.objects.filter(pk=esc.pk).update(resolved_on=MONDAY)
    sweep(working_days_later(4))
    assert reminders() == []
    sweep(working_days_later(5))
    sweep(working_days_later(5))  # run twice: nothing twice
    assert [who for who, _ in reminders()] == ["alice", "erin"]
    summary = notice_summary(Notice.objects.filter(kind=NoticeKind.CHILD_FILE_REMINDER).first())
    assert "has not yet confirmed" in summary["guidance"]
    assert esc.child.display_name not in str(summary)  # never the child
    confirm(esc, world.alice)  # the school confirms; social care does not
    for n in (10, 10, 15, 20, 25):
        sweep(working_days_later(n))
    assert [who for who, _ in reminders()] == ["alice", "erin", "erin", "erin"]


def test_at_each_stage_the_stage_not_confirmed_is_reminded_where_the_policy_says(world):
    kirklees = OpenEscalationFactory()
    Escalation.objects.filter(pk=kirklees.pk).update(stage_started_at=MONDAY)
    pan_cheshire = OpenEscalationFactory(
        child=services.ChildDetails(home_partnership=world.pan_cheshire, given_names="Wren"),
    )
    Escalation.objects.filter(pk=pan_cheshire.pk).update(stage_started_at=MONDAY)
    confirm(kirklees, world.erin)
    sweep(working_days_later(5))
    sweep(working_days_later(5))
    told = reminders()
    assert [who for who, _ in told] == ["alice"]  # the school's, for stage 1 only
    assert told[0][1].endswith(":childfile:s1:r1")
    assert not Notice.objects.filter(
        escalation=pan_cheshire, kind=NoticeKind.CHILD_FILE_REMINDER
    ).exists()


@pytest.fixture(autouse=True)
def _pan_cheshire_agencies(world):
    for agency in (world.school, world.csc):
        agency.partnerships.add(world.pan_cheshire)


def test_reminders_never_come_before_the_interval(world):
    esc = ResolvedEscalationFactory()
    Escalation.objects.filter(pk=esc.pk).update(resolved_on=timezone.now())
    sweep()
    assert reminders() == []
