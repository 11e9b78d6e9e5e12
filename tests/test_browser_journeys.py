"""Complete journeys in Chromium, as the people who use the portal walk them.

Every page visited is checked with axe-core (WCAG 2.2 A and AA); key pages are saved as
screenshots under var/screenshots/."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from cases.models import Agency, Sector
from escalations import services
from escalations.models import Escalation, Notice, NoticeKind, State
from policies.models import Role
from tests.browser import (
    arrived,
    assert_accessible,
    clear_append_only_tables,
    screenshot,
    sign_in_browser,
    sign_out_browser,
    tab_to,
    visit,
)
from tests.factories import OpenEscalationFactory
from tests.personas import make_person

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def append_only_rows_cleared_before_flush(transactional_db):
    """SQLite has no TRUNCATE: the live-server test's flush DELETEs, which the append-only
    triggers (events, audit entries) refuse."""
    yield
    clear_append_only_tables()


def press(page: Page, name: str, title: str | re.Pattern) -> None:
    """Press a button (or a link styled as one) and check the page it leads to, once the
    browser has left this one (an action page's title names the escalation too)."""
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).first.click()
    arrived(page, title)


def answer(page: Page, title: str, **fields) -> None:
    """Fill a question page by field ids, then Continue."""
    for field_id, value in fields.items():
        locator = page.locator(f"#{field_id}")
        kind = locator.evaluate("el => el.tagName + ':' + (el.type || '')")
        if kind.startswith("SELECT"):
            locator.select_option(label=value)
        elif kind.endswith(":radio") or kind.endswith(":checkbox"):
            locator.check()
        else:
            locator.fill(value)
    press(page, "Continue", title)


def open_escalation(page: Page, escalation: Escalation) -> None:
    with page.expect_navigation():
        page.get_by_role("link", name=escalation.reference, exact=True).first.click()
    arrived(page, f"{escalation.reference}: ")


def do_action(page: Page, button: str, submit: str, escalation, **fields) -> None:
    """From the escalation page: open an action, fill it in, submit, back on the page."""
    # An action page's title: "<action>", an en dash, the reference.
    press(page, button, f"\u2013 {escalation.reference}")
    for field_id, value in fields.items():
        locator = page.locator(f"#{field_id}")
        if locator.evaluate("el => el.type") in ("radio", "checkbox"):
            locator.check()
        else:
            locator.fill(value)
    press(page, submit, f"{escalation.reference}: ")
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()


def stage_shown(page: Page, number: int) -> None:
    expect(page.locator(".govuk-inset-text").first).to_contain_text(f"Stage {number}:")


