"""Changes to a person's account and roles, one function for each thing an administrator does.
Each checks the scope may do it, changes, and writes the audit entry, in one transaction."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.models import Agency, Membership, Person
from people.audit import agencies_of, audited, role_words
from people.scope import Can, Refused, Scope
from policies.models import AGENCY_ROLES, Partnership, Role


def _lock(person: Person) -> Person:
    """The person's row locked, so two administrators changing one person queue up."""
    return Person.objects.select_for_update().select_related("user").get(pk=person.pk)


def account_with_email(email: str, *, exclude: Person | None = None) -> Person | None:
    """The person whose account uses this email address (or username), if any."""
    people = Person.objects.filter(email__iexact=email) | Person.objects.filter(
        user__email__iexact=email
    )
    people |= Person.objects.filter(user__username__iexact=email)
    if exclude is not None:
        people = people.exclude(pk=exclude.pk)
    found = list(people.select_related("user").distinct().order_by("-user__is_active", "pk")[:2])
    return found[0] if found else None


def add_role(
    person: Person,
    *,
    scope: Scope,
    role: str,
    job_title: str,
    agency: Agency | None = None,
    partnership: Partnership | None = None,
    by: Person,
    request=None,
) -> Membership:
    """Give a person a role in one of the scope's agencies (or its partnership)."""
    scope.require(Can.ADD_ROLES if scope.is_partnership else Can.INVITE)
    membership = Membership(
        person=person,
        role=role,
        job_title=job_title.strip() or Role(role).label,
        agency=agency if role in AGENCY_ROLES else None,
        partnership=None if role in AGENCY_ROLES else partnership,
    )
    if not scope.manages(membership):
        raise Refused(f"You cannot give the role {Role(role).label.lower()} there.")
    with transaction.atomic():
        _lock(person)
        if Membership.objects.filter(
            person=person,
            role=role,
            agency=membership.agency,
            partnership=membership.partnership,
        ).exists():
            raise Refused(f"{person.full_name} already holds that role there.")
        membership.save()
        audited(
            by=by,
            what=f"Role given to {person.full_name}",
            object_type="person",
            object_id=person.pk,
            partnership_id=membership.partnership_id or scope.audit_partnership_id(),
            agency_ids=[membership.agency_id],
            changes=[("Role", "", role_words(membership))],
            request=request,
        )
    return membership


def change_job_title(membership: Membership, *, scope: Scope, job_title: str, by, request=None):
    scope.require(Can.ADD_ROLES if scope.is_partnership else Can.INVITE)
    if not scope.manages(membership):
        raise Refused("You cannot change that role.")
    job_title = job_title.strip()
    if not job_title:
        raise Refused("Enter the job title.")
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        before = locked.job_title
        if before == job_title:
            return locked
        locked.job_title = job_title
        locked.save(update_fields=["job_title"])
        audited(
            by=by,
            what=f"Job title of {locked.person.full_name} changed",
            object_type="person",
            object_id=locked.person_id,
            partnership_id=locked.partnership_id or scope.audit_partnership_id(),
            agency_ids=[locked.agency_id],
            changes=[(f"Job title ({locked.get_role_display()})", before, job_title)],
            request=request,
        )
    return locked


def remove_role(membership: Membership, *, scope: Scope, by: Person, request=None) -> None:
    """Take away one role. A person's last role is not removed: they are marked a leaver
    (people.leavers), which keeps the record of who they were."""
    scope.require(Can.REMOVE)
    if not scope.manages(membership):
        raise Refused("You cannot remove that role.")
    person = membership.person
    with transaction.atomic():
        _lock(person)
        if not Membership.objects.filter(pk=membership.pk).exists():
            raise Refused("That role has already been removed.")
        remaining = list(Membership.objects.filter(person=person).exclude(pk=membership.pk))
        if not remaining:
            raise Refused(
                f"This is {person.full_name}'s only role. If they have left, mark them as a "
                "leaver instead: that ends their access and keeps their history."
            )
        if membership.role == Role.PARTNERSHIP_ADMIN:
            if person.pk == by.pk:
                raise Refused("You cannot remove your own administrator role.")
            others = Membership.objects.filter(
                partnership=membership.partnership_id,
                role=Role.PARTNERSHIP_ADMIN,
                person__user__is_active=True,
            ).exclude(pk=membership.pk)
            if not others.exists():
                raise Refused("The partnership would have no administrator left.")
        words = role_words(membership)
        Membership.objects.filter(pk=membership.pk).delete()
        audited(
            by=by,
            what=f"Role removed from {person.full_name}",
            object_type="person",
            object_id=person.pk,
            partnership_id=membership.partnership_id or scope.audit_partnership_id(),
            agency_ids=[membership.agency_id],
            changes=[("Role", words, "")],
            request=request,
        )


