"""The escalation's named values: states and their groups, pathways, natures, outcomes, notes."""

from __future__ import annotations

from django.db import models

from policies.models import PARTNERSHIP_ROLES


class State(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"


# Groups of states, named once.
LIVE_STATES = (State.OPEN, State.AWAITING_APPROVAL)  # the clock runs
ACTIVE_STATES = (State.OPEN, State.AWAITING_APPROVAL, State.RESOLVED)
FINAL_STATES = (State.CLOSED, State.WITHDRAWN)
WITHDRAWABLE_STATES = (State.DRAFT, State.OPEN, State.AWAITING_APPROVAL)


class Pathway(models.TextChoices):
    REFERRAL = "referral", "At point of referral"
    CHILD_PROTECTION = "child_protection", "Ongoing case: child protection"
    CHILD_IN_NEED = "child_in_need", "Ongoing case: child in need"
    CHILD_LOOKED_AFTER = "child_looked_after", "Ongoing case: child looked after"
    EARLY_SUPPORT = "early_support", "Ongoing case: early support"
    CONFERENCE = "conference", "Child protection conference"
    OTHER = "other", "Other"


class Nature(models.TextChoices):
    """SPEC section 4; the first seven are the Kirklees record form's boxes."""

    REFERRAL_DECISION = "referral_decision", "Referral decision"
    ASSESSMENT = "assessment", "Need for, or outcome of, an assessment"
    PLAN_IMPLEMENTATION = (
        "plan_implementation",
        "Implementation of the child's plan (agreed actions not followed through)",
    )
    PLAN_EFFECTIVENESS = "plan_effectiveness", "Effectiveness of the child's plan (drift or delay)"
    INFORMATION_SHARING = "information_sharing", "Information sharing"
    CONFERENCE_DECISION = "conference_decision", "Child protection case conference decision"
    ROLES = "roles", "Roles and responsibilities"
    SERVICES = "services", "Provision of services"
    OTHER = "other", "Other"


class OutcomeCategory(models.TextChoices):
    UPHELD = "upheld", "Upheld"
    PARTLY_UPHELD = "partly_upheld", "Partly upheld"
    NOT_UPHELD = "not_upheld", "Not upheld"
    INFORMATION_SHARED = "information_shared", "Resolved by sharing information"
    WITHDRAWN = "withdrawn", "Withdrawn"


# Partnership roles that see the partnership's aggregate figures (dashboards, reports). SPEC
# section 3: "Partnership roles see aggregate figures for all escalations of their partnership":
# all of them, the administrator included (who already sees the full record once the partnership
# is brought in, through visible_to).
PARTNERSHIP_FIGURES_ROLES = PARTNERSHIP_ROLES


class NoteKind(models.TextChoices):
    NOTE = "note", "Note"
    DISCUSSION = "discussion", "Discussion"
    MEETING = "meeting", "Meeting"
    WAITING = "waiting", "Waiting on the other agency"
