"""Who is told (ADR 0022): a notice goes only to someone who may open what it links to, at the
moment it is written; when the receiving practitioner is not known, the receiving agency's
safeguarding lead is told in their place."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from cases.models import Person
from escalations import services
from escalations.clock import add_closure_day
from escalations.deadlines import sweep
from escalations.models import Escalation, Notice, NoticeKind
from escalations.notices.summary import notice_summary, visible_notices
from tests.factories import (
    AwaitingApprovalEscalationFactory,
    EscalationAtStageFactory,
    OpenEscalationFactory,
    OverdueEscalationFactory,
    ResolvedEscalationFactory,
    WithdrawnEscalationFactory,
)
from tests.factories.escalations import fresh
from tests.helpers import sign_in

# The kinds about an escalation that these journeys must produce: the invariant is only worth
# something if each kind is actually written at least once, with and without a known
# receiving practitioner.
JOURNEY_KINDS = {
    NoticeKind.RAISED,
    NoticeKind.IMMEDIATE_RISK,
    NoticeKind.ESCALATED,
    NoticeKind.APPROVAL_NEEDED,
    NoticeKind.APPROVED,
    NoticeKind.RETURNED,
    NoticeKind.RESOLVED,
    NoticeKind.REOPENED,
    NoticeKind.WITHDRAWN,
    NoticeKind.PARTNERSHIP_STAGE,
    NoticeKind.RESPONSE,
    NoticeKind.REMINDER,
    NoticeKind.OVERDUE,
    NoticeKind.OVERDUE_MANAGER,
    NoticeKind.DEADLINE_CHANGED,
}


def journeys(world, receiving_person: Person | None) -> None:
    """Every journey the notices come from, for one choice of receiving practitioner."""
    who = {"receiving_person": receiving_person}
    OpenEscalationFactory(immediate_risk=True, start_stage_number=1, **who)
    esc = OpenEscalationFactory(**who)
    services.record_response(esc, by=world.grace, summary="We will reconsider the referral.")
    EscalationAtStageFactory(stage=5, **who)
    asked = AwaitingApprovalEscalationFactory(**who)
    services.return_with_comments(
        asked,
        by=Notice.objects.filter(escalation=asked, kind=NoticeKind.APPROVAL_NEEDED)
        .first()
        .recipient,
        comments="Talk to CSC's team manager first.",
    )
    resolved = ResolvedEscalationFactory(**who)
    services.reopen(resolved, by=resolved.raised_by, reason="The joint visit did not happen.")
    WithdrawnEscalationFactory(**who)
    OverdueEscalationFactory(**who)
    # Due soon: a sweep the day before the time limit reminds the holder.
    esc = fresh(OpenEscalationFactory(**who))
    with time_machine.travel(esc.reminder_at + timedelta(minutes=1), tick=False):
        sweep()
    # A closure day inside a running time limit moves it, and the holder is told.
    running = fresh(OpenEscalationFactory(initial_discussion_on=timezone.localdate(), **who))
    day = timezone.localtime(running.due_at).date() - timedelta(days=1)
    add_closure_day(world.kirklees, day, by=None, reason="Training day")


@pytest.mark.parametrize("known", [True, False], ids=["practitioner-known", "not-known"])
def test_every_notice_links_to_what_its_recipient_may_open(world, client, known):
    journeys(world, world.erin if known else None)
    notices = list(Notice.objects.filter(escalation__isnull=False).select_related("recipient"))
    assert {n.kind for n in notices} >= JOURNEY_KINDS
    for recipient in {n.recipient for n in notices}:
        sign_in(client, recipient)
        for notice in [n for n in notices if n.recipient == recipient]:
            link = notice_summary(notice)["path"]
            assert client.get(link).status_code == 200, (notice.kind, recipient.full_name, link)
        client.logout()


def test_with_no_known_practitioner_the_receiving_lead_is_told_not_a_stranger(world, client):
    esc = OpenEscalationFactory(receiving_person=None)
    told = set(
        Notice.objects.filter(escalation=esc, kind=NoticeKind.RAISED).values_list(
            "recipient__user__username", flat=True
        )
    )
    assert told == {"alice", "grace"}  # the raiser who holds it; CSC's safeguarding lead
    sign_in(client, world.grace)
    assert client.get(f"/escalations/{esc.reference}/").status_code == 200


def test_a_notice_for_someone_who_cannot_open_it_is_not_written(world):
    esc = OpenEscalationFactory(receiving_person=None)
    written = Notice.objects.write(
        esc, NoticeKind.ESCALATED, [world.erin, world.charlie, world.grace], occasion="x"
    )
    assert written == 1
    assert set(
        Notice.objects.filter(occasion_key(esc, "x")).values_list("recipient", flat=True)
    ) == {world.grace.pk}


def occasion_key(esc: Escalation, occasion: str):
    from django.db.models import Q

    return Q(escalation=esc, key__endswith=f":{occasion}")


def test_open_to_answers_as_visible_to_does(world):
    """The outbox's in-memory rule and the database's scoped lookup give the same answer for
    every persona and every escalation state."""
    escalations = [
        OpenEscalationFactory(receiving_person=None),
        OpenEscalationFactory(),
        EscalationAtStageFactory(stage=5),
        AwaitingApprovalEscalationFactory(),
        WithdrawnEscalationFactory(),
        OpenEscalationFactory(submit=False),
    ]
    for person in Person.objects.select_related("user"):
        visible = set(Escalation.objects.visible_to(person.user).values_list("pk", flat=True))
        for esc in escalations:
            assert fresh(esc).open_to(person) == (esc.pk in visible), (person.full_name, esc)


def test_after_every_journey_each_person_is_shown_exactly_the_notices_they_may_open(world):
    """What the header counts and the notifications page lists (Notice.objects.shown_to, the
    notice rows alone: ADR 0028) is what visible_notices, asked of the escalations themselves,
    admits: stage changes hide nothing a person may still open, and show nothing they may not."""
    journeys(world, world.erin)
    journeys(world, None)
    recipients = Person.objects.filter(pk__in=Notice.objects.values("recipient")).select_related(
        "user"
    )
    assert recipients.count() >= 6
    for person in recipients:
        may_open = Notice.objects.filter(recipient=person).filter(visible_notices(person.user))
        assert set(Notice.objects.shown_to(person).values_list("pk", flat=True)) == set(
            may_open.values_list("pk", flat=True)
        ), person.full_name