def edit_person(
    person: Person,
    *,
    scope: Scope,
    full_name: str,
    email: str,
    by: Person,
    phone: str | None = None,
    request=None,
) -> Person:
    """Change the name, email address and work phone (None: leave the phone as it is). A
    username that was the email address follows it, so that 'your username is your email
    address' stays true."""
    scope.require(Can.EDIT_PEOPLE)
    if not scope.whole(person):
        raise Refused(f"{person.full_name} also has roles elsewhere: ask their administrators.")
    full_name, email = full_name.strip(), email.strip().lower()
    with transaction.atomic():
        locked = _lock(person)
        user = locked.user
        if not user.is_active:
            raise Refused(f"{locked.full_name} has left: their name stays as it was.")
        changes = []
        if locked.full_name != full_name:
            changes.append(("Name", locked.full_name, full_name))
            locked.full_name = full_name
        if locked.email.lower() != email:
            if account_with_email(email, exclude=locked) is not None:
                raise Refused("Another account already uses that email address.")
            changes.append(("Email address", locked.email, email))
            if user.username.lower() == locked.email.lower():
                user.username = email
            locked.email = user.email = email
        if phone is not None and locked.phone != phone:
            changes.append(("Work phone", locked.phone, phone))
            locked.phone = phone
        if not changes:
            return locked
        try:
            with transaction.atomic():
                user.save(update_fields=["username", "email"])
        except IntegrityError as exc:
            raise Refused("Another account already uses that email address.") from exc
        locked.save(update_fields=["full_name", "email", "phone"])
        audited(
            by=by,
            what=f"Details of {locked.full_name} changed",
            object_type="person",
            object_id=locked.pk,
            partnership_id=scope.audit_partnership_id(),
            agency_ids=agencies_of(locked),
            changes=changes,
            request=request,
        )
    return locked


def change_my_work_phone(person: Person, phone: str, *, request=None) -> Person:
    """A person sets their own work phone on their account page (issue 17, point 12): the
    directory and the emergency route show it beside their email. Audited like any change to
    a person, for their agencies' administrators and leads."""
    with transaction.atomic():
        locked = _lock(person)
        if locked.phone == phone:
            return locked
        before, locked.phone = locked.phone, phone
        locked.save(update_fields=["phone"])
        audited(
            by=locked,
            what=f"{locked.full_name} changed their work phone",
            object_type="person",
            object_id=locked.pk,
            agency_ids=agencies_of(locked),
            changes=[("Work phone", before, phone)],
            request=request,
        )
    return locked


def reset_second_factor(person: Person, *, scope: Scope, by: Person, request=None) -> int:
    """Remove the person's authenticator app and backup codes (a lost phone): at their next
    sign-in they set up a new app. Their sessions end now. Returns the devices removed."""
    scope.require(Can.RESET_SECOND_FACTOR)
    if not scope.whole(person):
        raise Refused(f"{person.full_name} also has roles elsewhere: ask their administrators.")
    if person.pk == by.pk:
        raise Refused("Reset your own second factor from your account: ask another administrator.")
    with transaction.atomic():
        locked = _lock(person)
        apps = TOTPDevice.objects.filter(user=locked.user)
        codes = StaticDevice.objects.filter(user=locked.user)
        before = f"{apps.filter(confirmed=True).count()} app(s), {codes.count()} set(s) of codes"
        removed = apps.delete()[0] + codes.delete()[0]
        audited(
            by=by,
            what=f"Second factor of {locked.full_name} reset",
            object_type="person",
            object_id=locked.pk,
            partnership_id=scope.audit_partnership_id(),
            agency_ids=agencies_of(locked),
            changes=[("Second factor", before, "none: sets up a new app at next sign-in")],
            request=request,
        )
    end_sessions(person.user)
    return removed


def end_sessions(user) -> int:
    """Delete every live session of the user (ASVS 7.4.2: sessions end at deactivation).

    Sessions are stored in the database (django.contrib.sessions' default); a session names its
    user only inside its encoded data, so the live ones are read and decoded. Any other session
    store is covered by security.middleware.SessionLimitsMiddleware, which ends a session whose
    user may no longer sign in at its next request."""
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return 0
    mine = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=500):
        if session.get_decoded().get(SESSION_KEY) == str(user.pk):
            mine.append(session.session_key)
    return Session.objects.filter(session_key__in=mine).delete()[0]


def new_user(email: str, full_name: str):
    """An unsaved account whose username is its email address."""
    given, _, family = full_name.partition(" ")
    return get_user_model()(
        username=email.lower(), email=email.lower(), first_name=given[:150], last_name=family[:150]
    )
