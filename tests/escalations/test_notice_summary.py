"""One summary of a notice (escalations.notices.summary): the email and the notifications page
say the same things about it, and nothing about the child."""

import html

from django.core import mail

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
