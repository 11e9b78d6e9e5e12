"""Headings say what the page is for (issue 17, point 13), in GOV.UK's style: a page that asks
one question asks it in its h1 (the field's label or legend is the h1), and a page with several
questions, or with things to weigh before answering, has a heading saying what it is for. Every
action page, every question of the raise journey and the other form pages are visited as the
person who would use them, and their h1 is checked against the list below: a new page, or a
changed heading, has to be added here on purpose."""

import html
import re

import pytest

from escalations.views.actions import PAGES
from escalations.views.raise_ import STEPS
from tests.factories import (
    AwaitingApprovalEscalationFactory,
    OpenEscalationFactory,
    ResolvedEscalationFactory,
)
from tests.helpers import sign_in
from tests.test_pages_reading import raise_berkshire

# Action pages: the question, where the page asks one; else what the page is for.
ACTION_HEADINGS = {
    "note": "Add a note or record a discussion",
    "position": "What is your agency's position, and why?",
    "response": "Record your agency's response",
    "escalate": "Escalate to the next stage",
    "refer-directly": "Refer it straight to a later stage",
    "child-file": "Confirm it is recorded on your agency's file for the child",
    "approve": "Approve the escalation",
    "return": "Return the escalation with comments",
    "next-step": "What happened at this step?",
    "resolve": "Resolve the escalation",
    "parents": "Were parents or carers told about the escalation and its outcome?",
    "learning": "Record learning and any policy gap",
    "debrief": "Record the debrief",
    "share": "Why are you sharing the full record with the partnership?",
    "close": "Close the escalation",
    "reopen": "Why are you reopening the escalation?",
    "withdraw": "Why are you withdrawing the challenge?",
}
# The action pages that ask one question: their h1 holds the question's label or legend.
ONE_QUESTION = {"position", "next-step", "parents", "share", "reopen", "withdraw"}

# Other form pages, as the partnership administrator (Kim, Kirklees) or Alice sees them.
KIRKLEES = "/manage/partnerships/kirklees"
FORM_HEADINGS = {
    ("kim", f"{KIRKLEES}/invite/"): "Invite someone",
    ("kim", f"{KIRKLEES}/people/{{alice}}/edit/"): "Change Alice Able's details",
    ("kim", f"{KIRKLEES}/people/{{alice}}/roles/add/"): "Give Alice Able a role",
    ("kim", f"{KIRKLEES}/people/{{alice}}/leaver/"): "Mark Alice Able as a leaver",
    ("kim", f"{KIRKLEES}/people/{{alice}}/second-factor/"): "Reset Alice Able's second factor",
    ("kim", f"{KIRKLEES}/agencies/new/"): "Add an agency",
    ("kim", f"{KIRKLEES}/directory/new/"): "Add a directory entry",
    ("kim", f"{KIRKLEES}/people/import/"): "Import people from a file",
    ("alice", "/account/work-phone/"): "What is your work phone number?",
    ("alice", "/raise/"): "Raise a challenge",
    ("erin", "/conference/new/"): "Record a conference concern",
}


def h1_of(content: str) -> str:
    found = re.findall(r"<h1[^>]*>(.*?)</h1>", content, re.S)
    assert len(found) == 1, f"a page has one h1, this has {len(found)}"
    text = re.sub(r"<[^>]+>", " ", found[0])
    return html.unescape(re.sub(r"\s+", " ", text)).strip()


def test_every_action_page_asks_its_question_or_says_what_it_is_for(client, world):
    # Only where a stage names who moves it (Pan-Cheshire step 3): its heading is checked in
    # tests/escalations/test_ask_to_escalate.py.
    elsewhere = {"ask-to-escalate"}
    assert set(PAGES) - elsewhere == set(ACTION_HEADINGS), "add the new page's heading here"
    open_ = OpenEscalationFactory()
    waiting = AwaitingApprovalEscalationFactory()
    resolved = ResolvedEscalationFactory()
    berkshire = raise_berkshire(world)
    who = [
        (open_, world.alice),
        (open_, world.erin),
        (open_, world.carol),
        (waiting, world.carol),
        (resolved, world.alice),
        (berkshire, world.oscar),
    ]
    seen = {}
    for slug in set(PAGES) - elsewhere:
        for escalation, person in who:
            sign_in(client, person)
            response = client.get(f"/escalations/{escalation.reference}/{slug}/")
            if response.status_code == 200:
                content = response.content.decode()
                seen[slug] = h1_of(content)
                if slug in ONE_QUESTION:
                    heading = content.split("<h1")[1].split("</h1>")[0]
                    assert (
                        "<label" in heading
                        or "<legend" in heading
                        or ("govuk-fieldset__heading" in heading)
                    ), slug
                break
    assert seen == ACTION_HEADINGS


def test_every_question_of_the_raise_journey_is_asked_in_its_h1(client, world):
    sign_in(client, world.alice)
    draft = client.post("/raise/")["Location"].rsplit("/", 2)[0]
    asked = {}
    for step in STEPS:
        if step.form is None:
            continue
        response = client.get(f"{draft}/{step.slug}/")
        if response.status_code != 200:
            continue  # a step Alice is not asked (one agency, one partnership)
        asked[step.slug] = h1_of(response.content.decode())
        assert asked[step.slug] == step.form.title, step.slug
        assert asked[step.slug].endswith("?"), step.slug
    assert len(asked) >= 10, asked


@pytest.mark.parametrize(("who", "url"), list(FORM_HEADINGS), ids=lambda v: str(v))
def test_the_other_form_pages_say_what_they_are_for(client, world, who, url):
    sign_in(client, getattr(world, who))
    response = client.get(url.format(alice=world.alice.pk))
    assert response.status_code == 200
    assert h1_of(response.content.decode()) == FORM_HEADINGS[(who, url)]
