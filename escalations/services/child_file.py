"""Recording on the child's file (issue 15, point 9): each agency's confirmation that it has
recorded the escalation on its own file for the child, with the date and its file reference.
Asked for where the partnership's policy says so (Partnership.child_file_record)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from cases.models import Agency, Membership, Person
from escalations.models import (
    ChildFileRecord,
    Escalation,
    EventKind,
    Notice,
    NoticeKind,
    StageEpisode,
    State,
)
from escalations.models.bulk import among, insert_rows
from escalations.permissions import Act
from escalations.services.acting import (
    ActionRefused,
    acting_on,
    not_future,
    notify,
    record_event,
    require_text,
)
from policies.calendar import local_zone, start_of_day
from policies.models import Partnership


def _agency_of(person: Person, escalation: Escalation) -> Agency:
    """The party agency the person records for: the raising one where they belong to it."""
    ids = {m.agency_id for m in person.memberships.all() if m.agency_id}
    for agency in (escalation.raising_agency, escalation.receiving_agency):
        if agency.pk in ids:
            return agency
    raise ActionRefused("Only someone in one of the two agencies can confirm its own file.")


def stage_to_confirm(escalation: Escalation) -> int:
    """Which confirmation is asked now: 0 (the outcome) once resolved; the stage's number while
    it is open where the policy asks for it at every stage."""
    if escalation.state in (State.OPEN, State.AWAITING_APPROVAL):
        return escalation.stage.number
    return 0


def confirmation_in_words(stage_number: int) -> str:
    return f"stage {stage_number}" if stage_number else "the outcome"


def record_on_child_file(
    escalation: Escalation | int,
    *,
    by: Person,
    recorded_on: date,
    file_reference: str,
    expected_revision: int | None = None,
) -> Escalation:
    """Confirm, for the person's own agency, that the escalation is recorded on the agency's
    file for the child: for the stage it stands at (where the policy asks at every stage), or
    for the outcome once resolved. A second confirmation of the same corrects the first."""
    file_reference = require_text(file_reference, "your agency's reference for the child's file")
    if len(file_reference) > 100:
        raise ActionRefused("The file reference must be 100 characters or fewer.")
    not_future(recorded_on, "The date it was recorded on the child's file")
    with acting_on(
        escalation, by, Act.RECORD_CHILD_FILE, expected_revision=expected_revision
    ) as esc:
        agency = _agency_of(by, esc)
        stage_number = stage_to_confirm(esc)
        ChildFileRecord.objects.update_or_create(
            escalation=esc,
            agency=agency,
            stage_number=stage_number,
            defaults={
                "recorded_by": by,
                "recorded_on": recorded_on,
                "file_reference": file_reference,
            },
        )
        record_event(
            esc,
            EventKind.CHILD_FILE,
            by,
            reason=f"{agency.name} recorded {confirmation_in_words(stage_number)} on its file "
            f"for the child on {recorded_on:%-d %B %Y} (reference {file_reference}).",
        )
    return esc


def child_file_status(escalation: Escalation) -> list[dict]:
    """Per party agency: its confirmations (each for a stage or the outcome), and whether the
    one asked now is still missing."""
    records = list(escalation.child_file_records.select_related("recorded_by"))
    asked = stage_to_confirm(escalation)
    return [
        {
            "agency": agency,
            "records": [
                {"record": r, "for": confirmation_in_words(r.stage_number)}
                for r in records
                if r.agency_id == agency.pk
            ],
            "missing": confirmation_in_words(asked)
            if not any(r.agency_id == agency.pk and r.stage_number == asked for r in records)
            else "",
        }
        for agency in (escalation.raising_agency, escalation.receiving_agency)
    ]


def asks_now(escalation: Escalation) -> bool:
    """Whether the page shows the child's-file confirmations: once resolved, or at every stage
    where the policy asks for it there."""
    partnership = escalation.partnership
    if not partnership.child_file_record:
        return False
    if escalation.state in (State.OPEN, State.AWAITING_APPROVAL):
        return partnership.child_file_at_each_stage
    return escalation.resolved_on is not None


def ask_for_child_file_records(escalation: Escalation, people, *, occasion: str) -> None:
    """At resolution, where the policy asks for it: each agency's holder is asked to record
    it on the child's file and confirm (the notice never names the child)."""
    if escalation.partnership.child_file_record:
        notify(escalation, NoticeKind.CHILD_FILE_DUE, people, occasion=occasion)


# --- reminders, from the deadline sweep --------------------------------------------------

CANDIDATE = (
    "pk",
    "state",
    "stage__number",
    "resolved_on",
    "stage_started_at",
    "raising_agency_id",
    "receiving_agency_id",
    "raised_by_id",
    "holder_id",
    "receiving_person_id",
)


