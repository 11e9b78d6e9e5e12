"""The administration pages: a partnership administrator without superuser rights runs their
own partnership's people, agencies, closure days and directory; every change is audited with
before and after, and the audit is visible to the partnership's administrators."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEntry
from cases.models import Agency, Membership, Person
from escalations.models import Escalation, EventKind
from policies.models import ClosureDay, DirectoryEntry, Role
from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in
from tests.personas import make_person
from tests.security.test_isolation import without_csrf

pytestmark = pytest.mark.django_db
KIRKLEES = "/manage/partnerships/kirklees"


def test_the_administrator_is_no_superuser_and_finds_the_pages_from_the_navigation(client, world):
    assert not world.kim.user.is_superuser and not world.kim.user.is_staff
    sign_in(client, world.kim)
    home = client.get("/").content.decode()
    assert 'href="/manage/">Manage people' in home
    response = client.get("/manage/")
    assert response.status_code == 302 and response["Location"] == f"{KIRKLEES}/"
    overview = client.get(f"{KIRKLEES}/")
    assert overview.status_code == 200
    assert b"Invite someone" in overview.content
    sign_in(client, world.alice)
    assert b"Manage people" not in client.get("/").content
    assert client.get("/manage/").status_code == 404


def test_the_people_list_shows_who_holds_which_role_in_the_partnership_only(client, world):
    sign_in(client, world.kim)
    content = client.get(f"{KIRKLEES}/people/").content.decode()
    for name in ("Alice Able", "Erin Earl", "Ivan Ives", "Pat Parr", "Robin Rowe"):
        assert name in content
    assert "Oscar Owen" not in content and "Mallory Moss" not in content
    filtered = client.get(f"{KIRKLEES}/people/?role=safeguarding_lead").content.decode()
    assert "Carol Cole" in filtered and "Alice Able" not in filtered
    bad = client.get(f"{KIRKLEES}/people/?role=wizard")
    assert bad.status_code == 400 and b"Select a role from the list" in bad.content


def test_the_people_list_costs_the_same_queries_for_fifty_people_as_for_five(
    client, world, django_assert_max_num_queries
):
    sign_in(client, world.kim)
    with CaptureQueriesContext(connection) as few:
        client.get(f"{KIRKLEES}/people/")
    for n in range(50):
        make_person(f"extra{n}", f"Extra Person {n}", (world.health, Role.PRACTITIONER))
    with CaptureQueriesContext(connection) as many:
        client.get(f"{KIRKLEES}/people/")
    assert len(many) == len(few)
    with django_assert_max_num_queries(11):
        client.get(f"{KIRKLEES}/people/")
    with django_assert_max_num_queries(11):
        client.get(f"{KIRKLEES}/invitations/")
    with django_assert_max_num_queries(9):
        client.get(f"{KIRKLEES}/agencies/")


def test_another_partnerships_administrator_gets_the_missing_page(client, world):
    yan = make_person("yan", "Yan Young", (world.berkshire, Role.PARTNERSHIP_ADMIN))
    sign_in(client, yan)
    missing = client.get("/manage/partnerships/nowhere/people/")
    for path in ("/", "people/", f"people/{world.alice.pk}/", "agencies/", "closure-days/"):
        response = client.get(f"{KIRKLEES}/{path}")
        assert response.status_code == 404
        assert without_csrf(response.content) == without_csrf(missing.content)
    # The shared constabulary's people are Berkshire's too; Kirklees-only people are not.
    assert client.get(f"/manage/partnerships/berkshire/people/{world.pat.pk}/").status_code == 200
    response = client.get(f"/manage/partnerships/berkshire/people/{world.alice.pk}/")
    assert response.status_code == 404


def test_giving_and_removing_a_role_is_audited_with_before_and_after(client, world):
    sign_in(client, world.kim)
    response = client.post(
        f"{KIRKLEES}/people/{world.alice.pk}/roles/add/",
        {"place": str(world.health.pk), "role": Role.LINE_MANAGER, "job_title": "Team Lead"},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(person=world.alice, agency=world.health)
    entry = AuditEntry.objects.filter(object_type="person").latest("at")
    assert entry.username == "kim" and entry.kind == AuditEntry.Kind.CHANGE
    assert entry.changes == [
        ["Role", "", "Line manager / supervisor at Kirklees Health (Team Lead)"]
    ]
    client.post(f"{KIRKLEES}/people/{world.alice.pk}/roles/{membership.pk}/remove/")
    assert not Membership.objects.filter(pk=membership.pk).exists()
    entry = AuditEntry.objects.filter(object_type="person").latest("at")
    assert entry.changes == [
        ["Role", "Line manager / supervisor at Kirklees Health (Team Lead)", ""]
    ]
    audit_page = client.get("/audit/").content.decode()
    assert "Role removed from Alice Able" in audit_page and "Before:" in audit_page


def test_a_persons_last_role_is_not_removed_they_are_marked_a_leaver(client, world):
    sign_in(client, world.kim)
    membership = world.alice.memberships.get()
    response = client.post(f"{KIRKLEES}/people/{world.alice.pk}/roles/{membership.pk}/remove/")
    assert response.status_code == 400
    assert b"mark them as a leaver instead" in response.content
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_an_administrator_changes_a_name_and_email(client, world):
    sign_in(client, world.kim)
    response = client.post(
        f"{KIRKLEES}/people/{world.alice.pk}/edit/",
        {"full_name": "Alice Able-Baker", "email": "alice.ab@example.invalid"},
    )
    assert response.status_code == 302
    world.alice.refresh_from_db()
    assert world.alice.full_name == "Alice Able-Baker"
    assert world.alice.user.email == "alice.ab@example.invalid"
    taken = client.post(
        f"{KIRKLEES}/people/{world.alice.pk}/edit/",
        {"full_name": "Alice", "email": "bob@example.invalid"},
    )
    assert b"Another account already uses that email address" in taken.content


def test_resetting_a_second_factor_removes_the_devices_and_is_audited(client, world):
    sign_in(client, world.alice)  # she has an app now
    assert TOTPDevice.objects.filter(user=world.alice.user).exists()
    sign_in(client, world.kim)
    response = client.post(f"{KIRKLEES}/people/{world.alice.pk}/second-factor/")
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=world.alice.user).exists()
    assert not StaticDevice.objects.filter(user=world.alice.user).exists()
    entry = AuditEntry.objects.get(what="Second factor of Alice Able reset")
    assert entry.changes[0][0] == "Second factor"
    # Not their own, and leads do not reset second factors.
    assert client.post(f"{KIRKLEES}/people/{world.kim.pk}/second-factor/").status_code == 400
    sign_in(client, world.carol)
    base = f"/manage/agencies/{world.school.pk}"
    assert client.get(f"{base}/people/{world.alice.pk}/second-factor/").status_code == 404


def test_agencies_are_added_and_changed_with_their_safeguarding_contact(client, world):
    sign_in(client, world.kim)
    response = client.post(
        f"{KIRKLEES}/agencies/new/",
        {
            "name": "Kirklees Youth Justice",
            "sector": "probation",
            "safeguarding_contact_name": "Duty Team",
            "safeguarding_contact_phone": "01484 000000",
            "safeguarding_contact_email": "duty@example.invalid",
        },
    )
    assert response.status_code == 302
    agency = Agency.objects.get(name="Kirklees Youth Justice")
    assert list(agency.partnerships.all()) == [world.kirklees]
    client.post(
        f"{KIRKLEES}/agencies/{agency.pk}/",
        {"name": "Kirklees Youth Justice Service", "sector": "probation"},
    )
    entry = AuditEntry.objects.filter(object_type="agency").latest("at")
    assert ["Name", "Kirklees Youth Justice", "Kirklees Youth Justice Service"] in entry.changes
    assert ["Safeguarding contact", "Duty Team", ""] in entry.changes
    duplicate = client.post(
        f"{KIRKLEES}/agencies/new/", {"name": "Berkshire School", "sector": "education"}
    )
    assert b"is already in the portal" in duplicate.content
    assert client.get(f"{KIRKLEES}/agencies/{world.berkshire_school.pk}/").status_code == 404


def test_an_agency_shared_by_two_partnerships_is_administered_and_audited_by_both(client, world):
    yan = make_person("yan", "Yan Young", (world.berkshire, Role.PARTNERSHIP_ADMIN))
    sign_in(client, world.kim)
    client.post(
        f"{KIRKLEES}/agencies/{world.constabulary.pk}/",
        {"name": "Shared Constabulary", "sector": "police", "safeguarding_contact_name": "PPU"},
    )
    sign_in(client, yan)
    assert b"Agency changed: Shared Constabulary" in client.get("/audit/").content
    sign_in(client, world.pat)  # the constabulary's lead sees it too
    assert b"Agency changed: Shared Constabulary" in client.get("/audit/").content
    mallory_can_audit = make_person(
        "mo", "Mo Other", (world.berkshire_school, Role.SAFEGUARDING_LEAD)
    )
    sign_in(client, mallory_can_audit)
    assert b"Agency changed: Shared Constabulary" not in client.get("/audit/").content


@time_machine.travel(date(2026, 11, 2))
def test_a_closure_day_moves_running_deadlines_through_the_deadline_service(client, world):
    esc = OpenEscalationFactory()
    due_before = Escalation.objects.get(pk=esc.pk).due_at
    sign_in(client, world.kim)
    response = client.post(
        f"{KIRKLEES}/closure-days/",
        {"day-day": "4", "day-month": "11", "day-year": "2026", "reason": "Training day"},
    )
    assert response.status_code == 302
    closure = ClosureDay.objects.get(partnership=world.kirklees)
    assert closure.added_by == world.kim.user
    moved = Escalation.objects.get(pk=esc.pk)
    assert moved.due_at > due_before
    assert moved.events.filter(kind=EventKind.DEADLINE_RECALCULATED).exists()
    again = client.post(
        f"{KIRKLEES}/closure-days/", {"day-day": "4", "day-month": "11", "day-year": "2026"}
    )
    assert b"is already a closure day" in again.content
    client.post(f"{KIRKLEES}/closure-days/{closure.pk}/remove/")
    assert Escalation.objects.get(pk=esc.pk).due_at == due_before
    assert AuditEntry.objects.filter(object_type="closure day").count() == 2


def test_directory_entries_of_the_partnership_are_kept_and_the_policys_stay(client, world):
    policy_entry = DirectoryEntry.objects.create(
        partnership=world.kirklees,
        agency_name="Policy Agency",
        role="Senior Liaison Officer",
        source="kirklees-directory.yaml",
    )
    sign_in(client, world.kim)
    client.post(
        f"{KIRKLEES}/directory/new/",
        {"agency_name": "GP practices", "role": "Named GP", "job_title": "Named GP"},
    )
    entry = DirectoryEntry.objects.get(agency_name="GP practices")
    assert entry.partnership == world.kirklees
    assert client.get(f"{KIRKLEES}/directory/{policy_entry.pk}/").status_code == 404
    client.post(f"{KIRKLEES}/directory/{entry.pk}/remove/")
    assert not DirectoryEntry.objects.filter(pk=entry.pk).exists()
    assert DirectoryEntry.objects.filter(pk=policy_entry.pk).exists()
    assert AuditEntry.objects.filter(object_type="directory entry").count() == 2


def test_forms_say_what_is_wrong_in_an_error_summary(client, world):
    sign_in(client, world.kim)
    response = client.post(f"{KIRKLEES}/invite/", {"email": "not an email"})
    content = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in content
    assert "Enter their full name" in content
    assert "Enter an email address in the right format" in content
    assert "Select the agency" in content and "Select the role" in content
    response = client.post(
        f"{KIRKLEES}/invite/",
        {
            "full_name": "Pam",
            "email": "pam@example.invalid",
            "place": str(world.school.pk),
            "role": Role.CHAIR,
        },
    )
    assert "belongs to the partnership: select" in response.content.decode()


def test_the_demo_administrators_run_their_partnerships_without_superuser_rights(client, db):
    """`make run`'s demo data: each partnership's administrator, an ordinary account, reaches
    the pages; Pan-Cheshire's and Berkshire's both see the shared constabulary's people."""
    call_command("seed_demo", "--quiet", stdout=StringIO())
    for slug, prefix in (("kirklees", "kir"), ("pan-cheshire", "che"), ("berkshire", "brk")):
        admin = Person.objects.get(user__username=f"{prefix}-partnership-partnership-admin")
        assert not admin.user.is_superuser and not admin.user.is_staff
        sign_in(client, admin)
        content = client.get(f"/manage/partnerships/{slug}/people/?q=&role=practitioner")
        assert content.status_code == 200
        shared = b"Demo Constabulary (shared)" in content.content
        assert shared == (slug != "kirklees")
        for page in ("agencies/", "closure-days/", "directory/", "invite/", "people/import/"):
            assert client.get(f"/manage/partnerships/{slug}/{page}").status_code == 200


def test_someone_running_a_partnership_and_an_agency_chooses_which(client, world):
    both = make_person(
        "quinn",
        "Quinn Both",
        (world.kirklees, Role.PARTNERSHIP_ADMIN, "Administrator"),
        (world.health, Role.SAFEGUARDING_LEAD, "Named Nurse"),
    )
    sign_in(client, both)
    content = client.get("/manage/").content.decode()
    assert f'href="{KIRKLEES}/"' in content
    assert f'href="/manage/agencies/{world.health.pk}/"' in content
    assert "(as its safeguarding lead)" in content
