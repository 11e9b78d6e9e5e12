"""Notices follow access (ADR 0028). The header's unread count and the notifications page read
only the notice rows (`Notice.objects.shown_to`), never the escalation table, so that every
page costs the same for a person with thousands of notices as for one with none. Who may
still open what a notice is about is therefore kept on the notice itself, in `hidden_at`, and
this module is its one home: a notice is written only for someone who may open the escalation
(`Notice.objects.write`, ADR 0022), and whenever that can stop (or start again) being true, the
notices concerned are hidden (or shown again) here, by the rule of `visible_notices`.

What changes access (SPEC section 3):
- a person's roles: one given, removed, or replaced when a leaver returns (every Membership
  saved or deleted, whoever does it, the admin included: connected in escalations.apps);
- the escalation itself: a holder who is replaced may no longer open it (`enter_stage`).
  Its agencies never change, sharing with the partnership and adding a participant only
  widen it, and a draft has no notices.
A leaver's notices are left as they are: they cannot sign in, the relay gives up on them, and
if they return their roles are replaced, which brings their notices in line again."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.utils import timezone

from cases.models import Person
from escalations.models import Notice
from escalations.notices.summary import visible_notices

# A membership saved with only these fields changed gives no access and takes none away.
ACCESS_FIELDS = frozenset({"person", "person_id", "role", "agency", "agency_id", "partnership"})


def follow_access(person_id: int) -> int:
    """Hide the person's notices about what they may no longer open and show again those they
    may open again, by the rule of visible_notices read afresh (roles as saved now). Returns
    how many notices changed. Two queries where the person has no notices at all."""
    # scoped-lookup: allowed (the person's own notices, hidden or shown by visible_notices)
    theirs = Notice.objects.filter(recipient_id=person_id)
    if not theirs.exists():
        return 0
    # A fresh account: the caller's copy may hold the roles as they were before the change.
    user = get_user_model().objects.filter(person__pk=person_id, is_active=True).first()
    if user is None:
        return 0
    visible = theirs.filter(visible_notices(user)).values("pk")
    hidden = theirs.filter(hidden_at__isnull=True).exclude(pk__in=visible)
    shown = theirs.filter(hidden_at__isnull=False, pk__in=visible)
    return hidden.update(hidden_at=timezone.now()) + shown.update(hidden_at=None)


def follow_membership(sender, instance, update_fields=None, **kwargs) -> None:
    """post_save and post_delete of a Membership: the person's roles changed."""
    if update_fields is not None and not (set(update_fields) & ACCESS_FIELDS):
        return
    follow_access(instance.person_id)


def hide_where_sight_lost(escalation, person_ids: Iterable[int | None]) -> int:
    """After a change to the escalation in hand (a new holder), hide its notices from those of
    these people who may no longer open it, asked of the escalation as it stands in memory
    (Escalation.open_to, the rule of visible_to), as the notices written with it are."""
    ids = {pk for pk in person_ids if pk is not None}
    if not ids or escalation.pk is None:
        return 0
    # scoped-lookup: allowed (notices about the escalation in hand, for these people only)
    about = Notice.objects.filter(escalation_id=escalation.pk, hidden_at__isnull=True)
    holding = set(about.filter(recipient_id__in=ids).values_list("recipient_id", flat=True))
    if not holding:
        return 0
    lost = [
        p.pk
        for p in Person.objects.filter(pk__in=holding).select_related("user")
        if not escalation.open_to(p)
    ]
    return about.filter(recipient_id__in=lost).update(hidden_at=timezone.now()) if lost else 0