def test_kirklees_challenge_is_raised_approved_climbs_to_stage_6_and_is_resolved(
    page: Page, live_server, world
):
    # Given Alice, a Kirklees practitioner, signed in
    sign_in_browser(page, live_server, world.alice)
    screenshot(page, "01-home-empty")

    # When she raises a challenge through the question pages
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
        id_given_names="Poppy",
        id_family_name="Testwell",
        **{
            "id_date_of_birth-day": "2",
            "id_date_of_birth-month": "4",
            "id_date_of_birth-year": "2019",
        },
        id_address="1 Invented Row, Nowhere",
    )
    answer(page, "Who made the decision", id_receiving_agency="Northfold Children's Social Care")
    answer(page, "Which pathway", id_receiving_person="Erin Earl, Social Worker")
    answer(page, "What is the professional difference about?", id_pathway="")
    page.get_by_role("checkbox", name="Referral decision").check()
    press(page, "Continue", "What are the details")
    answer(page, "What outcome", id_details="CSC declined the referral despite new disclosures.")
    answer(page, "who is keeping the child safe", id_outcome_sought="A manager reconsiders it.")
    answer(page, "When was the initial discussion?", id_interim_safety="Our DSL sees Poppy daily.")
    press(page, "Continue", "Check your answers")
    screenshot(page, "02-check-your-answers")
    press(page, "Raise the challenge", "Challenge raised")
    screenshot(page, "03-confirmation")
    escalation = Escalation.objects.get()
    expect(page.locator(".govuk-panel")).to_contain_text(escalation.reference)

    # And asks to move to the formal step, which needs her safeguarding lead
    with page.expect_navigation():
        page.get_by_role("link", name="Go to the escalation").click()
    arrived(page, f"{escalation.reference}: ")
    press(page, "Escalate to the next stage", "Escalate to the next stage")
    expect(page.locator(".govuk-warning-text")).to_contain_text("Carol Cole")
    page.get_by_label("Why are you escalating?").fill("No reply after five working days.")
    press(page, "Escalate", escalation.reference)
    expect(page.locator("main")).to_contain_text("Waiting for a safeguarding lead")
    sign_out_browser(page)

    # Then Carol, the school's safeguarding lead, approves it from her queue
    sign_in_browser(page, live_server, world.carol)
    page.get_by_role("link", name="Approvals", exact=True).click()
    arrived(page, "Approvals")
    screenshot(page, "04-approvals")
    open_escalation(page, escalation)
    press(page, "Approve the escalation", "Approve the escalation")
    press(page, "Approve", escalation.reference)
    stage_shown(page, 2)
    sign_out_browser(page)

    # When Alice climbs the ladder stage by stage
    sign_in_browser(page, live_server, world.alice)
    open_escalation(page, escalation)
    for number in (3, 4, 5, 6):
        do_action(
            page,
            "Escalate to the next stage",
            "Escalate",
            escalation,
            id_reason=f"Still unresolved: moving to stage {number}.",
        )
        stage_shown(page, number)
    screenshot(page, "05-escalation-stage-6")
    sign_out_browser(page)

    # Then Ivan, the KSCP business unit manager, resolves it with actions
    sign_in_browser(page, live_server, world.ivan)
    open_escalation(page, escalation)
    press(page, "Resolve", "Resolve the escalation")
    page.get_by_role("radio", name="Partly upheld").check()
    page.get_by_label("The agreed outcome, in writing").fill("CSC will reassess within 10 days.")
    page.locator("#id_raiser_satisfied").check()
    page.locator("#id_action_1_what").fill("Reassess Poppy's needs")
    page.locator("#id_action_1_owner").fill("Frank Ford, Northfold CSC")
    page.locator("#id_action_1_due-day").fill("15")
    page.locator("#id_action_1_due-month").fill("1")
    page.locator("#id_action_1_due-year").fill(str(date.today().year + 1))
    screenshot(page, "06-resolve")
    press(page, "Resolve", escalation.reference)
    expect(page.locator("main")).to_contain_text("Reassess Poppy's needs")

    # And records the learning and the restorative debrief, then closes it
    do_action(
        page,
        "Record learning and any policy gap",
        "Save learning",
        escalation,
        id_learning="Referral decisions are explained in writing.",
    )
    do_action(
        page, "Record the debrief", "Save debrief", escalation, id_summary="Both agencies met."
    )
    press(page, "Close", "Close the escalation")
    press(page, "Close", escalation.reference)
    screenshot(page, "07-closed")
    escalation.refresh_from_db()
    assert escalation.state == State.CLOSED
    assert escalation.highest_stage_number == 6
    assert escalation.debrief_summary == "Both agencies met."


@pytest.fixture
def playgroup(world):
    playgroup = Agency.objects.create(name="Little Acorns Playgroup", sector=Sector.EARLY_YEARS)
    csc = Agency.objects.create(
        name="Vale Children's Services", sector=Sector.CHILDRENS_SOCIAL_CARE
    )
    playgroup.partnerships.set([world.playgroup])
    csc.partnerships.set([world.playgroup])
    manager = make_person("mo", "Mo Maple", (playgroup, Role.LINE_MANAGER, "Playgroup Manager"))
    lead = make_person("lee", "Lee Linden", (playgroup, Role.SAFEGUARDING_LEAD, "Designated Lead"))
    make_person("sam", "Sam Spruce", (csc, Role.LINE_MANAGER, "Team Manager"))
    return manager, lead


