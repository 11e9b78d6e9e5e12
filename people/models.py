"""Invitations: how a partnership's administrators and agencies' safeguarding leads bring
people into the portal. An invitation row is also its own email outbox (people.mail)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

from cases.models import Agency, Person
from policies.models import AGENCY_ROLES, PARTNERSHIP_ROLES, Partnership, Role

# Issue 19: a single-use link that expires 72 hours after it is made.
INVITATION_LIFETIME = timedelta(hours=72)


def token_hash(token: str) -> str:
    """What is stored of an invitation link's secret."""
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def pending(self, now=None) -> InvitationQuerySet:
        """Not yet used, withdrawn, replaced by a newer one, or expired."""
        return self.filter(
            accepted_on__isnull=True,
            cancelled_on__isnull=True,
            renewed_as__isnull=True,
            expires_at__gt=now or timezone.now(),
        )

    def open(self) -> InvitationQuerySet:
        """Not used, withdrawn or replaced: pending, or expired and still renewable."""
        return self.filter(
            accepted_on__isnull=True, cancelled_on__isnull=True, renewed_as__isnull=True
        )


class Invitation(models.Model):
    """An invitation to one email address, for one or more roles (InvitedRole).

    Kinds: an invitation to set up an account (a link, 72 hours, once), or the news that an
    existing account has been given a role (no link: it is accepted as it is made)."""

    class Kind(models.TextChoices):
        ACCOUNT = "account", "Invitation to set up an account"
        ROLE_ADDED = "role_added", "A role added to an existing account"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ACCOUNT)
    email = models.EmailField()
    full_name = models.CharField(max_length=200)
    # An existing account: a returning leaver (reactivated on acceptance), or, for ROLE_ADDED,
    # the account given the role. Set on acceptance for a new account.
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="invitations"
    )
    invited_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    invited_on = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # SHA-256 of the link's secret: the secret itself is only ever in the email. A new secret
    # is made for each email sent, so only the latest link works.
    token_hash = models.CharField(max_length=64, blank=True)
    accepted_on = models.DateTimeField(null=True, blank=True)
    cancelled_on = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    renewed_as = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="renewal_of"
    )
    # How many times the invitee asked for a new link from an expired one (bounded).
    renewals_asked = models.PositiveSmallIntegerField(default=0)

    # The outbox (people.mail): claimed for a short lease, sent outside any transaction,
    # then recorded; failures retried with a growing wait, a bounded number of times.
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_claimed_until = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_retry_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=300, blank=True)
    email_given_up = models.BooleanField(default=False)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-invited_on", "-id"]
        indexes = [
            models.Index(fields=["email"], name="invitation_email"),
            models.Index(
                fields=["invited_on"],
                name="invitation_unsent",
                condition=Q(email_sent_at__isnull=True, email_given_up=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["token_hash"], condition=~Q(token_hash=""), name="invitation_token_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Invitation to {self.email}"

    def save(self, *args, **kwargs):
        if self.expires_at is None:
            self.expires_at = (self.invited_on or timezone.now()) + INVITATION_LIFETIME
        super().save(*args, **kwargs)

    @property
    def state(self) -> str:
        """'valid' (waiting to be accepted), 'used', 'withdrawn', 'replaced' or 'expired'."""
        if self.accepted_on:
            return "used"
        if self.cancelled_on:
            return "withdrawn"
        if self.renewed_as_id:
            return "replaced"
        if self.expires_at <= timezone.now():
            return "expired"
        return "valid"

    @property
    def status(self) -> str:
        """The state in words, for the administrator's list."""
        return STATUS_WORDS[self.state]


STATUS_WORDS = {
    "used": "Accepted",
    "withdrawn": "Withdrawn",
    "replaced": "Replaced by a newer invitation",
    "expired": "Expired",
    "valid": "Waiting for them to accept",
}


class InvitedRole(models.Model):
    """A role the invitee will hold: in an agency, or in a partnership for the partnership
    roles (the same rule as cases.Membership)."""

    invitation = models.ForeignKey(Invitation, on_delete=models.PROTECT, related_name="roles")
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    partnership = models.ForeignKey(
        Partnership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=30, choices=Role.choices)
    job_title = models.CharField(max_length=200)

    class Meta:
        ordering = ["invitation", "id"]
        constraints = [
            models.CheckConstraint(
                name="invited_agency_role_has_agency_partnership_role_has_partnership",
                condition=(
                    Q(
                        role__in=sorted(r.value for r in AGENCY_ROLES),
                        agency__isnull=False,
                        partnership__isnull=True,
                    )
                    | Q(
                        role__in=sorted(r.value for r in PARTNERSHIP_ROLES),
                        agency__isnull=True,
                        partnership__isnull=False,
                    )
                ),
            ),
            models.UniqueConstraint(
                fields=["invitation", "agency", "partnership", "role"], name="one_invited_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}, {self.agency or self.partnership}"


class Handover(models.Model):
    """A leaver's part in an escalation passed to a colleague (people.leavers); the escalation
    itself records it as an event too. Append-only by use: never edited or deleted."""

    class Part(models.TextChoices):
        # Read after "they": "they raised it and hold it now".
        RAISER = "raiser", "raised it"
        HOLDER = "holder", "hold it now"
        CHALLENGED = "challenged", "are the practitioner challenged"
        COUNTERPART = "counterpart", "are the other agency's counterpart at this stage"
        APPROVER = "approver", "are asked to approve the next stage"

    escalation = models.ForeignKey(
        "escalations.Escalation", on_delete=models.PROTECT, related_name="+"
    )
    leaver = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="handed_over")
    part = models.CharField(max_length=20, choices=Part.choices)
    to = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["leaver", "escalation"])]
