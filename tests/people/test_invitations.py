"""Invitations: a single-use link by email for 72 hours; a password, then the second factor,
before anything else; clear pages for expired and used links; an email that already has an
account gets the role, not a second person."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from cases.models import Membership, Person
from people import invitations
from people import mail as invitation_mail
from people.invitations import RoleSpec
from people.models import Invitation
from people.scope import agency_scope
from policies.models import Role
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db
PASSWORD = "a long enough passphrase 2026"


def invite_nina(client, world, **overrides):
    sign_in(client, world.kim)
    data = {
        "full_name": "Nina New",
        "email": "Nina.New@example.invalid",
        "place": str(world.school.pk),
        "role": Role.PRACTITIONER,
        "job_title": "Teaching Assistant",
        **overrides,
    }
    return client.post("/manage/partnerships/kirklees/invite/", data)


def link_in_latest_email() -> str:
    return re.search(r"http://\S+/invitation/(\S+)/", mail.outbox[-1].body).group(0)


def test_an_administrator_invites_and_the_email_carries_a_single_use_link(client, world):
    response = invite_nina(client, world)
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.email == "nina.new@example.invalid"
    assert invitation.expires_at - invitation.invited_on == timedelta(hours=72)
    assert mail.outbox == []  # sent by the outbox, outside the request's transaction
    assert invitation_mail.send_due().sent == 1
    assert mail.outbox[0].to == ["nina.new@example.invalid"]
    body = mail.outbox[0].body
    assert "Kim King has invited you" in body
    assert "Practitioner at Meadow School (Teaching Assistant)" in body
    token = link_in_latest_email().rstrip("/").rsplit("/", 1)[1]
    # Only a hash of the secret is stored.
    invitation.refresh_from_db()
    assert token not in invitation.token_hash and invitations.find(token) == invitation
    assert invitation_mail.send_due().sent == 0  # sent once


def test_the_invitee_sets_a_password_then_must_set_up_the_second_factor(client, world):
    invite_nina(client, world)
    invitation_mail.send_due()
    link = link_in_latest_email()
    client.logout()
    page = client.get(link)
    assert page.status_code == 200
    assert b"nina.new@example.invalid" in page.content
    response = client.post(link, {"password": PASSWORD, "password_again": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith("/account/two-factor/set-up/")
    nina = Person.objects.get(full_name="Nina New")
    assert nina.user.username == "nina.new@example.invalid"
    assert nina.user.check_password(PASSWORD)
    assert [(m.role, m.agency, m.job_title) for m in nina.memberships.all()] == [
        (Role.PRACTITIONER, world.school, "Teaching Assistant")
    ]
    # Signed in with the password only: every page sends her to set up the app first.
    home = client.get("/")
    assert home.status_code == 302 and home["Location"].startswith("/account/two-factor/")
    # The link is single-use.
    used = client.get(link)
    assert used.status_code == 410
    assert b"This invitation has been used" in used.content


def test_the_password_must_pass_the_portals_validators(client, world):
    invite_nina(client, world)
    invitation_mail.send_due()
    link = link_in_latest_email()
    client.logout()
    response = client.post(link, {"password": "short", "password_again": "short"})
    assert response.status_code == 400
    assert b"There is a problem" in response.content
    assert b"at least 12 characters" in response.content
    response = client.post(link, {"password": PASSWORD, "password_again": PASSWORD + "x"})
    assert b"The passwords do not match" in response.content
    assert not Person.objects.filter(full_name="Nina New").exists()


def test_an_expired_link_says_so_and_sends_a_new_one_to_the_same_address(client, world):
    invite_nina(client, world)
    invitation_mail.send_due()
    link = link_in_latest_email()
    client.logout()
    with time_machine.travel(timezone.now() + timedelta(hours=73)):
        response = client.get(link)
        assert response.status_code == 410
        assert b"This invitation has expired" in response.content
        assert b"Send me a new link" in response.content
        response = client.post(f"{link}ask-again/")
        assert b"A new link is on its way" in response.content
        assert invitation_mail.send_due().sent == 1
    assert mail.outbox[-1].to == ["nina.new@example.invalid"]
    assert client.get(link).status_code == 410  # the old one: replaced
    assert b"A newer invitation was sent" in client.get(link).content
    new_link = link_in_latest_email()
    assert client.get(new_link).status_code == 200


def test_an_unknown_link_gets_a_clear_page(client, db):
    response = client.get("/invitation/not-a-real-secret/")
    assert response.status_code == 404
    assert b"This invitation link is not valid" in response.content


def test_inviting_an_email_that_has_an_account_adds_the_role_not_a_second_person(client, world):
    people_before = Person.objects.count()
    response = invite_nina(client, world, email="ERIN@example.invalid", full_name="Erin E")
    assert response.status_code == 302
    assert Person.objects.count() == people_before
    assert world.erin.memberships.filter(agency=world.school, role=Role.PRACTITIONER).exists()
    assert invitation_mail.send_due().sent == 1
    assert "You have a new role" in mail.outbox[-1].subject
    assert "/invitation/" not in mail.outbox[-1].body


def test_inviting_the_same_email_twice_adds_the_role_to_the_waiting_invitation(client, world):
    invite_nina(client, world)
    invite_nina(client, world, role=Role.LINE_MANAGER)
    invite_nina(client, world, role=Role.LINE_MANAGER)
    invitation = Invitation.objects.get()
    assert sorted(invitation.roles.values_list("role", flat=True)) == [
        Role.LINE_MANAGER,
        Role.PRACTITIONER,
    ]


def test_a_returning_leaver_gets_their_old_account_afresh(client, world):
    charlie = world.charlie
    charlie.user.is_active = False
    charlie.user.save()
    sign_in(client, world.kim)
    client.post(
        "/manage/partnerships/kirklees/invite/",
        {
            "full_name": "Charlie Chase",
            "email": charlie.email,
            "place": str(world.school.pk),
            "role": Role.LINE_MANAGER,
        },
    )
    invitation_mail.send_due()
    client.logout()
    link = link_in_latest_email()
    client.post(link, {"password": PASSWORD, "password_again": PASSWORD})
    charlie.refresh_from_db()
    charlie.user.refresh_from_db()
    assert charlie.user.is_active and charlie.user.check_password(PASSWORD)
    assert [(m.role, m.agency) for m in charlie.memberships.all()] == [
        (Role.LINE_MANAGER, world.school)
    ]
    assert get_user_model().objects.filter(email__iexact=charlie.email).count() == 1


def test_a_safeguarding_lead_invites_only_practitioners_and_line_managers_of_their_agency(
    client, world
):
    sign_in(client, world.carol)
    base = f"/manage/agencies/{world.school.pk}/"
    response = client.post(
        f"{base}invite/",
        {
            "full_name": "Sid Senior",
            "email": "sid@example.invalid",
            "place": str(world.school.pk),
            "role": Role.SENIOR_MANAGER,
        },
    )
    assert response.status_code == 400
    assert b"Select a role from the list" in response.content
    response = client.post(
        f"{base}invite/",
        {
            "full_name": "Sam Line",
            "email": "sam@example.invalid",
            "place": str(world.csc.pk),
            "role": Role.LINE_MANAGER,
        },
    )
    assert b"Select an agency from the list" in response.content
    assert not Invitation.objects.exists()
    client.post(
        f"{base}invite/",
        {
            "full_name": "Sam Line",
            "email": "sam@example.invalid",
            "place": str(world.school.pk),
            "role": Role.LINE_MANAGER,
        },
    )
    assert Invitation.objects.get().roles.get().agency == world.school


def test_a_failing_mail_server_is_retried_then_given_up(world, settings):
    settings.EMAIL_BACKEND = "tests.support.email_backends.FailingEmailBackend"
    settings.NOTICE_EMAIL_MAX_ATTEMPTS = 2
    settings.NOTICE_EMAIL_RETRY_SECONDS = 60
    scope = _kirklees(world)
    invitations.invite(
        scope=scope,
        email="nina@example.invalid",
        full_name="Nina New",
        roles=[RoleSpec(Role.PRACTITIONER, agency=world.school)],
        by=world.kim,
    )
    assert invitation_mail.send_due().failed == 1
    invitation = Invitation.objects.get()
    assert "ConnectionRefusedError" in invitation.email_error
    assert invitation.email_claimed_until is None  # released, not left claimed
    assert invitation_mail.send_due().failed == 0  # waiting for its retry time
    later = timezone.now() + timedelta(seconds=61)
    assert invitation_mail.send_due(now=later).given_up == 1
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert invitation_mail.send_due(now=later + timedelta(hours=1)).sent == 0


def test_a_claimed_invitation_is_not_sent_twice_until_its_lease_runs_out(world):
    scope = _kirklees(world)
    invitations.invite(
        scope=scope,
        email="nina@example.invalid",
        full_name="Nina New",
        roles=[RoleSpec(Role.PRACTITIONER, agency=world.school)],
        by=world.kim,
    )
    # A sender that claimed it and died: the claim stands for its lease.
    Invitation.objects.update(email_claimed_until=timezone.now() + timedelta(minutes=5))
    assert invitation_mail.send_due().sent == 0
    assert invitation_mail.send_due(now=timezone.now() + timedelta(minutes=6)).sent == 1


def test_a_withdrawn_invitation_link_stops_working(client, world):
    invite_nina(client, world)
    invitation_mail.send_due()
    link = link_in_latest_email()
    invitation = Invitation.objects.get()
    client.post(f"/manage/partnerships/kirklees/invitations/{invitation.pk}/withdraw/")
    client.logout()
    response = client.get(link)
    assert response.status_code == 410
    assert b"This invitation has been withdrawn" in response.content
    assert invitation_mail.send_due().sent == 0


def _kirklees(world):
    class Request:
        user = world.kim.user

    from people.scope import partnership_scope

    return partnership_scope(Request, "kirklees")


def test_lead_scope_is_the_leads_own_agency(world):
    class Request:
        user = world.carol.user

    scope = agency_scope(Request, world.school.pk)
    assert scope.agency_ids == {world.school.pk}
    assert Membership.objects.filter(scope.membership_condition()).count() == 4


class SecondSenderDuringSend(BaseEmailBackend):
    """While an email is being sent, another sender runs: it must find nothing to send."""

    seen: list = []

    def send_messages(self, messages):
        if not self.seen:
            self.seen.append(invitation_mail.send_due().sent)
        return len(messages)


def test_an_invitation_being_sent_is_not_sent_by_a_second_sender_meanwhile(world, settings):
    settings.EMAIL_BACKEND = f"{__name__}.SecondSenderDuringSend"
    SecondSenderDuringSend.seen = []
    invitations.invite(
        scope=_kirklees(world),
        email="nina@example.invalid",
        full_name="Nina New",
        roles=[RoleSpec(Role.PRACTITIONER, agency=world.school)],
        by=world.kim,
    )
    assert invitation_mail.send_due().sent == 1
    assert SecondSenderDuringSend.seen == [0]
    assert Invitation.objects.get().email_sent_at is not None