def test_playgroup_manager_raises_with_immediate_risk_and_starts_at_stage_3(
    page: Page, live_server, world, playgroup
):
    manager, lead = playgroup
    # Given the playgroup manager signed in
    sign_in_browser(page, live_server, manager)

    # When she says the child is at immediate risk
    press(page, "Raise a challenge", "Raise a challenge")
    press(page, "Start now", "Is the child at immediate risk")
    page.get_by_role("radio", name="Yes").check()
    press(page, "Continue", "emergency route")
    screenshot(page, "08-emergency-route")

    # Then she is shown the emergency route first, and may choose the starting stage
    press(page, "I have used the emergency route: continue", "Which stage")
    page.get_by_role("radio", name=re.compile("^Stage 3")).check()
    press(page, "Continue", "about the conduct")
    page.get_by_role("radio", name="No").check()
    press(page, "Continue", "Who is the challenge about?")
    page.get_by_role("radio", name="A family group").check()
    page.locator("#id_family_name").fill("Oakfield")
    press(page, "Continue", "Which agency")
    answer(page, "Who made the decision", id_receiving_agency="Vale Children's Services")
    answer(page, "Which pathway")
    page.get_by_role("radio", name="Ongoing case: child in need").check()
    press(page, "Continue", "What is the professional difference about?")
    page.get_by_role("checkbox", name="Other").check()
    page.locator("#id_nature_other").fill("Home visits stopped")
    press(page, "Continue", "What are the details")
    answer(page, "What outcome", id_details="Visits stopped though the family is struggling.")
    answer(page, "who is keeping the child safe", id_outcome_sought="Visits restart this week.")
    answer(
        page, "When was the initial discussion?", id_interim_safety="Police welfare check today."
    )
    press(page, "Continue", "Check your answers")
    expect(page.locator("main")).to_contain_text("Stage 3")
    press(page, "Raise the challenge", "Challenge raised")

    # Then the escalation starts at stage 3 and the safeguarding lead is alerted at once
    escalation = Escalation.objects.get()
    assert escalation.stage.number == 3
    assert Notice.objects.filter(
        escalation=escalation, kind=NoticeKind.IMMEDIATE_RISK, recipient=lead, urgent=True
    ).exists()
    with page.expect_navigation():
        page.get_by_role("link", name="Go to the escalation").click()
    arrived(page, f"{escalation.reference}: ")
    stage_shown(page, 3)
    expect(page.locator(".portal-ladder")).to_contain_text("Skipped")
    screenshot(page, "09-immediate-risk-escalation")


def test_pan_cheshire_step_1_is_resolved_with_parents_told(page: Page, live_server, world):
    school = Agency.objects.create(name="Riverside Primary", sector=Sector.EDUCATION)
    csc = Agency.objects.create(
        name="Cheshire Children's Services", sector=Sector.CHILDRENS_SOCIAL_CARE
    )
    school.partnerships.set([world.pan_cheshire])
    csc.partnerships.set([world.pan_cheshire])
    teacher = make_person("tia", "Tia Thorn", (school, Role.PRACTITIONER, "Class Teacher"))
    make_person("wes", "Wes Willow", (csc, Role.PRACTITIONER, "Social Worker"))
    # Given a Pan-Cheshire challenge at step 1
    escalation = OpenEscalationFactory(
        by=teacher,
        raising_agency=school,
        receiving_agency=csc,
        receiving_person=None,
        child=services.ChildDetails(
            home_partnership=world.pan_cheshire, family_name="Brook", given_names="Ada"
        ),
    )
    sign_in_browser(page, live_server, teacher)
    open_escalation(page, escalation)
    stage_shown(page, 1)

    # When the teacher resolves it at step 1
    press(page, "Resolve", "Resolve the escalation")
    page.get_by_role("radio", name="Resolved by sharing information").check()
    page.get_by_label("The agreed outcome, in writing").fill("CSC shared the assessment.")
    page.locator("#id_raiser_satisfied").check()
    press(page, "Resolve", escalation.reference)

    # And records that parents were told, as the Pan-Cheshire procedure asks
    press(page, "Record whether parents or carers were told", "Were parents or carers told")
    expect(page.locator(".govuk-inset-text")).to_contain_text(
        "Parents and carers should also be informed"
    )
    page.get_by_role("radio", name="Yes").check()
    press(page, "Save", escalation.reference)

    # Then the page shows the outcome and that parents or carers were told
    expect(page.locator("main")).to_contain_text("Parents or carers told")
    escalation.refresh_from_db()
    assert escalation.state == State.RESOLVED and escalation.parents_informed is True
    assert escalation.stage.number == 1


def test_a_lead_returns_the_escalation_with_comments_and_approves_the_second_ask(
    page: Page, live_server, world
):
    # Given Alice's challenge at stage 1
    escalation = OpenEscalationFactory()
    sign_in_browser(page, live_server, world.alice)
    open_escalation(page, escalation)

    # When she asks to escalate without a reason, she is told what is missing
    press(page, "Escalate to the next stage", "Escalate to the next stage")
    press(page, "Escalate", "Error: Escalate")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter why you are escalating")
    screenshot(page, "10-error-summary")
    page.get_by_label("Why are you escalating?").fill("They did not reply.")
    press(page, "Escalate", escalation.reference)
    sign_out_browser(page)

    # Then Carol returns it with comments
    sign_in_browser(page, live_server, world.carol)
    open_escalation(page, escalation)
    press(page, "Return with comments", "Return the escalation with comments")
    page.get_by_label("What needs to change before you can approve?").fill(
        "Say what you asked for and when."
    )
    press(page, "Return with comments", escalation.reference)
    sign_out_browser(page)

    # And Alice sees the comments, asks again with a fuller reason, and Carol approves
    sign_in_browser(page, live_server, world.alice)
    open_escalation(page, escalation)
    expect(page.locator(".portal-timeline")).to_contain_text("Say what you asked for and when.")
    do_action(
        page,
        "Escalate to the next stage",
        "Escalate",
        escalation,
        id_reason="Asked CSC on 2 November to reconsider; no reply in 5 working days.",
    )
    sign_out_browser(page)
    sign_in_browser(page, live_server, world.carol)
    open_escalation(page, escalation)
    press(page, "Approve the escalation", "Approve the escalation")
    press(page, "Approve", escalation.reference)
    stage_shown(page, 2)
    escalation.refresh_from_db()
    assert list(escalation.approvals.values_list("decision", flat=True)) == ["returned", "approved"]


