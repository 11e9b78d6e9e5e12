"""The isolation matrix for the pages that run a partnership (issue 19): every visitor, on every
scope (each partnership's administration, each agency's), on every page and every person,
gets exactly what the oracle (tests/security/oracle.py, from SPEC sections 2 and 3) allows.

A refusal to a signed-in person is the 404 a missing scope or person gets (same status, same
body); a refused POST changes nothing. Lists (people, the CSV and Excel exports) name exactly
the people in scope; the audit log shows each administrative change exactly to the
administrators and leads the oracle names. Each test prints its tally, as test_isolation does.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEntry
from cases.models import Agency, Membership
from people.models import Invitation
from policies.models import ClosureDay
from tests.helpers import sign_in
from tests.security.oracle import (
    in_scope,
    may_open_person_page,
    may_open_scope_page,
    may_read_administrative_entry,
    may_remove_role,
)
from tests.security.test_isolation import Tally, Visitor, answered, refused_as_missing, visitors
from tests.security.world_matrix import (
    administrators,
    agency_partnerships,
    people,
    person_facts,
)

pytestmark = pytest.mark.django_db

MISSING_SCOPE = {
    "partnership": "/manage/partnerships/nowhere/",
    "agency": "/manage/agencies/999999/",
}
MISSING_PERSON = 999999
SCOPE_PAGES = {
    "overview": "",
    "people": "people/",
    "invite": "invite/",
    "invitations": "invitations/",
    "agencies": "agencies/",
    "new agency": "agencies/new/",
    "closure days": "closure-days/",
    "directory": "directory/",
    "new directory entry": "directory/new/",
    "import": "people/import/",
    "export CSV": "people/export.csv",
    "export Excel": "people/export.xlsx",
}
# The oracle's names for them (a lead's scope offers the first four).
ORACLE_PAGE = {
    "overview": "overview",
    "people": "people",
    "invite": "invite",
    "invitations": "invitations",
}
PERSON_PAGES = {
    "person": "",
    "edit": "edit/",
    "roles/add": "roles/add/",
    "leaver": "leaver/",
    "pass-on": "pass-on/",
    "second-factor": "second-factor/",
}
# What a refused POST is tried with: valid enough that only who asks can refuse it.
POSTS = {
    "leaver": ("people/{pk}/leaver/", {}),
    "second-factor": ("people/{pk}/second-factor/", {}),
    "edit": (
        "people/{pk}/edit/",
        {"full_name": "Changed Name", "email": "changed@example.invalid"},
    ),
    "roles/add": ("people/{pk}/roles/add/", {"role": "practitioner", "job_title": "Hacker"}),
}


@pytest.fixture
def world_of_people(world):
    persons = people(world) | administrators(world)
    places = agency_partnerships()
    scopes = {
        "kirklees partnership": ("partnership", world.kirklees.pk, world.kirklees.slug),
        "berkshire partnership": ("partnership", world.berkshire.pk, world.berkshire.slug),
        "school (agency)": ("agency", world.school.pk, world.school.pk),
        "csc (agency)": ("agency", world.csc.pk, world.csc.pk),
        "constabulary (agency, two partnerships)": (
            "agency",
            world.constabulary.pk,
            world.constabulary.pk,
        ),
        "berkshire school (agency)": (
            "agency",
            world.berkshire_school.pk,
            world.berkshire_school.pk,
        ),
        "small steps (agency)": ("agency", world.smallsteps.pk, world.smallsteps.pk),
    }
    return persons, places, scopes


def base(scope) -> str:
    kind, _, key = scope
    return f"/manage/{'partnerships' if kind == 'partnership' else 'agencies'}/{key}/"


def oracle_scope(scope) -> tuple[str, int]:
    return scope[0], scope[1]


def footprint() -> tuple:
    """What any administrative change would move."""
    return (
        get_user_model().objects.filter(is_active=True).count(),
        Membership.objects.count(),
        Invitation.objects.count(),
        TOTPDevice.objects.count(),
        Agency.objects.count(),
        ClosureDay.objects.count(),
        AuditEntry.objects.filter(kind=AuditEntry.Kind.CHANGE).count(),
    )


def test_every_administration_page_answers_every_visitor_as_the_oracle_expects(world_of_people):
    persons, places, scopes = world_of_people
    tally = Tally()
    facts = {who: person_facts(p) for who, p in persons.items()}
    for visitor in visitors(persons):
        for n, (scope_name, scope) in enumerate(scopes.items()):
            pages = SCOPE_PAGES
            if not visitor.signed_in:
                # Signed out, deactivated or without a second factor: turned away before the
                # scope is looked at; two pages of each scope show it.
                pages = dict(list(SCOPE_PAGES.items())[:2])
            elif not may_open_scope_page(visitor.facts, oracle_scope(scope), "overview"):
                # Not theirs: a rotating third of the pages per scope, every page across them.
                pages = rotation(SCOPE_PAGES, n, 4)
            for page, path in pages.items():
                label = f"{visitor.label} / {scope_name} / {page}"
                response = visitor.client.get(base(scope) + path)
                expected = may_open_scope_page(
                    visitor.facts, oracle_scope(scope), ORACLE_PAGE.get(page, page)
                )
                tally.check(label, expected=expected, actual=response.status_code == 200)
                if not expected:
                    refused_as_missing(
                        tally, label, visitor, response, "GET", MISSING_SCOPE[scope[0]] + path
                    )
            if not visitor.signed_in:
                continue  # turned away before any person is looked at (one tried above)
            _person_pages(tally, visitor, n, scope_name, scope, persons, facts, places)
    tally.report("administration pages")


def _person_pages(
    tally, visitor: Visitor, n: int, scope_name, scope, persons, facts, places
) -> None:
    """Every page about every person, for who may open the scope; for anyone else, every page
    about someone in the scope (the nearest miss), each refusal the missing person's."""
    administers = may_open_scope_page(visitor.facts, oracle_scope(scope), "people")
    targets = list(persons.items())
    pages = PERSON_PAGES
    if not administers:
        targets = [t for t in targets if _covers(scope, facts[t[0]], places)][:1]
        pages = rotation(PERSON_PAGES, n, 3)
    for who, target in targets:
        for page, path in pages.items():
            label = f"{visitor.label} / {scope_name} / {page} of {who}"
            response = visitor.client.get(f"{base(scope)}people/{target.pk}/{path}")
            expected = may_open_person_page(
                visitor.facts, oracle_scope(scope), page, facts[who], places
            )
            tally.check(label, expected=expected, actual=response.status_code == 200)
            if not expected:
                missing = f"{base(scope)}people/{MISSING_PERSON}/{path}"
                refused_as_missing(tally, label, visitor, response, "GET", missing)
        for m in target.memberships.all()[: None if administers else 1]:
            label = f"{visitor.label} / {scope_name} / remove {m.role} of {who}"
            path = f"people/{target.pk}/roles/{m.pk}/remove/"
            response = visitor.client.get(base(scope) + path)
            kind = "agency" if m.agency_id else "partnership"
            role = (m.role, m.agency_id or m.partnership_id)
            expected = may_remove_role(
                visitor.facts, oracle_scope(scope), role, kind, facts[who], places
            )
            tally.check(label, expected=expected, actual=response.status_code == 200)


