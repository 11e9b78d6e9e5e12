"""Invitations (issue 19, point 3): a single-use link by email that expires in 72 hours; the
invitee sets a password and sets up the second factor before seeing anything. An email that
already has an account gets the role added instead of a second person."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEntry
from cases.models import Agency, Membership, Person
from people.accounts import account_with_email, new_user
from people.audit import audited, entries, role_words, roles_words
from people.mail import send_after_commit
from people.models import INVITATION_LIFETIME, Invitation, InvitedRole, token_hash
from people.scope import Can, Refused, Scope
from policies.models import AGENCY_ROLES, Partnership, Role

# How often an invitee may ask for a new link from an expired one before they must ask the
# person who invited them (a link is only ever sent to the address the administrator typed).
MAX_RENEWALS_ASKED = 3


@dataclass(frozen=True)
class RoleSpec:
    role: str
    job_title: str = ""
    agency: Agency | None = None
    partnership: Partnership | None = None

    @property
    def agency_id(self) -> int | None:
        return self.agency.pk if self.agency and self.role in AGENCY_ROLES else None

    @property
    def partnership_id(self) -> int | None:
        if self.role in AGENCY_ROLES or self.partnership is None:
            return None
        return self.partnership.pk

    def key(self) -> tuple:
        return (self.role, self.agency_id, self.partnership_id)


@dataclass
class Newcomer:
    """An address with no active account and no invitation waiting (people.imports)."""

    email: str
    full_name: str
    person: Person | None = None  # an inactive account: a returning leaver
    roles: list[RoleSpec] = field(default_factory=list)


@dataclass
class Invited:
    """What inviting did: 'invited' (a new invitation), 'added to invitation' (roles added to
    one already waiting), 'role added' (an existing account), or 'no change'."""

    outcome: str
    person: Person | None = None
    invitation: Invitation | None = None

    @property
    def changed(self) -> bool:
        return self.outcome != "no change"


def find(token: str) -> Invitation | None:
    """The invitation whose latest link carries this secret."""
    if not token or len(token) > 100:
        return None
    return (
        Invitation.objects.select_related("person__user", "invited_by", "renewed_as")
        .prefetch_related("roles__agency", "roles__partnership")
        .filter(kind=Invitation.Kind.ACCOUNT, token_hash=token_hash(token))
        .first()
    )


def in_scope(scope: Scope) -> QuerySet[Invitation]:
    """Invitations for a role in the scope's agencies or partnership."""
    return Invitation.objects.filter(
        pk__in=InvitedRole.objects.filter(scope.membership_condition()).values("invitation_id")
    )


def invite(
    *,
    scope: Scope,
    email: str,
    full_name: str,
    roles: list[RoleSpec],
    by: Person,
    request=None,
    kick: bool = True,
) -> Invited:
    """Invite someone to roles in the scope; see Invited for what it may do instead. kick:
    ask a worker to send the email once committed (a bulk import asks once, at its end)."""
    scope.require(Can.INVITE)
    email, full_name = email.strip().lower(), full_name.strip()
    for spec in roles:
        wanted = InvitedRole(
            role=spec.role, agency_id=spec.agency_id, partnership_id=spec.partnership_id
        )
        if not scope.manages(wanted):
            raise Refused(f"You cannot give the role {Role(spec.role).label.lower()} there.")
    with transaction.atomic():
        existing = account_with_email(email)
        if existing is not None and existing.user.is_active:
            done = _add_roles(existing, roles, scope=scope, by=by, request=request)
            if kick and done.changed:
                kick_sending()
            return done
        waiting = (
            Invitation.objects.pending()
            .select_for_update()
            .filter(kind=Invitation.Kind.ACCOUNT, email__iexact=email)
            .order_by("-invited_on")
            .first()
        )
        if waiting is not None:
            return _add_to_invitation(waiting, roles, scope=scope, by=by, request=request)
        invitation = Invitation.objects.create(
            kind=Invitation.Kind.ACCOUNT,
            email=email,
            full_name=full_name,
            person=existing,  # a returning leaver: the same person comes back
            invited_by=by,
        )
        made = _invited_roles(invitation, roles, scope)
        audited(
            by=by,
            what=f"{full_name} invited" + (" (returning leaver)" if existing is not None else ""),
            object_type="invitation",
            object_id=invitation.pk,
            partnership_id=scope.audit_partnership_id(),
            agency_ids=[r.agency_id for r in made],
            changes=[("Email address", "", email), ("Roles", "", roles_words(made))],
            request=request,
        )
    if kick:
        kick_sending()
    return Invited("invited", existing, invitation)