def test_a_practitioner_withdraws_a_challenge_by_keyboard_alone(page: Page, live_server, world):
    # Given Alice's open challenge
    escalation = OpenEscalationFactory()

    # When she signs in and withdraws it using only the keyboard
    sign_in_browser(page, live_server, world.alice, keyboard=True)
    tab_to(page, f"a[href='/escalations/{escalation.reference}/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    arrived(page, f"{escalation.reference}: ")
    tab_to(page, f"a[href='/escalations/{escalation.reference}/withdraw/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    arrived(page, "Why are you withdrawing the challenge?")
    tab_to(page, "#id_reason")
    page.keyboard.type("The other agency has now agreed to reconsider.")
    tab_to(page, "button.govuk-button--warning")
    with page.expect_navigation():
        page.keyboard.press("Space")
    arrived(page, f"{escalation.reference}: ")

    # Then it is withdrawn, with the reason in its timeline
    expect(page.locator("main")).to_contain_text("Withdrawn")
    expect(page.locator(".portal-timeline")).to_contain_text("now agreed to reconsider")
    escalation.refresh_from_db()
    assert escalation.state == State.WITHDRAWN
    assert_accessible(page)


def test_the_directory_and_the_404_page_pass_axe(page: Page, live_server, world):
    sign_in_browser(page, live_server, world.carol)
    page.get_by_role("link", name="Directory", exact=True).click()
    arrived(page, "Directory")
    screenshot(page, "11-directory")
    page.goto(f"{live_server.url}/escalations/KIR-2026-99999/")
    arrived(page, "Page not found")
    page.goto(f"{live_server.url}/agency/escalations/?stage=3")
    arrived(page, "Agency escalations")


def test_a_form_made_stale_in_another_session_says_what_changed_and_links_back(
    browser, page: Page, live_server, world
):
    # Given Alice's open challenge, and Alice with its "Escalate" form open
    escalation = OpenEscalationFactory()
    sign_in_browser(page, live_server, world.alice)
    open_escalation(page, escalation)
    press(page, "Escalate to the next stage", "Escalate to the next stage")
    page.get_by_label("Why are you escalating?").fill("No reply since the discussion.")

    # When Carol, her safeguarding lead, withdraws it in her own session meanwhile
    other = browser.new_context()
    try:
        carols = other.new_page()
        sign_in_browser(carols, live_server, world.carol)
        visit(carols, live_server, f"/escalations/{escalation.reference}/")
        press(carols, "Withdraw", "Why are you withdrawing the challenge?")
        carols.get_by_label("Why are you withdrawing the challenge?").fill(
            "The family has moved out of the area."
        )
        press(carols, "Withdraw", escalation.reference)
    finally:
        other.close()

    # And Alice submits her form, opened before the change
    press(page, "Escalate", "Escalate to the next stage")

    # Then the page says what changed, by whom, that nothing was saved and it can no longer
    # be done, offers no form, and links back to the escalation
    changed = page.get_by_role("region", name="What changed")
    expect(changed).to_contain_text(f"{escalation.reference} is now withdrawn")
    expect(changed).to_contain_text("Withdrawn by Carol Cole")
    expect(changed).to_contain_text("The family has moved out of the area.")
    expect(changed).to_contain_text("Nothing was saved, and this can no longer be done.")
    expect(page.get_by_label("Why are you escalating?")).to_have_count(0)
    screenshot(page, "12-stale-form-refused")
    with page.expect_navigation():
        changed.get_by_role("link", name=f"Go back to {escalation.reference}").click()
    arrived(page, f"{escalation.reference}: ")
    expect(page.locator("main")).to_contain_text("Withdrawn")
    escalation.refresh_from_db()
    assert escalation.state == State.WITHDRAWN and escalation.stage.number == 1