def rotation(pages: dict, n: int, size: int) -> dict:
    """`size` of the pages, starting where scope n's turn starts: every page across scopes."""
    names = list(pages)
    return {
        names[(n * size + k) % len(names)]: pages[names[(n * size + k) % len(names)]]
        for k in range(size)
    }


def _covers(scope, target_facts, places) -> bool:
    return in_scope(target_facts, oracle_scope(scope), places)


def test_every_refused_change_is_the_missing_page_and_changes_nothing(world_of_people):
    persons, places, scopes = world_of_people
    tally = Tally()
    facts = {who: person_facts(p) for who, p in persons.items()}
    for visitor in visitors(persons):
        for scope_name, scope in scopes.items():
            in_scope = [(w, p) for w, p in persons.items() if _covers(scope, facts[w], places)]
            who, target = in_scope[0]
            # Turned away before the scope is looked at: one POST shows it.
            posts = POSTS if visitor.signed_in else dict(list(POSTS.items())[:1])
            for page, (path, data) in posts.items():
                if may_open_person_page(
                    visitor.facts, oracle_scope(scope), page, facts[who], places
                ):
                    continue  # allowed: the functional tests cover what it does
                label = f"{visitor.label} / {scope_name} / POST {page} of {who}"
                before = footprint()
                response = visitor.request("POST", base(scope) + path.format(pk=target.pk), data)
                tally.check(label, expected=False, actual=answered(visitor, response))
                missing = base(scope) + path.format(pk=MISSING_PERSON)
                refused_as_missing(tally, label, visitor, response, "POST", missing)
                if footprint() != before:
                    tally.wrong_refusals.append(f"{label}: a refused POST changed something")
            for page, path, data in (
                (
                    "invite",
                    "invite/",
                    {"full_name": "X", "email": "x@example.invalid", "role": "practitioner"},
                ),
                ("new agency", "agencies/new/", {"name": "Forged Agency", "sector": "other"}),
                (
                    "closure days",
                    "closure-days/",
                    {"day-day": "1", "day-month": "6", "day-year": "2099"},
                ),
            ):
                if may_open_scope_page(
                    visitor.facts, oracle_scope(scope), ORACLE_PAGE.get(page, page)
                ):
                    continue
                label = f"{visitor.label} / {scope_name} / POST {page}"
                before = footprint()
                response = visitor.request("POST", base(scope) + path, data)
                tally.check(label, expected=False, actual=answered(visitor, response))
                refused_as_missing(
                    tally, label, visitor, response, "POST", MISSING_SCOPE[scope[0]] + path
                )
                if footprint() != before:
                    tally.wrong_refusals.append(f"{label}: a refused POST changed something")
    tally.report("administrative changes refused")


