"""One summary of a notice (escalations.notices.summary): the email and the notifications page
say the same things about it, and nothing about the child."""

import html

from django.core import mail

from escalations import services
from escalations.models import Notice, NoticeKind
from escalations.notices.relay import notice_email
from escalations.notices.summary import notice_summary
from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in


def test_the_email_and_the_notifications_page_show_the_same_summary(client, world):
    esc = OpenEscalationFactory()
    notice = Notice.objects.select_related("escalation__stage", "recipient").get(
        escalation=esc, kind=NoticeKind.RAISED, recipient=world.erin
    )
    summary = notice_summary(notice)
    assert summary["due"] == "the end of Monday 9 November 2026"
    assert summary["path"] == f"/escalations/{esc.reference}/"
    assert summary["url"].endswith(summary["path"])

    notice_email(notice).send()
    email = mail.outbox[0].body
    sign_in(client, world.erin)
    page = html.unescape(client.get("/notifications/").content.decode())
    for field in ("reference", "kind", "guidance", "stage", "due"):
        assert summary[field] in email, field
        assert summary[field] in page, field
    assert f'href="{summary["path"]}"' in page
    for identifier in ("Poppy", "Testwell", "Invented Row"):
        assert identifier not in email and identifier not in page


def test_a_notice_names_the_agencies_what_happened_and_what_to_do_by_when(client, world):
    esc = OpenEscalationFactory()
    notice = Notice.objects.get(escalation=esc, kind=NoticeKind.RAISED, recipient=world.erin)
    summary = notice_summary(notice)
    assert summary["agencies"] == "Meadow School challenged Northfold Children's Social Care"
    assert summary["to_do"] == (
        "Read the challenge and respond to it by the end of Monday 9 November 2026."
    )
    notice_email(notice).send()
    email = mail.outbox[0]
    assert esc.reference in email.subject
    assert "Meadow School challenged Northfold Children's Social Care" in email.body
    assert "What you need to do: Read the challenge and respond to it by the end of" in email.body
    html_body = email.alternatives[0][0]
    assert "What you need to do:</strong> Read the challenge" in html_body
    sign_in(client, world.erin)
    page = html.unescape(client.get("/notifications/").content.decode())
    assert summary["agencies"] in page and summary["to_do"] in page
    for identifier in ("Poppy", "Testwell", "Invented Row"):
        assert identifier not in email.body and identifier not in page


def test_an_approval_notice_says_approve_or_return_by_when(world):
    esc = OpenEscalationFactory()
    services.escalate(esc.pk, by=world.alice, reason="No reply.")
    # Kirklees step 2 asks the safeguarding lead and the line manager: each is told the same.
    notices = Notice.objects.filter(escalation=esc, kind=NoticeKind.APPROVAL_NEEDED)
    assert notices.count() == 2
    for notice in notices:
        words = notice_summary(notice)["to_do"]
        assert words.startswith("Approve the escalation or return it with comments by ")