def invite_many(newcomers: list[Newcomer], *, scope: Scope, by: Person, request=None) -> int:
    """What invite() does for each address with no active account and no invitation waiting,
    for many at once (a bulk import), in a few queries. Returns how many were invited."""
    scope.require(Can.INVITE)
    now = timezone.now()
    made = Invitation.objects.bulk_create(
        Invitation(
            kind=Invitation.Kind.ACCOUNT,
            email=n.email.lower(),
            full_name=n.full_name,
            person=n.person,
            invited_by=by,
            invited_on=now,
            expires_at=now + INVITATION_LIFETIME,
        )
        for n in newcomers
    )
    roles, audit = [], []
    for invitation, newcomer in zip(made, newcomers, strict=True):
        mine = [_new_role(invitation, spec, scope) for spec in dict.fromkeys(newcomer.roles)]
        roles += mine
        audit += entries(
            by=by,
            what=f"{newcomer.full_name} invited (import)",
            object_type="invitation",
            object_id=invitation.pk,
            partnership_id=scope.audit_partnership_id(),
            agency_ids=[r.agency_id for r in mine],
            changes=[("Email address", "", invitation.email), ("Roles", "", roles_words(mine))],
            request=request,
        )
    InvitedRole.objects.bulk_create(roles)
    AuditEntry.objects.bulk_create(audit)
    return len(made)


def _new_role(invitation: Invitation, spec: RoleSpec, scope: Scope) -> InvitedRole:
    role = InvitedRole(
        invitation=invitation,
        role=spec.role,
        job_title=spec.job_title.strip() or Role(spec.role).label,
        agency=spec.agency if spec.agency_id else None,
        partnership=spec.partnership if spec.partnership_id else None,
    )
    if not scope.manages(role):
        raise Refused(f"You cannot give the role {Role(spec.role).label.lower()} there.")
    return role


def _invited_roles(invitation: Invitation, roles: list[RoleSpec], scope: Scope) -> list:
    """The roles the invitation does not have yet, added to it."""
    have = {(r.role, r.agency_id, r.partnership_id) for r in invitation.roles.all()}
    made = [
        _new_role(invitation, spec, scope)
        for spec in dict.fromkeys(roles)
        if spec.key() not in have
    ]
    return InvitedRole.objects.bulk_create(made)


def _add_to_invitation(waiting, roles, *, scope, by, request) -> Invited:
    made = _invited_roles(waiting, roles, scope)
    if not made:
        return Invited("no change", waiting.person, waiting)
    audited(
        by=by,
        what=f"Roles added to the invitation of {waiting.full_name}",
        object_type="invitation",
        object_id=waiting.pk,
        partnership_id=scope.audit_partnership_id(),
        agency_ids=[r.agency_id for r in made],
        changes=[("Roles", "", roles_words(made))],
        request=request,
    )
    return Invited("added to invitation", waiting.person, waiting)


def _add_roles(person: Person, roles, *, scope, by, request) -> Invited:
    """An active account: the roles are added now, and the person is told by email."""
    Person.objects.select_for_update().filter(pk=person.pk).first()
    held = {(m.role, m.agency_id, m.partnership_id) for m in person.memberships.all()}
    made = []
    for spec in roles:
        if spec.key() in held:
            continue
        held.add(spec.key())
        made.append(
            Membership.objects.create(
                person=person,
                role=spec.role,
                job_title=spec.job_title.strip() or Role(spec.role).label,
                agency_id=spec.agency_id,
                partnership_id=spec.partnership_id,
            )
        )
    if not made:
        return Invited("no change", person)
    news = Invitation.objects.create(
        kind=Invitation.Kind.ROLE_ADDED,
        email=person.email,
        full_name=person.full_name,
        person=person,
        invited_by=by,
        accepted_on=timezone.now(),
    )
    _invited_roles(news, roles, scope)
    audited(
        by=by,
        what=f"Role given to {person.full_name} (already had an account)",
        object_type="person",
        object_id=person.pk,
        partnership_id=scope.audit_partnership_id(),
        agency_ids=[m.agency_id for m in made],
        changes=[("Roles", "", roles_words(made))],
        request=request,
    )
    return Invited("role added", person, news)


def accept(invitation: Invitation, *, password: str | None, request=None) -> Person:
    """The invitee's account: made (or, for a returning leaver, reactivated afresh: new
    password, no old second factor, only the roles now given), with the invited roles."""
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.token_hash != invitation.token_hash or locked.state != "valid":
            raise Refused("This invitation has already been used or is no longer valid.")
        roles = list(locked.roles.select_related("agency", "partnership"))
        existing = account_with_email(locked.email)
        changes = [("Account", "", "Set up from the invitation")]
        if existing is not None and existing.user.is_active:
            # Invited twice at once, and the other invitation was accepted first.
            person = existing
        elif password is None:
            raise Refused("Choose a password to set up your account.")
        elif existing is not None:
            person = _returning(existing, password, changes)
        else:
            user = new_user(locked.email, locked.full_name)
            user.set_password(password)
            user.save()
            person = Person.objects.create(
                user=user, full_name=locked.full_name, email=locked.email
            )
        held = {(m.role, m.agency_id, m.partnership_id) for m in person.memberships.all()}
        for r in roles:
            if (r.role, r.agency_id, r.partnership_id) not in held:
                Membership.objects.create(
                    person=person,
                    role=r.role,
                    job_title=r.job_title,
                    agency_id=r.agency_id,
                    partnership_id=r.partnership_id,
                )
        locked.accepted_on = timezone.now()
        locked.person = person
        locked.save(update_fields=["accepted_on", "person"])
        changes.append(("Roles", "", "; ".join(role_words(r) for r in roles)))
        audited(
            by=person,
            what=f"Invitation accepted by {person.full_name}",
            object_type="invitation",
            object_id=locked.pk,
            agency_ids=[r.agency_id for r in roles],
            partnership_id=next((r.partnership_id for r in roles if r.partnership_id), None),
            changes=changes,
            request=request,
        )
    return person


