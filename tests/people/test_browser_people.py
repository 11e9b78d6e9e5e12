"""Running a partnership in Chromium, as its administrator does it (issue 19's "Done when").

Every page visited is checked with axe-core (WCAG 2.2 A and AA); key pages are saved as
screenshots under var/screenshots/."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core import mail
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from cases.models import Person
from escalations.models import Escalation, EventKind, Notice, NoticeKind
from people import mail as invitation_mail
from people.models import Invitation
from policies.models import Role
from tests.browser import (
    arrived,
    clear_append_only_tables,
    screenshot,
    sign_in_browser,
    sign_out_browser,
)
from tests.factories import OpenEscalationFactory
from tests.personas import make_person
from tests.security.otp import current_code
from tests.test_browser_journeys import answer, press

pytestmark = pytest.mark.browser
NEW_PASSWORD = "kettle-orchard-lantern-2026"


@pytest.fixture(autouse=True)
def append_only_rows_cleared_before_flush(transactional_db):
    yield
    clear_append_only_tables()


def manage(page: Page) -> None:
    """From any page: the navigation's link to the administrator's pages."""
    with page.expect_navigation():
        page.get_by_role("link", name="Manage people", exact=True).click()
    arrived(page, "Manage people")


def go(page: Page, link: str, title: str) -> None:
    with page.expect_navigation():
        page.get_by_role("link", name=link, exact=True).first.click()
    arrived(page, title)


def test_an_administrator_invites_a_practitioner_who_sets_up_two_factors_and_raises_a_challenge(
    page: Page, live_server, world
):
    # Given Kim, Kirklees' partnership administrator, who is no superuser, signed in
    assert not world.kim.user.is_superuser and not world.kim.user.is_staff
    sign_in_browser(page, live_server, world.kim)

    # When she invites Nina as a practitioner at Meadow School
    manage(page)
    screenshot(page, "people-01-overview")
    press(page, "Invite someone", "Invite someone")
    page.get_by_label("Full name").fill("Nina Newcombe")
    page.get_by_label("Email address").fill("nina.newcombe@example.invalid")
    page.get_by_label("Agency").select_option(label="Meadow School")
    page.get_by_role("radio", name="Practitioner").check()
    page.get_by_label("Job title (optional)").fill("Teaching Assistant")
    screenshot(page, "people-02-invite")
    press(page, "Send the invitation", "Invitations")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "An invitation has been sent to nina.newcombe@example.invalid"
    )
    expect(page.locator("main")).to_contain_text("Waiting for them to accept")
    sign_out_browser(page)

    # And the invitation email goes out (the worker's job, run here)
    assert invitation_mail.send_due().sent == 1
    link = re.search(r"http://\S+/invitation/\S+/", mail.outbox[-1].body).group(0)
    path = link.split("/invitation/", 1)[1]

    # Then Nina follows the link, chooses a password...
    page.goto(f"{live_server.url}/invitation/{path}")
    arrived(page, "Set up your account")
    expect(page.locator("main")).to_contain_text("Practitioner at Meadow School")
    page.get_by_label("Create a password").fill("short")
    page.get_by_label("Type the password again").fill("short")
    press(page, "Continue", "Error: Set up your account")
    expect(page.locator(".govuk-error-summary")).to_contain_text("at least 12 characters")
    page.get_by_label("Create a password").fill(NEW_PASSWORD)
    page.get_by_label("Type the password again").fill(NEW_PASSWORD)
    press(page, "Continue", "Set up your authenticator app")
    screenshot(page, "people-03-invitee-two-factor")

    # ...sets up her authenticator app before she sees anything...
    nina = Person.objects.get(full_name="Nina Newcombe")
    page.goto(f"{live_server.url}/")  # nothing else is reachable yet
    arrived(page, "Set up your authenticator app")
    device = TOTPDevice.objects.get(user=nina.user, confirmed=False)
    page.get_by_label("Code from your authenticator app").fill(current_code(device))
    press(page, "Continue", "Your backup codes")
    go(page, "Continue", "My escalations")

    # ...and raises a challenge about a child with Northfold CSC
    press(page, "Raise a challenge", "Raise a challenge")
    press(page, "Start now", "Is the child at immediate risk")
    page.get_by_role("radio", name="No").check()
    press(page, "Continue", "about the conduct")
    page.get_by_role("radio", name="No").check()
    press(page, "Continue", "Who is the challenge about?")
    answer(
        page,
        "Which agency",
        id_child_kind="",
        id_given_names="Ada",
        id_family_name="Invented",
        **{
            "id_date_of_birth-day": "3",
            "id_date_of_birth-month": "5",
            "id_date_of_birth-year": "2020",
        },
        id_address="2 Made Up Lane, Nowhere",
    )
    answer(page, "Who made the decision", id_receiving_agency="Northfold Children's Social Care")
    answer(page, "Which pathway", id_receiving_person="Erin Earl, Social Worker")
    answer(page, "What is the professional difference about?", id_pathway="")
    page.get_by_role("checkbox", name="Referral decision").check()
    press(page, "Continue", "What are the details")
    answer(page, "What outcome", id_details="The referral was declined without a visit.")
    answer(page, "who is keeping the child safe", id_outcome_sought="A manager reviews it.")
    answer(
        page, "When was the initial discussion?", id_interim_safety="Class teacher sees Ada daily."
    )
    press(page, "Continue", "Check your answers")
    press(page, "Raise the challenge", "Challenge raised")
    screenshot(page, "people-04-invitee-raised")
    escalation = Escalation.objects.get()
    assert escalation.raised_by == nina and escalation.raising_agency == world.school
    assert Invitation.objects.get().accepted_on is not None


def test_a_leaver_with_three_open_escalations_is_passed_on_and_the_new_holder_told(
    page: Page, live_server, world
):
    # Given Alice holds three open escalations and Sam is another practitioner at her school
    escalations = [OpenEscalationFactory() for _ in range(3)]
    sam = make_person("sam", "Sam Stone", (world.school, Role.PRACTITIONER, "Teacher"))

    # When Kim marks Alice as a leaver
    sign_in_browser(page, live_server, world.kim)
    manage(page)
    go(page, "See who holds which role", "People")
    go(page, "Alice Able", "Alice Able")
    go(page, "Mark them as a leaver", "Mark Alice Able as a leaver")
    screenshot(page, "people-05-leaver")
    press(page, "Mark as a leaver", "Pass on Alice Able's work")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "they can no longer sign in"
    )

    # Then the three escalations are listed, and she passes each to Sam
    rows = page.locator("tbody .govuk-table__row")
    expect(rows).to_have_count(3)
    for esc in escalations:
        page.locator(f"#id_{esc.pk}-raising").select_option(label="Sam Stone")
    screenshot(page, "people-06-pass-on")
    press(page, "Pass on the parts chosen", "Pass on Alice Able's work")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("3 parts passed on")
    expect(page.locator("main")).to_contain_text("no part left to pass on")
    world.alice.user.refresh_from_db()
    assert not world.alice.user.is_active
    sign_out_browser(page)

    # And Sam is told, holds them, and each escalation's history keeps Alice's name
    assert Notice.objects.filter(recipient=sam, kind=NoticeKind.REASSIGNED).count() == 3
    sign_in_browser(page, live_server, sam)
    expect(page.locator("main")).to_contain_text(escalations[0].reference)
    go(page, "Notifications (3)", "Notifications")
    expect(page.locator("main")).to_contain_text("Passed to you")
    page.goto(f"{live_server.url}/escalations/{escalations[0].reference}/")
    arrived(page, f"{escalations[0].reference}: ")
    expect(page.locator("main")).to_contain_text("Alice Able has left")
    screenshot(page, "people-07-new-holder")
    for esc in escalations:
        esc.refresh_from_db()
        assert esc.holder == sam
        assert esc.events.get(kind=EventKind.RAISED).actor == world.alice


def people_file(rows: int, bad: dict[int, tuple[int, str]]) -> bytes:
    """`rows` newcomers for Meadow School; bad: data row index -> (column, value)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Name", "Email", "Agency", "Role", "Job title"])
    for i in range(rows):
        row = [
            f"Imported Person {i}",
            f"imported{i}@example.invalid",
            "Meadow School",
            "Practitioner",
            "Teacher",
        ]
        if i in bad:
            column, value = bad[i]
            row[column] = value
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def test_a_500_row_import_with_3_bad_rows_is_reported_by_row_and_nothing_is_half_stored(
    page: Page, live_server, world
):
    # Given a file of 500 people with three bad rows
    data = people_file(
        500,
        {
            41: (1, "not-an-email"),
            250: (2, "Nowhere Academy"),
            498: (0, '=HYPERLINK("http://example.invalid")'),
        },
    )
    files = {"name": "staff.csv", "mimeType": "text/csv", "buffer": data}

    # When Kim uploads it
    sign_in_browser(page, live_server, world.kim)
    manage(page)
    press(page, "Import people from a file", "Import people")
    page.get_by_label("Upload a file").set_input_files(files)
    press(page, "Check the file", "Error: Check the import")

    # Then each bad row is reported by row and column, and nothing is stored
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("3 rows of staff.csv have errors. Nothing has been imported.")
    expect(summary).to_contain_text("Row 43, Email: “not-an-email” is not an email address")
    expect(summary).to_contain_text(
        "Row 252, Agency: “Nowhere Academy” is not one of your agencies"
    )
    expect(summary).to_contain_text("Row 500, Name: Starts with “=”")
    screenshot(page, "people-08-import-errors")
    assert not Invitation.objects.exists()
    assert not Person.objects.filter(full_name__startswith="Imported Person").exists()

    # And when she imports the valid rows only, those 497 are invited at once
    press(page, "Import the 497 valid rows only", "People")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("invited: 497")
    assert Invitation.objects.count() == 497

    # And the same file again changes nothing
    go(page, "Import", "Import people")
    page.get_by_label("Upload a file").set_input_files(files)
    press(page, "Check the file", "Error: Check the import")
    expect(page.locator("main")).to_contain_text("0 will change something")
    assert Invitation.objects.count() == 497
