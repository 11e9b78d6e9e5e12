"""Notices whose email gave up, for the partnership administrator: listed with the reason,
and sent again on request (audited). Only the partnership's own notices; what is shown is what
the email says (escalations.notices.summary: the reference, the kind, the recipient), nothing
about the child."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet

from escalation_portal import broker
from escalations.models import Notice
from escalations.notices.relay import RELAY_TASK
from people.audit import audited
from people.scope import Can, Refused, Scope

DEACTIVATED = "Account deactivated: not emailed."


def given_up(scope: Scope) -> QuerySet[Notice]:
    """The scope's partnership's notices that gave up, newest first. Not those held back
    because their recipient may no longer open what they are about (hidden, ADR 0028): that
    is not a failure to deliver, and sending one again would only hold it back again."""
    scope.require(Can.RESEND_NOTICES)
    partnership = scope.partnership.pk
    # scoped-lookup: allowed (the administrator's own partnership's notices; the page shows what the email says, no record)
    return (
        Notice.objects.filter(email_given_up=True, emailed_at__isnull=True, hidden_at__isnull=True)
        .filter(
            Q(escalation__partnership_id=partnership)
            | Q(conference_report__partnership_id=partnership)
        )
        .select_related("recipient__user", "escalation__stage")
        .order_by("-created_at", "-pk")
    )


def send_again(pk: int, *, scope: Scope, request=None) -> Notice:
    """Put a notice that gave up back in the outbox, its attempts counted afresh; the relay
    sends it at its next run (asked for now), in working hours unless it is urgent."""
    with transaction.atomic():
        notice = given_up(scope).select_for_update(of=("self",)).filter(pk=pk).first()
        if notice is None:
            raise Refused("That notice is not one of your partnership's undelivered notices.")
        if not notice.recipient.user.is_active:
            raise Refused(
                f"{notice.recipient.full_name} has left (their account is closed), so the"
                " notice cannot be emailed to them."
            )
        reason = notice.email_error or "No reason recorded"
        # scoped-lookup: allowed (the notice given_up() just found in the administrator's partnership)
        Notice.objects.filter(pk=notice.pk).update(
            email_given_up=False,
            email_attempts=0,
            email_retry_at=None,
            email_claimed_until=None,
        )
        audited(
            by=scope.by,
            what=f"Notice sent again: {notice.get_kind_display()} to {notice.recipient.full_name}",
            object_type="notice",
            object_id=notice.pk,
            partnership_id=scope.partnership.pk,
            changes=[("Email", f"Gave up: {reason}", "Waiting to be sent again")],
            request=request,
        )
        transaction.on_commit(lambda: broker.publish(RELAY_TASK), robust=True)
    return notice