def remind_to_record_on_child_file(now: datetime) -> int:
    """Remind each agency that has not confirmed it on its file for the child: after
    resolution, and at the stage it stands at where the policy asks at every stage; every
    `child_file_reminder_every` working days from the resolution (or the stage's start), at
    most `child_file_reminders_at_most` times (the partnership's local choice, in its ladder
    file). Each reminder's outbox key names the stage and the reminder's number, so a sweep run
    twice (or two at once) writes it once. Set-based like the rest of the sweep: a few queries
    per partnership, whatever the number of escalations. Returns the reminders written."""
    offered = 0
    today = timezone.localdate(now)
    for partnership in Partnership.objects.filter(
        child_file_record=True, child_file_reminder_every__gt=0
    ):
        offered += _remind_in(partnership, now, today)
    return offered


def _remind_in(partnership: Partnership, now: datetime, today: date) -> int:
    every = partnership.child_file_reminder_every
    at_most = partnership.child_file_reminders_at_most
    calendar = partnership.calendar()
    # Past the last reminder a sweep has nothing to add: look back only that far (in calendar
    # days, with room for holidays and a sweep that was down for a while).
    horizon = now - timedelta(days=every * at_most * 7 // 5 + 21)
    # Nor is anything owed before the first reminder, `every` working days after the clock
    # starts: the latest day a clock may have started on and be owed one bounds the rows read
    # (at 1,000,000 escalations most of those in the look-back were too young).
    latest = today
    while calendar.working_days_between(latest, today) < every and latest > horizon.date():
        latest -= timedelta(days=1)
    before = start_of_day(latest + timedelta(days=1))
    asked = Q(
        state__in=(State.RESOLVED, State.CLOSED), resolved_on__gte=horizon, resolved_on__lt=before
    )
    if partnership.child_file_at_each_stage:
        asked |= Q(
            state__in=(State.OPEN, State.AWAITING_APPROVAL),
            stage_started_at__gte=horizon,
            stage_started_at__lt=before,
        )
    due = {}
    # Counted once per day the clock started on, not once per escalation: thousands start on
    # the same day.
    reminders: dict[date, int] = {}
    # The portal's zone, given once: timezone.localdate asks which zone is active for every
    # row, and that was a tenth of the sweep at 1,000,000 escalations.
    zone = local_zone()
    for row in Escalation.objects.filter(asked, partnership=partnership).values(*CANDIDATE):
        resolved = row["state"] in (State.RESOLVED, State.CLOSED)
        since = (
            (row["resolved_on"] if resolved else row["stage_started_at"]).astimezone(zone).date()
        )
        if since not in reminders:
            reminders[since] = min(calendar.working_days_between(since, today) // every, at_most)
        reminder = reminders[since]
        if reminder >= 1:
            due[row["pk"]] = row | {
                "asked": 0 if resolved else row["stage__number"],
                "reminder": reminder,
            }
    confirmed = set(
        ChildFileRecord.objects.filter(escalation_id__in=among(list(due))).values_list(
            "escalation_id", "agency_id", "stage_number"
        )
    )
    # The holder counts for the raising agency only where they belong to it.
    holders = set(
        Membership.objects.filter(
            person_id__in={row["holder_id"] for row in due.values()}
        ).values_list("person_id", "agency_id")
    )
    # Where no receiving practitioner is named: whoever answered at the latest stage.
    counterparts = dict(
        StageEpisode.objects.filter(escalation_id__in=among(list(due)))
        .order_by("escalation_id", "started_at")
        .values_list("escalation_id", "counterpart_id")
    )
    told: dict[int, list[tuple[int, int | None]]] = {}
    for pk, row in due.items():
        raising = [row["raised_by_id"]]
        if (row["holder_id"], row["raising_agency_id"]) in holders:
            raising.append(row["holder_id"])
        receiving = [row["receiving_person_id"] or counterparts.get(pk)]
        for agency_id, people in (
            (row["raising_agency_id"], raising),
            (row["receiving_agency_id"], receiving),
        ):
            if (pk, agency_id, row["asked"]) not in confirmed:
                told.setdefault(pk, []).extend((person, agency_id) for person in people if person)
    # Each of them may open the escalation (its raiser, holder, named practitioner or the
    # stage's counterpart), while still active (ADR 0022: a leaver is told nothing).
    active = set(
        Person.objects.filter(
            pk__in={person for people in told.values() for person, _ in people},
            user__is_active=True,
        ).values_list("pk", flat=True)
    )
    kind = NoticeKind.CHILD_FILE_REMINDER
    rows = []
    for pk, people in told.items():
        occasion = f"childfile:s{due[pk]['asked']}:r{due[pk]['reminder']}"
        rows += [
            {
                "escalation_id": pk,
                "kind": kind,
                "recipient_id": person,
                "created_at": now,
                "key": f"{pk}:0:{kind}:{person}:{occasion}",
            }
            for person in {person for person, _ in people if person in active}
        ]
    # Only the new ones count (a second sweep finds its work done); the unique key keeps out
    # a row written before, by an earlier sweep or a concurrent one.
    return insert_rows(Notice, rows, ignore_conflicts=True)
