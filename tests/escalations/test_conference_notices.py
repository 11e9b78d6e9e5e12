"""Kirklees conference concerns (Appendix 3) go to the agency's safeguarding lead, and the
response goes back to the chair, through the notice outbox and relay: written with the record,
sent once, in working hours, shown only to people who may see the concern, and no email
carries the family identifier or the details."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from cases.models import Membership
from escalations import notifications
from escalations.conference import ConferenceReport, services
from escalations.context_processors import notices as notices_context
from escalations.context_processors import unread_count
from escalations.models import Notice, NoticeKind
from policies.models import Role
from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in
from tests.personas import make_person

LONDON = ZoneInfo("Europe/London")
SATURDAY_EVENING = datetime(2026, 11, 7, 20, 0, tzinfo=LONDON)
MONDAY_MORNING = datetime(2026, 11, 9, 8, 0, tzinfo=LONDON)
TUESDAY_MORNING = datetime(2026, 11, 10, 9, 0, tzinfo=LONDON)

# Invented, and unusual enough that finding one in an email can only mean it leaked.
FAMILY = "Quarrendell-Vox family"
DETAILS = "Zephyrine report missing; the Brackwater school nurse was not told"
REPRESENTATIVE = "Ottoline Fairweather-Kipp"


def record(world, agency=None, moment=SATURDAY_EVENING):
    with time_machine.travel(moment, tick=False):
        return services.record_conference_concern(
            by=world.erin,
            partnership=world.kirklees,
            meeting_on=date(2026, 11, 2),
            family_identifier=FAMILY,
            chair_name="Erin Earl",
            agency=agency or world.school,
            agency_representative=REPRESENTATIVE,
            reason="report_missing",
            details=DETAILS,
        )


def relay_at(moment, **kwargs):
    with time_machine.travel(moment, tick=False):
        return notifications.relay(**kwargs)


@pytest.fixture
def second_lead(world):
    """Meadow School has two safeguarding leads: Carol and Cora."""
    return make_person("cora", "Cora Crane", (world.school, Role.SAFEGUARDING_LEAD, "Deputy DSL"))


def test_recording_a_concern_writes_one_notice_per_lead_with_the_record(world, second_lead):
    with CaptureQueriesContext(connection) as queries:
        report = record(world)
    notices = Notice.objects.filter(conference_report=report)
    assert sorted(notices.values_list("recipient__full_name", flat=True)) == [
        "Carol Cole",
        "Cora Crane",
    ]
    assert set(notices.values_list("kind", flat=True)) == {NoticeKind.CONFERENCE_CONCERN}
    assert not notices.filter(urgent=True).exists()
    # Written in one transaction with the record: both inserts inside the same savepoint.
    sql = [q["sql"] for q in queries.captured_queries]
    report_insert = next(i for i, s in enumerate(sql) if "INSERT" in s and "conferencereport" in s)
    notice_insert = next(i for i, s in enumerate(sql) if "INSERT" in s and "notice" in s)
    savepoint = max(i for i, s in enumerate(sql[:report_insert]) if s.startswith("SAVEPOINT"))
    release = next(i for i, s in enumerate(sql) if i > savepoint and s.startswith("RELEASE"))
    assert savepoint < report_insert < notice_insert < release


def test_the_relay_sends_a_concern_once_in_working_hours(world, second_lead):
    record(world)
    assert relay_at(SATURDAY_EVENING).sent == 0  # not urgent: waits for working hours
    assert relay_at(MONDAY_MORNING).sent == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["carol@example.invalid", "cora@example.invalid"]
    assert relay_at(MONDAY_MORNING).sent == 0
    assert relay_at(TUESDAY_MORNING).sent == 0
    assert len(mail.outbox) == 2
    report = ConferenceReport.objects.get()
    assert mail.outbox[0].subject == (
        f"Conference concern to respond to: Conference concern {report.pk}"
    )
    assert f"http://127.0.0.1:8000/conference/{report.pk}/" in mail.outbox[0].body


def test_writing_a_concern_notice_again_is_a_no_op(world):
    report = record(world)
    services.notify_conference(report, NoticeKind.CONFERENCE_CONCERN, [world.carol])
    assert Notice.objects.filter(conference_report=report).count() == 1


def test_the_response_goes_back_to_the_chair(world):
    report = record(world)
    relay_at(MONDAY_MORNING)
    with time_machine.travel(MONDAY_MORNING, tick=False):
        services.respond_to_conference_concern(
            report, by=world.carol, summary="Reports now go a week ahead."
        )
    notice = Notice.objects.get(kind=NoticeKind.CONFERENCE_RESPONSE)
    assert (notice.recipient, notice.conference_report) == (world.erin, report)
    assert relay_at(MONDAY_MORNING).sent == 1
    assert mail.outbox[-1].to == ["erin@example.invalid"]
    assert f"/conference/{report.pk}/" in mail.outbox[-1].body
    assert "Reports now go a week ahead" not in mail.outbox[-1].body


def test_a_lead_who_takes_a_daily_digest_gets_the_concern_in_it(world):
    world.carol.daily_digest = True
    world.carol.save()
    report = record(world)
    assert relay_at(MONDAY_MORNING).sent == 0
    with time_machine.travel(MONDAY_MORNING, tick=False):
        assert notifications.send_digests().sent == 1
    digest = mail.outbox[-1]
    assert digest.to == ["carol@example.invalid"]
    assert f"Conference concern to respond to: Conference concern {report.pk}\n" in digest.body
    assert "()" not in digest.body


def test_no_email_carries_the_family_identifier_or_the_details(world):
    world.erin.daily_digest = True
    world.erin.save()
    report = record(world)
    with time_machine.travel(MONDAY_MORNING, tick=False):
        services.respond_to_conference_concern(report, by=world.carol, summary="Seen to.")
    relay_at(MONDAY_MORNING)
    with time_machine.travel(MONDAY_MORNING, tick=False):
        notifications.send_digests()
    assert [m.to for m in mail.outbox] == [["carol@example.invalid"], ["erin@example.invalid"]]
    for message in mail.outbox:
        whole = message.message().as_string() + "".join(a[0] for a in message.alternatives)
        for canary in ("Quarrendell", "Zephyrine", "Brackwater", "Ottoline", "Fairweather"):
            assert canary.lower() not in whole.lower(), (canary, message.subject)
        assert f"/conference/{report.pk}/" in whole


def test_an_agency_without_a_safeguarding_lead_tells_its_managers_and_says_so(world, client):
    # Kirklees Health has only Charlie, a practitioner: give it a head of service and a manager.
    hana = make_person("hana", "Hana Hale", (world.health, Role.SENIOR_MANAGER, "Head of Health"))
    lee = make_person("lee", "Lee Lowe", (world.health, Role.LINE_MANAGER, "Team Leader"))
    report = record(world, agency=world.health)
    notices = Notice.objects.filter(conference_report=report)
    assert sorted(n.recipient.full_name for n in notices) == ["Hana Hale", "Lee Lowe"]
    assert {n.kind for n in notices} == {NoticeKind.CONFERENCE_CONCERN_NO_LEAD}
    relay_at(MONDAY_MORNING)
    assert "no active safeguarding lead" in mail.outbox[0].body
    assert world.charlie.notices.count() == 0
    # With no lead to answer, the managers it went to may answer it.
    sign_in(client, lee)
    page = client.get("/notifications/").content.decode()
    assert "no safeguarding lead" in page and f'href="/conference/{report.pk}/"' in page
    client.post(f"/conference/{report.pk}/", {"summary": "Our team will attend from now on."})
    report.refresh_from_db()
    assert report.response.responded_by == lee
    assert hana.notices.count() == 1


def test_an_agency_with_nobody_to_tell_cannot_be_sent_a_concern(world, client):
    sign_in(client, world.erin)
    response = client.post(
        "/conference/new/",
        {
            "meeting_on-day": "6",
            "meeting_on-month": "11",
            "meeting_on-year": "2026",
            "family_identifier": FAMILY,
            "chair_name": "Erin Earl",
            "agency_representative": "",
            "reason": "non_attendance",
            "details": DETAILS,
            "agency": world.health.pk,  # Charlie the practitioner only
        },
    )
    assert response.status_code == 200
    assert "Kirklees Health has no safeguarding lead or manager" in response.content.decode()
    assert not ConferenceReport.objects.exists()
    assert not Notice.objects.exists()


def test_a_deactivated_lead_is_not_told_and_the_managers_are_instead(world):
    world.carol.user.is_active = False
    world.carol.user.save()
    report = record(world)
    assert sorted(n.recipient.full_name for n in report.notices.all()) == [
        "Bob Baker",
        "Dan Dale",
    ]


def test_the_chair_is_told_who_it_went_to(world, client):
    sign_in(client, world.erin)
    response = client.post(
        "/conference/new/",
        {
            "meeting_on-day": "6",
            "meeting_on-month": "11",
            "meeting_on-year": "2026",
            "family_identifier": FAMILY,
            "chair_name": "Erin Earl",
            "agency_representative": "",
            "reason": "non_attendance",
            "details": DETAILS,
            "agency": world.school.pk,
        },
        follow=True,
    )
    assert "Sent to the safeguarding lead of Meadow School: Carol Cole" in response.content.decode()


# --- the portal ----------------------------------------------------------------------------


def test_the_lead_sees_the_concern_on_the_notifications_page_and_in_the_header(world, client):
    report = record(world)
    OpenEscalationFactory()  # Carol is told nothing of it; Alice's challenge is in the mix
    sign_in(client, world.carol)
    page = client.get("/notifications/").content.decode()
    assert f'href="/conference/{report.pk}/">Conference concern {report.pk}</a>' in page
    assert "1 unread" in page
    assert FAMILY not in page and DETAILS not in page
    request = RequestFactory().get("/")
    request.user = world.carol.user
    assert int(str(notices_context(request)["unread_notice_count"])) == 1
    notice = Notice.objects.get(recipient=world.carol)
    assert client.post(f"/notifications/{notice.pk}/read/").status_code == 302
    assert "Nothing unread" in client.get("/notifications/").content.decode()


def test_another_agencys_lead_sees_nothing(world, client):
    report = record(world)
    for person in (world.grace, world.pat, world.alice, world.charlie):
        assert not Notice.objects.filter(recipient=person).exists()
        sign_in(client, person)
        assert "You have no notifications." in client.get("/notifications/").content.decode()
        assert client.get(f"/conference/{report.pk}/").status_code == 404
    notice = Notice.objects.get(recipient=world.carol)
    sign_in(client, world.grace)
    assert client.post(f"/notifications/{notice.pk}/read/").status_code == 404


def test_a_lead_who_leaves_the_agency_no_longer_sees_its_concern_notice(world, client):
    report = record(world)
    # Moved to Kirklees Health as the admin's form saves a role (a queryset update would
    # bypass the notices following access, ADR 0028; no part of the portal does one).
    for membership in Membership.objects.filter(person=world.carol):
        membership.agency = world.health
        membership.save()
    sign_in(client, world.carol)
    page = client.get("/notifications/").content.decode()
    assert f"/conference/{report.pk}/" not in page and "Nothing unread" in page


def test_the_header_count_is_one_query_with_both_kinds_of_notice(world):
    record(world)
    OpenEscalationFactory(immediate_risk=True)  # an alert for Carol, the school's lead
    user = world.carol.user
    unread_count(user)  # loads the person and memberships once, as a request does
    with CaptureQueriesContext(connection) as queries:
        assert unread_count(user) == 2
    assert len(queries) == 1


def test_the_notifications_page_stays_within_its_query_budget_with_concerns(
    world, client, django_assert_max_num_queries
):
    for day in (2, 3):
        with time_machine.travel(datetime(2026, 11, day, 10, tzinfo=LONDON), tick=False):
            OpenEscalationFactory(initial_discussion_on=date(2026, 11, day), immediate_risk=True)
            record(world, moment=datetime(2026, 11, day, 11, tzinfo=LONDON))
    sign_in(client, world.carol)
    with django_assert_max_num_queries(13):
        response = client.get("/notifications/")
    page = response.content.decode()
    assert "4 unread" in page
    for report in ConferenceReport.objects.all():
        assert f'href="/conference/{report.pk}/">Conference concern {report.pk}</a>' in page
