"""Notices by email (working hours, urgent at once, digests, bounded retries, nothing about the
child) and in the portal (the notifications page and the header count)."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.template.loader import render_to_string
from django.test import RequestFactory

from escalations import deadlines, notifications, services
from escalations.context_processors import notices as notices_context
from escalations.models import Notice, NoticeKind
from tests.factories import EscalationAtStage2Factory, OpenEscalationFactory
from tests.helpers import sign_in

LONDON = ZoneInfo("Europe/London")
SATURDAY_EVENING = datetime(2026, 11, 7, 20, 0, tzinfo=LONDON)
MONDAY_EARLY = datetime(2026, 11, 9, 7, 59, tzinfo=LONDON)
MONDAY_MORNING = datetime(2026, 11, 9, 8, 0, tzinfo=LONDON)


def relay_at(moment, **kwargs):
    with time_machine.travel(moment, tick=False):
        return notifications.relay(**kwargs)


def raise_urgent(world, moment):
    with time_machine.travel(moment, tick=False):
        return OpenEscalationFactory(
            immediate_risk=True, initial_discussion_on=moment.date(), start_stage_number=1
        )


def recipients(outbox) -> list[str]:
    return sorted(address for message in outbox for address in message.to)


def test_urgent_alerts_go_at_once_and_others_wait_for_working_hours(world):
    raise_urgent(world, SATURDAY_EVENING)
    assert relay_at(SATURDAY_EVENING).sent == 1
    assert recipients(mail.outbox) == ["carol@example.invalid"]  # the safeguarding lead
    assert mail.outbox[0].subject.startswith("URGENT: Immediate risk alert")
    assert relay_at(MONDAY_EARLY).sent == 0
    assert relay_at(MONDAY_MORNING).sent == 2
    assert recipients(mail.outbox[1:]) == ["alice@example.invalid", "erin@example.invalid"]
    assert relay_at(MONDAY_MORNING).sent == 0
    assert not Notice.objects.filter(emailed_at__isnull=True).exists()


def test_no_emails_on_a_partnership_closure_day_or_after_hours(world, settings):
    raise_urgent(world, SATURDAY_EVENING)
    relay_at(SATURDAY_EVENING)
    deadlines.add_closure_day(world.kirklees, date(2026, 11, 9), by=None, reason="Closed")
    assert relay_at(datetime(2026, 11, 9, 10, tzinfo=LONDON)).sent == 0
    assert relay_at(datetime(2026, 11, 10, 18, 0, tzinfo=LONDON)).sent == 0
    settings.NOTIFY_START = settings.NOTIFY_START.replace(hour=9)
    assert relay_at(datetime(2026, 11, 10, 8, 30, tzinfo=LONDON)).sent == 0
    assert relay_at(datetime(2026, 11, 10, 9, 0, tzinfo=LONDON)).sent >= 2


def test_a_person_who_chose_a_daily_digest_gets_one_email_a_day(world):
    world.alice.daily_digest = True
    world.alice.save()
    world.carol.daily_digest = True
    world.carol.save()
    raise_urgent(world, SATURDAY_EVENING)
    with time_machine.travel(SATURDAY_EVENING, tick=False):
        OpenEscalationFactory(initial_discussion_on=date(2026, 11, 6))
    # The urgent alert still goes to Carol at once; Alice's notices wait for her digest.
    assert relay_at(SATURDAY_EVENING).sent == 1
    assert relay_at(MONDAY_MORNING).sent == 2  # Erin's two, one by one
    assert "alice@example.invalid" not in recipients(mail.outbox)
    with time_machine.travel(MONDAY_MORNING, tick=False):
        result = notifications.send_digests()
    assert result.sent == 2
    digest = mail.outbox[-1]
    assert digest.to == ["alice@example.invalid"]
    assert digest.subject == "Your escalation notices: 2 since the last digest"
    assert digest.body.count("/escalations/KIR-2026-0000") == 2
    with time_machine.travel(MONDAY_MORNING, tick=False):
        assert notifications.send_digests().sent == 0


def test_no_digest_on_a_bank_holiday(world):
    world.alice.daily_digest = True
    world.alice.save()
    raise_urgent(world, SATURDAY_EVENING)
    with time_machine.travel(datetime(2026, 12, 25, 8, tzinfo=LONDON), tick=False):
        assert notifications.send_digests().sent == 0


def test_a_failing_mail_server_is_retried_with_backoff_then_given_up(world, settings):
    settings.EMAIL_BACKEND = "tests.support.email_backends.FailingEmailBackend"
    settings.NOTICE_EMAIL_MAX_ATTEMPTS = 2
    settings.NOTICE_EMAIL_RETRY_SECONDS = 600
    raise_urgent(world, SATURDAY_EVENING)
    first = relay_at(SATURDAY_EVENING, urgent_only=True)
    assert (first.sent, first.failed) == (0, 1)
    alert = Notice.objects.get(kind=NoticeKind.IMMEDIATE_RISK)
    assert alert.email_attempts == 1 and "refused" in alert.email_error
    # Not again until the back-off has passed.
    assert relay_at(SATURDAY_EVENING.replace(minute=5), urgent_only=True).failed == 0
    last = relay_at(SATURDAY_EVENING.replace(minute=11), urgent_only=True)
    assert last.given_up == 1
    alert.refresh_from_db()
    assert alert.email_given_up and alert.emailed_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert relay_at(SATURDAY_EVENING.replace(hour=23), urgent_only=True).sent == 0


def test_a_deactivated_account_is_not_emailed(world):
    raise_urgent(world, SATURDAY_EVENING)
    world.carol.user.is_active = False
    world.carol.user.save()
    relay_at(SATURDAY_EVENING)
    assert mail.outbox == []
    assert Notice.objects.get(kind=NoticeKind.IMMEDIATE_RISK).email_given_up


CANARIES = ["Zanzibarqx", "Quillfeatherby", "Canaryvale", "Xyloton"]
CANARY_DOB = date(2019, 4, 2)


def test_no_email_carries_the_childs_name_date_of_birth_or_address(world):
    world.bob.daily_digest = True
    world.bob.save()
    start = datetime(2026, 11, 2, 10, tzinfo=LONDON)
    with time_machine.travel(start, tick=False):
        esc = EscalationAtStage2Factory(
            child=services.ChildDetails(
                home_partnership=world.kirklees,
                given_names="Zanzibarqx",
                family_name="Quillfeatherby",
                date_of_birth=CANARY_DOB,
                address="77 Canaryvale Crescent, Xyloton",
            ),
            immediate_risk=True,
            initial_discussion_on=start.date(),
        )
        services.record_response(esc, by=world.erin, summary="We will look again.")
    for moment in (
        datetime(2026, 11, 9, 0, 5, tzinfo=LONDON),
        datetime(2026, 11, 16, 9, tzinfo=LONDON),
    ):
        with time_machine.travel(moment, tick=False):
            deadlines.sweep()
    with time_machine.travel(datetime(2026, 11, 16, 9, 30, tzinfo=LONDON), tick=False):
        deadlines.add_closure_day(world.kirklees, date(2026, 11, 5), by=None)
    relay_at(datetime(2026, 11, 16, 10, tzinfo=LONDON))
    with time_machine.travel(datetime(2026, 11, 16, 10, tzinfo=LONDON), tick=False):
        notifications.send_digests()
    kinds = set(Notice.objects.filter(emailed_at__isnull=False).values_list("kind", flat=True))
    assert {
        NoticeKind.IMMEDIATE_RISK,
        NoticeKind.RAISED,
        NoticeKind.APPROVAL_NEEDED,
        NoticeKind.APPROVED,
        NoticeKind.RESPONSE,
        NoticeKind.OVERDUE,
        NoticeKind.OVERDUE_MANAGER,
        NoticeKind.DEADLINE_CHANGED,
    } <= kinds
    assert len(mail.outbox) >= 8
    dob_forms = [
        CANARY_DOB.isoformat(),
        CANARY_DOB.strftime("%d/%m/%Y"),
        "2 April 2019",
        "02 April 2019",
        "April 2, 2019",
    ]
    for message in mail.outbox:
        whole = message.message().as_string() + "".join(a[0] for a in message.alternatives)
        for canary in CANARIES + dob_forms:
            assert canary.lower() not in whole.lower(), (canary, message.subject)
        assert esc.reference in whole
        assert re.search(r"http://[^/]+/(escalations/KIR-2026-\d{5}|notifications)/", whole)


# --- the portal ----------------------------------------------------------------------------


@pytest.fixture
def alices_notices(world):
    for day in (2, 3):
        with time_machine.travel(datetime(2026, 11, day, 10, tzinfo=LONDON), tick=False):
            OpenEscalationFactory(initial_discussion_on=date(2026, 11, day))
    return Notice.objects.filter(recipient=world.alice).order_by("-created_at")


def test_notifications_page_lists_my_notices_newest_first_with_links(
    world, client, alices_notices, django_assert_max_num_queries
):
    sign_in(client, world.alice)
    # Session, user, second factor, person and memberships (twice: visible_to reads them
    # itself), the page's counts and rows: a fixed number, however many notices.
    with django_assert_max_num_queries(13):
        response = client.get("/notifications/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "2 unread" in page
    newest, oldest = alices_notices
    assert page.index(f"/escalations/{newest.escalation.reference}/") < page.index(
        f"/escalations/{oldest.escalation.reference}/"
    )
    assert page.count(">Unread<") == 2
    assert "Poppy" not in page  # the list names no child


def test_marking_a_notice_read_and_then_all_read(world, client, alices_notices):
    sign_in(client, world.alice)
    newest, _ = alices_notices
    assert client.post(f"/notifications/{newest.pk}/read/").status_code == 302
    newest.refresh_from_db()
    assert newest.read_at is not None
    assert "1 unread" in client.get("/notifications/").content.decode()
    client.post("/notifications/read/")
    assert not Notice.objects.filter(recipient=world.alice, read_at__isnull=True).exists()
    assert "Nothing unread" in client.get("/notifications/").content.decode()


def test_nobody_can_mark_another_persons_notice(world, client, alices_notices):
    sign_in(client, world.charlie)
    newest, _ = alices_notices
    assert client.post(f"/notifications/{newest.pk}/read/").status_code == 404
    newest.refresh_from_db()
    assert newest.read_at is None
    assert client.get("/notifications/read/").status_code == 405


def test_signed_out_people_are_sent_to_sign_in(client, db):
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=/notifications/"


def test_the_header_link_shows_the_unread_count(world, alices_notices):
    request = RequestFactory().get("/")
    request.user = world.alice.user
    context = notices_context(request)
    assert int(str(context["unread_notice_count"])) == 2
    html = render_to_string("notifications/_header_link.html", {**context, "user": request.user})
    assert 'href="/notifications/"' in html and ">2</strong>" in html
    request.user = world.charlie.user
    assert not notices_context(request)["unread_notice_count"]


def test_choosing_a_daily_digest_is_saved(world, client):
    sign_in(client, world.alice)
    client.post("/notifications/emails/", {"emails": "digest"})
    world.alice.refresh_from_db()
    assert world.alice.daily_digest
    client.post("/notifications/emails/", {"emails": "each"})
    world.alice.refresh_from_db()
    assert not world.alice.daily_digest


def test_no_digest_on_the_partnerships_closure_day_and_one_the_next_working_day(world):
    world.alice.daily_digest = True
    world.alice.save()
    raise_urgent(world, SATURDAY_EVENING)
    deadlines.add_closure_day(world.kirklees, date(2026, 11, 9), by=None, reason="Closed")
    with time_machine.travel(MONDAY_MORNING, tick=False):
        assert notifications.send_digests().sent == 0
    with time_machine.travel(datetime(2026, 11, 10, 8, tzinfo=LONDON), tick=False):
        assert notifications.send_digests().sent >= 1
    assert "alice@example.invalid" in recipients(mail.outbox)
