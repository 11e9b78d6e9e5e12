"""Time for an escalation (SPEC section 7), in one place: moments in words, the overdue rule,
the stage's working-day clock, its episodes, and closure days moving running deadlines.

- One formatter: `moment_in_words` ("the end of Monday 4 January 2027", "3:30pm on Monday 23
  November 2026") for pages, emails, events and the record.
- One overdue rule: a time limit runs "to the end of" its Nth working day (or to the hour),
  and a stage is overdue once that moment has passed, not at it: `past_due` in Python,
  `past_due_condition` in SQL, and the sweep, the pages and the dashboards use them.
- One recalculation: every source of closure days (the admin, the ladder files loaded by
  load_policies) goes through `recalculate_deadlines`, which records each change.

The deadline sweep itself (reminders, overdue notices) is escalations.deadlines.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from escalations.models import (
    LIVE_STATES,
    Escalation,
    Event,
    EventKind,
    Notice,
    NoticeKind,
    StageEpisode,
    deadline_notice_key,
)
from policies.calendar import WorkingCalendar, end_of_day, start_of_day
from policies.models import ClosureDay, Partnership

# A due moment at or after this local time is "the end of" its day (policies.calendar.end_of_day).
END_OF_DAY = time(23, 59)

# --- in words ---------------------------------------------------------------------------------


def date_in_words(day: date) -> str:
    """Monday 4 January 2027 (the GOV.UK style: no leading zero, full month)."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def _clock_in_words(local: datetime) -> str:
    if (local.hour, local.minute) == (0, 0):
        return "midnight"
    if (local.hour, local.minute) == (12, 0):
        return "midday"
    hour = local.hour % 12 or 12
    minutes = f":{local.minute:02d}" if local.minute else ""
    return f"{hour}{minutes}{'am' if local.hour < 12 else 'pm'}"


def moment_in_words(moment: datetime, *, zone: bool = False) -> str:
    """'the end of Monday 4 January 2027' for a moment at the end of a day (a working-day time
    limit), else '3:30pm on Monday 23 November 2026' (GOV.UK style), in the portal's time zone;
    with zone, the zone's name after the time ('3:30pm GMT on ...') for the printed record."""
    local = timezone.localtime(moment)
    day = date_in_words(local.date())
    if local.time() >= END_OF_DAY:
        return f"the end of {day}"
    return f"{_clock_in_words(local)}{f' {local.tzname()}' if zone else ''} on {day}"


# --- the overdue rule -------------------------------------------------------------------------


def past_due(due_at: datetime | None, now: datetime) -> bool:
    """Whether a due moment has passed: due "by the end of" the day means not yet at it."""
    return due_at is not None and due_at < now


def past_due_condition(now: datetime) -> Q:
    """past_due as a condition on the escalation's due_at."""
    return Q(due_at__lt=now)


def not_past_due_condition(now: datetime) -> Q:
    """The complement of past_due_condition for a set due moment: it is now or later."""
    return Q(due_at__gte=now)


def is_overdue(escalation: Escalation, now: datetime) -> bool:
    """A live escalation the sweep marked overdue, or whose due moment has passed since."""
    return escalation.state in LIVE_STATES and (
        escalation.overdue or past_due(escalation.due_at, now)
    )


def overdue_condition(now: datetime) -> Q:
    """is_overdue as a condition, for filters and counts."""
    return Q(state__in=LIVE_STATES) & (Q(overdue=True) | past_due_condition(now))


# --- the stage's clock ------------------------------------------------------------------------


def set_clock(
    escalation: Escalation, start: datetime, calendar: WorkingCalendar | None = None
) -> None:
    """Due and reminder moments for the current stage (or timed step) from start."""
    stage = escalation.stage
    steps = stage.steps or []
    limit = None
    if steps and escalation.step < len(steps):
        limit = steps[escalation.step]["time_limit"]
        if limit.get("source") == "local-default":
            limit = stage.time_limit(escalation.partnership)
        elif limit.get("value") is None:
            limit = None
    else:
        limit = stage.time_limit(escalation.partnership)
    escalation.stage_started_at = escalation.stage_started_at or start
    escalation.overdue = False
    escalation.reminded = False
    if not limit:
        escalation.due_at = escalation.reminder_at = None
        return
    calendar = calendar or escalation.partnership.calendar()
    escalation.due_at = calendar.due_moment(start, limit["value"], limit["unit"])
    escalation.reminder_at = calendar.reminder_moment(
        start, escalation.due_at, limit["unit"], escalation.partnership.reminder_working_days
    )


def clock_start(escalation: Escalation) -> datetime:
    """When the current timed step's clock started: the stage start, or for a later step
    (Berkshire stage 1) the moment the step was entered."""
    if escalation.step:
        moved = (
            escalation.events.filter(kind=EventKind.STEP_ADVANCED)
            .order_by("-sequence")
            .values_list("occurred_at", flat=True)
            .first()
        )
        if moved:
            return moved
    return escalation.stage_started_at