def test_the_people_lists_and_exports_name_exactly_the_people_in_scope(world_of_people):
    persons, places, scopes = world_of_people
    tally = Tally()
    facts = {who: person_facts(p) for who, p in persons.items()}
    for visitor in visitors(persons):
        for scope_name, scope in scopes.items():
            if not may_open_scope_page(visitor.facts, oracle_scope(scope), "people"):
                continue
            shown = {
                "list": visitor.client.get(base(scope) + "people/").content.decode(),
            }
            if scope[0] == "partnership":
                shown["CSV"] = visitor.client.get(base(scope) + "people/export.csv").content.decode(
                    "utf-8-sig"
                )
                book = openpyxl.load_workbook(
                    io.BytesIO(visitor.client.get(base(scope) + "people/export.xlsx").content)
                )
                shown["Excel"] = " ".join(
                    str(c.value) for row in book.active.iter_rows() for c in row
                )
            for what, content in shown.items():
                for who, target in persons.items():
                    expected = _covers(scope, facts[who], places)
                    tally.check(
                        f"{visitor.label} / {scope_name} {what} names {who}",
                        expected=expected,
                        actual=target.full_name in content,
                    )
    tally.report("people lists and exports")


def test_administrative_changes_in_the_audit_log_reach_exactly_whom_the_oracle_names(
    world_of_people, client
):
    """A change to a person of each agency (and a partnership role), made through the pages,
    then each visitor's audit log."""
    persons, places, _ = world_of_people

    world_people = dict(persons)
    changes = {
        "the school practitioner": ("kim", world_people["alice"], "school"),
        "the constabulary lead": ("yan", world_people["pat"], "constabulary"),
        "the berkshire teacher": ("yan", world_people["oscar"], "berkshire_school"),
    }
    entries = {}
    for what, (admin, target, _) in changes.items():
        admin_person = world_people[admin if admin == "kim" else "yan (berkshire admin)"]
        sign_in(client, admin_person)
        membership = target.memberships.first()
        slug = "kirklees" if admin == "kim" else "berkshire"
        client.post(
            f"/manage/partnerships/{slug}/people/{target.pk}/roles/add/",
            {
                "place": str(membership.agency_id),
                "role": "line_manager",
                "job_title": f"Acting for {what}",
            },
        )
        entries[what] = AuditEntry.objects.filter(object_type="person").latest("pk")
        assert f"Acting for {what}" in str(entries[what].changes)
    tally = Tally()
    for visitor in visitors(persons):
        if not visitor.signed_in:
            continue
        content = visitor.client.get("/audit/").content.decode()
        for what, entry in entries.items():
            expected = may_read_administrative_entry(
                visitor.facts, entry.partnership_id, frozenset(entry.agency_ids), places
            )
            tally.check(
                f"{visitor.label} / audit log shows the change to {what}",
                expected=expected,
                actual=f"Acting for {what}" in content,
            )
    tally.report("administrative audit entries")
