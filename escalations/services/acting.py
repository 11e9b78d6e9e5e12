"""Acting on an escalation: the row lock, the permission check and the revision bump every
change goes through (acting_on); refusals in words; the event and the outbox rows a change
writes in its transaction."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date

from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from cases.models import Person
from escalations.models import (
    Escalation,
    Event,
    Notice,
    StageEpisode,
)
from escalations.moving import following_stage, who_may_move_into
from escalations.permissions import Act, allowed_actions


class ActionRefused(Exception):
    """The action cannot be taken; the message says why, in words for the person."""


class StaleEscalation(ActionRefused):
    pass


def require_text(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ActionRefused(f"Enter {what}.")
    return value


def not_future(day: date, what: str) -> date:
    if day > timezone.localdate():
        raise ActionRefused(f"{what} must be today or in the past.")
    return day


def record_event(escalation: Escalation, kind: str, by: Person | None, **details) -> Event:
    """Append one event (Event.objects.append: from_state, from_stage, reason, at); the caller
    holds the escalation's row lock."""
    return Event.objects.append(escalation, kind, by, **details)


def notify(
    escalation: Escalation,
    kind: str,
    recipients: Iterable[Person | None],
    *,
    episode: StageEpisode | None = None,
    occasion: str = "",
    urgent: bool = False,
) -> int:
    """Write outbox rows (Notice.objects.write); the unique key makes a repeat a no-op."""
    return Notice.objects.write(
        escalation, kind, recipients, episode=episode, occasion=occasion, urgent=urgent
    )


@contextmanager
def acting_on(
    escalation: Escalation | int, by: Person, act: Act, *, expected_revision: int | None = None
) -> Iterator[Escalation]:
    """Lock the row, check the person may act, and save and bump the revision afterwards."""
    pk = escalation.pk if isinstance(escalation, Escalation) else escalation
    with transaction.atomic():
        # Lock the row alone, then read it with its relations. On PostgreSQL a FOR UPDATE over
        # joins that waited for another transaction rechecks the join against the old related
        # rows: once the winner has moved the stage, the loser's query finds no row at all.
        Escalation.objects.select_for_update().filter(pk=pk).values_list("pk", flat=True).get()
        locked = Escalation.objects.select_related(
            "partnership",
            "ladder",
            "stage",
            "pending_stage",
            "raising_agency",
            "receiving_agency",
            "raised_by",
        ).get(pk=pk)
        if expected_revision is not None and locked.revision != expected_revision:
            raise StaleEscalation(
                f"{locked.reference or 'This escalation'} was changed by someone else while you were "
                f"working on it: it is now {locked.get_state_display().lower()} at stage "
                f"{locked.stage.number}. Nothing was saved; check the page and try again."
            )
        allowed = allowed_actions(by, locked)
        if act not in allowed:
            raise ActionRefused(_refusal(locked, act, allowed))
        try:
            yield locked
        except TransitionNotAllowed as exc:
            # Permissions are checked per state first, so this means the two disagree: still
            # refuse in words rather than fail with the state machine's own error.
            raise ActionRefused(_refusal(locked, act, frozenset())) from exc
        locked.revision += 1
        locked.updated_on = timezone.now()
        locked.save()


def _refusal(escalation: Escalation, act: Act, allowed: frozenset[Act]) -> str:
    state = escalation.get_state_display().lower()
    # Someone who may move it on but not this way: say why, not just "not yours to do".
    if Act.ASK_TO_ESCALATE in allowed and act == Act.ESCALATE:
        # The next stage names who moves it there, and this person is not one of them.
        return who_may_move_into(escalation, following_stage(escalation))
    if Act.RESOLVE in allowed and act == Act.ESCALATE:
        return "This escalation is at the last stage of the ladder; it can only be resolved."
    if Act.RESOLVE in allowed and act == Act.ADVANCE_STEP:
        return "This stage has no further timed step; escalate or resolve it instead."
    return f"You cannot {act.value.replace('_', ' ')} this escalation: it is {state}, or that is not yours to do."