def current_episode(escalation: Escalation) -> StageEpisode | None:
    """The stage as this escalation is living it now (None once resolved or withdrawn)."""
    return escalation.episodes.filter(ended_at__isnull=True).order_by("-id").first()


def end_episode(escalation: Escalation, ended_by: str, now: datetime) -> StageEpisode | None:
    """Close the current episode, keeping how long it took in working days and whether it ran
    over, so the dashboards aggregate in the database."""
    episode = current_episode(escalation)
    if episode is None:
        return None
    episode.ended_at = now
    episode.ended_by = ended_by
    episode.was_overdue = escalation.overdue
    episode.working_days_spent = escalation.partnership.calendar().working_days_between(
        timezone.localtime(episode.started_at).date(), timezone.localtime(now).date()
    )
    episode.save(update_fields=["ended_at", "ended_by", "was_overdue", "working_days_spent"])
    return episode


# --- closure days -----------------------------------------------------------------------------


def _day_in_words(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def add_closure_day(
    partnership: Partnership, day: date, *, by, reason: str = ""
) -> tuple[ClosureDay, int]:
    """Add a closure day and move the running deadlines it falls inside (SPEC section 7).
    Returns the day and how many escalations' deadlines changed."""
    with transaction.atomic():
        closure = ClosureDay.objects.create(
            partnership=partnership, date=day, reason=reason.strip(), added_by=by
        )
        changed = recalculate_deadlines(
            partnership,
            since=day,
            by=by,
            why=f"Closure day {_day_in_words(day)} added"
            + (f" ({closure.reason})" if closure.reason else ""),
        )
    return closure, changed


def remove_closure_day(closure: ClosureDay, *, by) -> int:
    """Remove a closure day; deadlines it had pushed back come forward again."""
    with transaction.atomic():
        partnership, day = closure.partnership, closure.date
        closure.delete()
        return recalculate_deadlines(
            partnership, since=day, by=by, why=f"Closure day {_day_in_words(day)} removed"
        )


def closure_days_added(partnership: Partnership, days: Iterable[date], *, by, source: str) -> int:
    """Closure days already saved by another source (the ladder files): recalculate the
    running deadlines each falls inside, as add_closure_day does. Returns how many
    recalculations changed a deadline."""
    changed = 0
    for day in sorted(set(days)):
        changed += recalculate_deadlines(
            partnership, since=day, by=by, why=f"Closure day {_day_in_words(day)} added ({source})"
        )
    return changed


def recalculate_deadlines(partnership: Partnership, *, since: date, by, why: str) -> int:
    """Recompute the due and reminder moments of the partnership's live escalations whose
    clock runs over `since`, with its calendar as it now stands; record each change and tell
    the holder. The one recalculation every source of closure days calls."""
    partnership.refresh_from_db(fields=["closure_dates_kept"])
    calendar = partnership.calendar()
    now = timezone.now()
    actor = getattr(by, "person", None) if by is not None else None
    running = (
        Escalation.objects.live()
        .in_partnership(partnership)
        .filter(due_at__gte=start_of_day(since), stage_started_at__lte=end_of_day(since))
        .select_related("stage", "partnership", "raising_agency", "receiving_agency")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    changed = 0
    for esc in running:
        before_due, before_reminder = esc.due_at, esc.reminder_at
        was_overdue, was_reminded = esc.overdue, esc.reminded
        set_clock(esc, clock_start(esc), calendar)
        if (esc.due_at, esc.reminder_at) == (before_due, before_reminder):
            continue
        # The clock never pauses: a later due moment still in the future lifts "overdue";
        # one that has passed keeps it, and the sweep marks any that now fall due.
        esc.overdue = was_overdue and past_due(esc.due_at, now)
        esc.reminded = was_reminded and esc.reminder_at <= now
        Event.objects.append(
            esc,
            EventKind.DEADLINE_RECALCULATED,
            actor,
            reason=f"{why}: now due by {moment_in_words(esc.due_at)}, "
            f"was {moment_in_words(before_due)}.",
        )
        esc.save(update_fields=["due_at", "reminder_at", "overdue", "reminded", "event_count"])
        episode = current_episode(esc)
        if episode is not None:
            episode.due_at = esc.due_at
            episode.save(update_fields=["due_at"])
        if esc.holder_id:
            Notice.objects.bulk_create(
                [
                    Notice(
                        escalation=esc,
                        episode=episode,
                        kind=NoticeKind.DEADLINE_CHANGED,
                        recipient_id=esc.holder_id,
                        # One per change, named by the change's event: a deadline moved
                        # to a moment it had before (a closure day added, removed and added
                        # again) is a new change, and a new notice.
                        key=deadline_notice_key(
                            esc.pk,
                            episode.pk if episode else None,
                            NoticeKind.DEADLINE_CHANGED,
                            esc.holder_id,
                            esc.due_at,
                        )
                        + f":event{esc.event_count}",
                    )
                ],
                ignore_conflicts=True,
            )
        changed += 1
    return changed
