"""GOV.UK Notify as the notices' channel (NOTICE_CHANNEL=notify, ADR 0033), against a local fake
of Notify's HTTP API (tests/support/fake_notify.py): one template per kind, the notice key as
Notify's reference, each failure answered the way the relay answers SMTP's (retried with
backoff, or given up with Notify's words), and a text message for immediate-risk alerts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import responses
import time_machine
from django.core import mail
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone

from escalations import notifications
from escalations.models import Notice, NoticeKind
from escalations.notices import notify
from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in
from tests.support import fake_notify

pytestmark = pytest.mark.django_db
UNDELIVERED = "/manage/partnerships/kirklees/undelivered-notices/"


def template_id(name: str) -> str:
    """An invented template id per template name, so a test can tell which was used."""
    return f"00000000-0000-4000-8000-{abs(hash(name)) % 10**12:012d}"


@pytest.fixture
def notify_on(settings):
    settings.NOTICE_CHANNEL = "notify"
    settings.GOVUK_NOTIFY_API_KEY = fake_notify.API_KEY
    settings.GOVUK_NOTIFY_BASE_URL = fake_notify.BASE_URL
    settings.GOVUK_NOTIFY_TEMPLATES = {name: template_id(name) for name in notify.template_names()}
    settings.NOTICE_EMAIL_RETRY_SECONDS = 600
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield fake_notify.start(mock)


@pytest.fixture
def alert(world):
    """An immediate-risk challenge: its alert goes at once to Carol, the safeguarding lead."""
    escalation = OpenEscalationFactory(immediate_risk=True)
    return Notice.objects.get(escalation=escalation, kind=NoticeKind.IMMEDIATE_RISK)


def relay_later(minutes: int):
    with time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=False):
        return notifications.relay(urgent_only=True)


def test_an_alert_goes_through_notify_with_its_template_reference_and_fields(notify_on, alert):
    result = notifications.relay(urgent_only=True)
    assert result.sent == 1
    assert mail.outbox == []  # not by SMTP
    [email] = notify_on.emails()
    assert email["email_address"] == alert.recipient.email
    assert email["template_id"] == template_id(NoticeKind.IMMEDIATE_RISK)
    # The notice key as Notify's reference: a message sent twice is recognisably one notice.
    assert email["reference"] == alert.key
    fields = email["personalisation"]
    assert set(fields) == {name for name, _ in notify.EMAIL_FIELDS}
    assert fields["reference"] == alert.escalation.reference
    assert fields["urgent"] == "yes" and fields["name"] == alert.recipient.full_name
    assert fields["url"].endswith(f"/escalations/{alert.escalation.reference}/")
    # Nothing about the child in what Notify is given.
    child = alert.escalation.child
    assert child.family_name not in str(email) and child.given_names not in str(email)
    alert.refresh_from_db()
    assert alert.emailed_at is not None and alert.notify_email_id == email["id"]
    # Sent once: the next run sends nothing.
    assert notifications.relay(urgent_only=True).sent == 0
    assert len(notify_on.messages) == 1


def test_smtp_stays_the_default(world, settings):
    assert settings.NOTICE_CHANNEL == "email"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = fake_notify.start(mock)
        escalation = OpenEscalationFactory(immediate_risk=True)
        assert notifications.relay(urgent_only=True).sent == 1
    assert fake.messages == []
    assert mail.outbox[0].extra_headers["X-Portal-Notice"].startswith(f"{escalation.pk}:")


def test_a_bad_request_is_given_up_at_once_with_notifys_words(notify_on, alert, client, world):
    notify_on.fail_next((400, "email_address Not a valid email address"))
    result = notifications.relay(urgent_only=True)
    assert (result.sent, result.given_up) == (0, 1)
    alert.refresh_from_db()
    assert alert.email_given_up and alert.email_attempts == 1
    assert "Not a valid email address" in alert.email_error
    assert "400" in alert.email_error
    # On the partnership administrator's Undelivered notices page, with Notify's reason.
    sign_in(client, world.kim)
    page = client.get(UNDELIVERED).content.decode()
    assert alert.escalation.reference in page and "Not a valid email address" in page


def test_a_bad_request_does_not_stop_the_other_notices(notify_on, world):
    OpenEscalationFactory(immediate_risk=True)
    OpenEscalationFactory(immediate_risk=True)
    notify_on.fail_next((400, "email_address Not a valid email address"))
    result = notifications.relay(urgent_only=True)
    assert (result.given_up, result.sent) == (1, 1)


@pytest.mark.parametrize(
    "answer, words",
    [
        (
            (429, "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds"),
            "rate limit",
        ),
        ((500, "Internal server error"), "GOV.UK Notify failed (500)"),
        (fake_notify.TIMEOUT, "did not answer within 10 seconds"),
    ],
    ids=["429 rate limit", "500", "timeout"],
)
def test_a_failure_of_notify_is_retried_later_and_not_lost(notify_on, world, answer, words):
    first = OpenEscalationFactory(immediate_risk=True)
    OpenEscalationFactory(immediate_risk=True)
    notify_on.fail_next(answer)
    result = notifications.relay(urgent_only=True)
    # The run stops at the first failure (every message would meet it); nothing is given up.
    assert (result.sent, result.failed, result.given_up) == (0, 1, 0)
    failed = Notice.objects.get(escalation=first, kind=NoticeKind.IMMEDIATE_RISK)
    assert words in failed.email_error and not failed.email_given_up
    assert failed.email_retry_at is not None
    assert notify_on.messages == []
    # The other waits unclaimed for the next run; after the backoff both go, once each.
    assert relay_later(1).sent == 1
    assert relay_later(11).sent == 1
    assert len(notify_on.emails()) == 2
    assert not Notice.objects.filter(urgent=True, emailed_at__isnull=True).exists()


def test_a_rejected_api_key_is_retried_and_named(notify_on, alert, settings):
    settings.GOVUK_NOTIFY_API_KEY = fake_notify.WRONG_KEY
    result = notifications.relay(urgent_only=True)
    assert (result.sent, result.failed) == (0, 1)
    alert.refresh_from_db()
    assert "refused the API key (403)" in alert.email_error
    assert "GOVUK_NOTIFY_API_KEY" in alert.email_error and not alert.email_given_up
    settings.GOVUK_NOTIFY_API_KEY = fake_notify.API_KEY
    assert relay_later(11).sent == 1


def test_given_up_after_the_last_attempt_like_smtp(notify_on, alert, settings):
    settings.NOTICE_EMAIL_MAX_ATTEMPTS = 2
    notify_on.fail_next((500, "Internal server error"), (500, "Internal server error"))
    assert notifications.relay(urgent_only=True).failed == 1
    assert relay_later(11).given_up == 1
    alert.refresh_from_db()
    assert alert.email_given_up and "500" in alert.email_error


# --- text messages for immediate-risk alerts --------------------------------------------------


def test_an_immediate_risk_alert_is_also_texted_to_a_mobile(notify_on, world):
    world.carol.mobile = "+447700900123"
    world.carol.save()
    escalation = OpenEscalationFactory(immediate_risk=True)
    assert notifications.relay(urgent_only=True).sent == 1
    [text] = notify_on.texts()
    assert text["phone_number"] == "+447700900123"
    assert text["template_id"] == template_id(notify.IMMEDIATE_RISK_TEXT)
    assert text["personalisation"]["reference"] == escalation.reference
    assert text["personalisation"]["url"].endswith(f"/escalations/{escalation.reference}/")
    assert escalation.child.family_name not in str(text)
    notice = Notice.objects.get(escalation=escalation, kind=NoticeKind.IMMEDIATE_RISK)
    assert notice.notify_text_id == text["id"]


def test_no_text_without_a_mobile_or_for_other_kinds(notify_on, world):
    OpenEscalationFactory(immediate_risk=True)  # Carol has no mobile
    world.alice.mobile = "+447700900124"
    world.alice.save()
    OpenEscalationFactory()  # not urgent: Alice and Erin are told by email only
    notifications.relay()
    assert notify_on.texts() == []
    assert len(notify_on.emails()) >= 1


def test_a_failed_text_is_retried_without_sending_the_email_again(notify_on, world):
    world.carol.mobile = "+447700900123"
    world.carol.save()
    OpenEscalationFactory(immediate_risk=True)
    # The email is accepted, the text meets Notify's rate limit.
    notify_on.queued = []
    original = notify_on._answer
    calls = []

    def second_fails(kind, request):
        calls.append(kind)
        if kind == "sms" and calls.count("sms") == 1:
            return notify_on._error(429, "Exceeded rate limit")
        return original(kind, request)

    notify_on._answer = second_fails
    assert notifications.relay(urgent_only=True).failed == 1
    assert relay_later(11).sent == 1
    assert len(notify_on.emails()) == 1 and len(notify_on.texts()) == 1


# --- the daily digest -----------------------------------------------------------------------------


def test_a_digest_goes_through_its_own_template(notify_on, world):
    world.alice.daily_digest = True
    world.alice.save()
    OpenEscalationFactory(immediate_risk=True)
    with time_machine.travel("2026-11-09 09:00 +0000", tick=False):
        assert notifications.send_digests().sent >= 1
    [digest] = [m for m in notify_on.emails() if m["template_id"] == template_id(notify.DIGEST)]
    assert digest["email_address"] == world.alice.email
    assert digest["reference"].startswith(f"digest:{world.alice.pk}:")
    assert set(digest["personalisation"]) == {name for name, _ in notify.DIGEST_FIELDS}
    assert "* Challenge raised with you" in digest["personalisation"]["notices"]


# --- switching it on ------------------------------------------------------------------------------


def test_the_portal_will_not_start_with_notify_half_configured(settings):
    settings.NOTICE_CHANNEL = "notify"
    settings.GOVUK_NOTIFY_API_KEY = fake_notify.API_KEY
    settings.GOVUK_NOTIFY_TEMPLATES = {
        name: "x" for name in notify.template_names() if name != NoticeKind.OVERDUE
    }
    with pytest.raises(SystemCheckError) as refused:
        call_command("check")
    assert "GOVUK_NOTIFY_TEMPLATE_OVERDUE is not set" in str(refused.value)
    settings.GOVUK_NOTIFY_TEMPLATES[NoticeKind.OVERDUE] = "x"
    call_command("check")


def test_the_docs_list_every_template_with_its_fields_as_the_code_sends_them():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "integrations.md").read_text()
    listed = docs.split("<!-- notify-templates:start -->\n")[1].split(
        "\n<!-- notify-templates:end -->"
    )[0]
    expected = f"{notify.templates_table()}\n\n{notify.fields_table()}"
    assert listed == expected, (
        "docs/integrations.md's Notify templates differ from escalations/notices/notify.py;"
        f" put this between the markers:\n{expected}"
    )
    for kind in NoticeKind:
        assert f"`GOVUK_NOTIFY_TEMPLATE_{kind.value.upper()}`" in listed