def _returning(person: Person, password: str, changes: list) -> Person:
    """A leaver invited back: the same person, a fresh start (nothing of the old account's
    roles, password or second factor carries over)."""
    user = person.user
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    old = list(person.memberships.select_related("agency", "partnership"))
    changes.append(("Roles before leaving", roles_words(old), ""))
    Membership.objects.filter(pk__in=[m.pk for m in old]).delete()
    person.left_on = None
    person.left_recorded_by = None
    person.save(update_fields=["left_on", "left_recorded_by"])
    person._prefetched_objects_cache = {}
    return person


def may_ask_again(invitation: Invitation) -> bool:
    return invitation.state == "expired" and invitation.renewals_asked < MAX_RENEWALS_ASKED


def renew(
    invitation: Invitation, *, by: Person | None = None, scope: Scope | None = None, request=None
) -> Invitation:
    """A new invitation (a new link, 72 hours) in place of this one, to the same address.

    By an administrator in scope (any time before it is used), or by the invitee from an
    expired link (by=None), a bounded number of times."""
    with transaction.atomic():
        old = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if old.accepted_on or old.cancelled_on or old.renewed_as_id:
            raise Refused("This invitation has been used, withdrawn or replaced already.")
        if by is None and not may_ask_again(old):
            raise Refused("Ask the person who invited you to send a new invitation.")
        now = timezone.now()
        new = Invitation.objects.create(
            kind=old.kind,
            email=old.email,
            full_name=old.full_name,
            person=old.person,
            invited_by=by or old.invited_by,
            invited_on=now,
            expires_at=now + INVITATION_LIFETIME,
            renewals_asked=old.renewals_asked + (1 if by is None else 0),
        )
        roles = list(old.roles.all())
        InvitedRole.objects.bulk_create(
            InvitedRole(
                invitation=new,
                role=r.role,
                job_title=r.job_title,
                agency_id=r.agency_id,
                partnership_id=r.partnership_id,
            )
            for r in roles
        )
        old.renewed_as = new
        old.save(update_fields=["renewed_as"])
        audited(
            by=by,
            what=f"New invitation link for {old.full_name}"
            + (" (asked for by the invitee)" if by is None else ""),
            object_type="invitation",
            object_id=new.pk,
            partnership_id=scope.audit_partnership_id() if scope else None,
            agency_ids=[r.agency_id for r in roles],
            changes=[("Link expires", _when(old.expires_at), _when(new.expires_at))],
            request=request,
        )
    kick_sending()
    return new


def cancel(invitation: Invitation, *, scope: Scope, by: Person, request=None) -> None:
    scope.require(Can.INVITE)
    with transaction.atomic():
        old = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if old.accepted_on or old.cancelled_on or old.renewed_as_id:
            raise Refused("This invitation has been used, withdrawn or replaced already.")
        old.cancelled_on = timezone.now()
        old.cancelled_by = by
        old.save(update_fields=["cancelled_on", "cancelled_by"])
        audited(
            by=by,
            what=f"Invitation of {old.full_name} withdrawn",
            object_type="invitation",
            object_id=old.pk,
            partnership_id=scope.audit_partnership_id(),
            agency_ids=list(old.roles.values_list("agency_id", flat=True)),
            changes=[("Invitation", "Waiting", "Withdrawn")],
            request=request,
        )


def scoped_invitation(scope: Scope, pk: int) -> Invitation:
    invitation = in_scope(scope).filter(pk=pk, kind=Invitation.Kind.ACCOUNT).first()
    if invitation is None:
        raise Http404
    return invitation


def open_for(scope: Scope) -> QuerySet[Invitation]:
    """The scope's invitations not yet used, withdrawn or replaced, newest first."""
    return (
        in_scope(scope)
        .open()
        .filter(kind=Invitation.Kind.ACCOUNT)
        .filter(Q(person__isnull=True) | Q(person__user__is_active=False))
    )


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%d %B %Y %H:%M")


def kick_sending() -> None:
    send_after_commit()
