"""Hypothesis throws arbitrary input at the raise journey's question pages and every action form
on an escalation: text, markup, numbers, dates real and unreal, and fields left out.

Whatever is sent: no server error; nothing typed comes back as live markup, neither on the page
that answers nor on the pages that show it afterwards (check your answers, the escalation page);
input that is refused gets the GOV.UK error summary with a specific message, and nothing already
saved changes (the draft's answers, the escalation's revision and state)."""

from __future__ import annotations

import os
import re
from datetime import date

import pytest
from django import forms
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from escalations import services
from escalations.drafts import DraftChallenge
from escalations.fields import DateField
from escalations.models import Escalation
from escalations.views import actions as action_views
from escalations.views import raise_ as raise_views
from tests.factories import (
    AwaitingApprovalEscalationFactory,
    OpenEscalationFactory,
    ResolvedEscalationFactory,
)
from tests.helpers import sign_in
from tests.security.test_fuzz_forms import MARKER, field_value, typed

pytestmark = pytest.mark.django_db

# Modest by default (the file runs in well under a minute); FUZZ_EXAMPLES=200 digs deeper.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "10")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
ERROR_LIST = re.compile(r'<ul class="govuk-list govuk-error-summary__list">(.*?)</ul>', re.S)
TAG = re.compile(r"<[^>]+>")


def assert_no_live_markup(response) -> None:
    assert response.status_code < 500
    assert MARKER.encode() not in response.content


def error_messages(response) -> list[str]:
    found = ERROR_LIST.search(response.content.decode())
    if not found:
        return []
    return [
        TAG.sub("", item).strip()
        for item in found.group(1).split("</li>")
        if TAG.sub("", item).strip()
    ]


def assert_refused_for_control_characters(response) -> None:
    """security.middleware.RefuseControlCharactersMiddleware's page, saying what was wrong."""
    assert b"a control character" in response.content


def assert_refused_specifically(response) -> None:
    """The form again, with the GOV.UK error summary naming what is wrong."""
    content = response.content.decode()
    assert "There is a problem" in content, content[:2000]
    messages = error_messages(response)
    assert messages, content[content.find("govuk-error-summary") :][:1500]
    for message in messages:
        assert message != "There is a problem" and len(message) > 10, message


# Longer than any column it might land in (PostgreSQL refuses what SQLite would keep).
LONG_TEXT = st.integers(150, 3000).map(lambda n: MARKER + "x" * n)
# Numbers a date box may be given that int() takes but no calendar has.
ODD_NUMBERS = st.sampled_from(
    ["9" * 40, str(2**64), str(-(2**70)), "1" + "0" * 30, "99999", "0", "-1", " 7 ", "1_0", "٣"]
)


def date_parts(name: str) -> st.SearchStrategy[dict]:
    """Day, month and year boxes: today with one box odd or arbitrary, or any boxes at all."""
    today = timezone.localdate()
    real = {f"{name}-day": str(today.day), f"{name}-month": str(today.month)}
    real[f"{name}-year"] = str(today.year)
    one_odd = st.tuples(st.sampled_from(sorted(real)), st.one_of(ODD_NUMBERS, field_value)).map(
        lambda odd: {**real, odd[0]: odd[1]}
    )
    boxes = {
        f"{name}-day": st.one_of(st.integers(0, 32).map(str), ODD_NUMBERS, field_value),
        f"{name}-month": st.one_of(st.integers(0, 13).map(str), ODD_NUMBERS, field_value),
        f"{name}-year": st.one_of(
            st.sampled_from(["2024", "2099", "26"]), ODD_NUMBERS, field_value
        ),
    }
    return weighted((2, one_odd), (1, st.fixed_dictionaries({}, optional=boxes)))


def weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """One of the strategies, each as often as its weight says."""
    indices = [i for i, (weight, _) in enumerate(choices) for _ in range(weight)]
    return st.sampled_from(indices).flatmap(lambda i: choices[i][1])


def _merge(fragments) -> dict:
    merged: dict = {}
    for fragment in fragments:
        merged.update(fragment)
    return merged


def valid(name: str, field: forms.Field) -> st.SearchStrategy[dict]:
    """What a careful person might send for the field (markup is valid text: it is saved)."""
    if isinstance(field, DateField):
        today = timezone.localdate()  # neither in the future nor in the past
        return st.just(
            {f"{name}-day": today.day, f"{name}-month": today.month, f"{name}-year": today.year}
        )
    if isinstance(field, forms.MultipleChoiceField):
        values = [str(v) for v, _ in field.choices]
        return st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True).map(
            lambda chosen: {name: chosen}
        )
    if isinstance(field, forms.ChoiceField):
        values = [str(v) for v, _ in field.choices if v != ""] or [""]
        return st.sampled_from(values).map(lambda value: {name: value})
    text = st.one_of(
        st.just("An ordinary answer."),
        typed.filter(lambda t: t.strip()).map(lambda t: MARKER + t),
        LONG_TEXT,
    )
    return text.map(lambda value: {name: value})


def anything(name: str, field: forms.Field) -> st.SearchStrategy[dict]:
    """Valid, arbitrary, or left out."""
    if isinstance(field, DateField):  # dates are where the checking is: fuzzed more often
        return weighted((1, valid(name, field)), (2, date_parts(name)), (1, st.just({})))
    if isinstance(field, forms.MultipleChoiceField):
        values = [str(v) for v, _ in field.choices]
        fuzzed = st.lists(st.one_of(st.sampled_from(values), field_value), max_size=3).map(
            lambda chosen: {name: chosen}
        )
    else:
        fuzzed = field_value.map(lambda value: {name: value})
    return weighted((3, valid(name, field)), (1, fuzzed), (1, st.just({})))


def form_data(form: forms.Form) -> st.SearchStrategy[dict]:
    """Every field valid, arbitrary or left out; fields that go together (an action row of the
    resolve form) also all left out or all valid, so the deep paths are reached too."""
    groups: dict[str, list[tuple[str, forms.Field]]] = {}
    for name, field in form.fields.items():
        if name != "revision":
            key = name.rsplit("_", 1)[0] if name.startswith("action_") else name
            groups.setdefault(key, []).append((name, field))
    parts = []
    for members in groups.values():
        if len(members) == 1:
            parts.append(anything(*members[0]))
            continue
        parts.append(
            weighted(
                (2, st.just({})),
                (2, st.tuples(*(valid(n, f) for n, f in members)).map(_merge)),
                (1, st.tuples(*(anything(n, f) for n, f in members)).map(_merge)),
            )
        )
    return st.tuples(*parts).map(_merge)


# --- the raise journey ----------------------------------------------------------------------------


def complete_answers(world) -> dict:
    """A draft answered up to check your answers, as the question pages leave it."""
    return {
        "_agency_count": 1,
        "raising_agency": world.school.pk,
        "_partnership_count": 1,
        "partnership": world.kirklees.pk,
        "immediate_risk": "no",
        "_emergency_seen": True,  # read if it was yes,
        "start_stage": 1,  # and stage 1 chosen
        "conduct": "no",
        "child_kind": "child",
        "given_names": "Poppy",
        "family_name": "Testwell",
        "date_of_birth": "2019-04-02",
        "address": "1 Invented Row",
        "receiving_agency": world.csc.pk,
        "receiving_person": None,
        "receiving_team": "",
        "_practitioner_seen": True,
        "pathway": "referral",
        "natures": ["referral_decision"],
        "nature_other": "",
        "details": "The referral was declined.",
        "outcome_sought": "A manager reconsiders it.",
        "interim_safety": "The DSL checks in daily.",
        "initial_discussion_on": "2026-11-02",
    }


SHOWN_ON_CHECK = ("family_name", "address", "details", "outcome_sought", "interim_safety")
QUESTION_SLUGS = [step.slug for step in raise_views.STEPS if step.form is not None]


def test_the_raise_question_pages_never_fail_and_never_echo_markup(world, client):
    sign_in(client, world.alice)
    base = complete_answers(world)
    strategies = {
        step.slug: form_data(step.form(answers=base, person=world.alice))
        for step in raise_views.STEPS
        if step.form is not None
    }
    outcomes = {"saved": 0, "refused": 0, "raised": 0}

    @FUZZ
    @given(data=st.data(), slug=st.sampled_from(QUESTION_SLUGS), submit=st.booleans())
    def post(data, slug, submit):
        answers = {
            **base,
            "immediate_risk": data.draw(st.sampled_from(["no", "yes"])),
            # As for a person in two agencies, or an agency in two partnerships: the agency
            # and partnership questions are asked too.
            "_agency_count": data.draw(st.sampled_from([1, 2])),
            "_partnership_count": data.draw(st.sampled_from([1, 2])),
        }
        draft = DraftChallenge.objects.create(owner=world.alice, answers=answers)
        url = f"/raise/drafts/{draft.pk}/{slug}/"
        assert_no_live_markup(client.get(url))
        sent = data.draw(strategies[slug])
        response = client.post(url, sent)
        assert_no_live_markup(response)
        draft.refresh_from_db()
        if response.status_code == 200:
            outcomes["refused"] += 1
            assert_refused_specifically(response)
            assert draft.answers == answers  # nothing already answered was lost
            return
        if response.status_code == 404:  # a step that does not apply to this draft
            return
        if response.status_code == 400:  # control characters: refused before any form
            assert_refused_for_control_characters(response)
            assert draft.answers == answers
            return
        assert response.status_code == 302, response.status_code
        outcomes["saved"] += 1
        for page in (f"/raise/drafts/{draft.pk}/check/", response["Location"], "/"):
            assert_no_live_markup(client.get(page, follow=True))
        if any(str(draft.answers.get(key, "")).startswith(MARKER) for key in SHOWN_ON_CHECK):
            # Saved markup is shown on check your answers, as text.
            check = client.get(f"/raise/drafts/{draft.pk}/check/", follow=True)
            assert b"&lt;b id=fuzz&gt;" in check.content
        if submit and draft.answers.get("conduct") == "no":
            raised = client.post(f"/raise/drafts/{draft.pk}/check/")
            assert_no_live_markup(raised)
            draft.refresh_from_db()
            if draft.escalation_id:
                outcomes["raised"] += 1
                reference = draft.escalation.reference
                for page in (f"/escalations/{reference}/", f"/escalations/{reference}/raised/"):
                    assert_no_live_markup(client.get(page))

    post()
    print(f"\nraise pages: {outcomes}")  # the counts, for the record


def test_a_question_page_that_is_not_there_never_fails(world, client):
    sign_in(client, world.alice)
    draft = DraftChallenge.objects.create(owner=world.alice, answers=complete_answers(world))

    @FUZZ
    @given(slug=st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_0123456789", min_size=1, max_size=40))
    def post(slug):
        response = client.post(f"/raise/drafts/{draft.pk}/{slug}/", {"x": MARKER})
        assert_no_live_markup(response)

    post()


# --- the action forms on an escalation ------------------------------------------------------------


def saved_before() -> dict:
    """Each escalation is saved with the marker in its details, its clock started today."""
    return {"details": f"Saved before: {MARKER}", "initial_discussion_on": timezone.localdate()}


def open_escalation(world):
    return OpenEscalationFactory(**saved_before())


def awaiting_approval(world):
    return AwaitingApprovalEscalationFactory(**saved_before())


def resolved(world):
    return ResolvedEscalationFactory(
        **saved_before(),
        category="upheld",
        summary="Agreed.",
        actions=[services.ActionItem("Call back", "Frank Ford", date(2099, 1, 1))],
    )


def berkshire_open(world):
    return OpenEscalationFactory(
        **saved_before(),
        by=world.oscar,
        child=services.ChildDetails(home_partnership=world.berkshire, given_names="Sky"),
        receiving_agency=world.constabulary,
        receiving_person=None,
        natures=["information_sharing"],
        outcome_sought="The outcome is shared.",
        interim_safety="School DSL checks in daily.",
    )


def pan_cheshire_step_2(world):
    """At Pan-Cheshire step 2, where only a senior manager moves it on (Alice asks Dan)."""
    for agency in (world.school, world.csc):
        agency.partnerships.add(world.pan_cheshire)
    esc = OpenEscalationFactory(
        **saved_before(),
        child=services.ChildDetails(home_partnership=world.pan_cheshire, given_names="Wren"),
    )
    return services.escalate(esc, by=world.alice, reason="No reply after the conversation.")


# Each action page, who takes it, and an escalation in a state where they may.
ACTION_CASES = {
    "note": ("alice", open_escalation),
    "position": ("erin", open_escalation),
    "response": ("erin", open_escalation),
    "escalate": ("alice", open_escalation),
    "refer-directly": ("alice", open_escalation),
    "ask-to-escalate": ("alice", pan_cheshire_step_2),
    "child-file": ("alice", resolved),
    "approve": ("carol", awaiting_approval),
    "return": ("carol", awaiting_approval),
    "next-step": ("oscar", berkshire_open),
    "resolve": ("alice", open_escalation),
    "parents": ("alice", resolved),
    "learning": ("alice", resolved),
    "debrief": ("alice", resolved),
    "share": ("carol", open_escalation),
    "close": ("alice", resolved),
    "reopen": ("alice", resolved),
    "withdraw": ("alice", open_escalation),
}


def test_every_action_page_is_fuzzed():
    assert set(ACTION_CASES) == set(action_views.PAGES)


def snapshot(escalation_pk: int) -> tuple:
    esc = Escalation.objects.get(pk=escalation_pk)
    return (esc.revision, esc.state, esc.stage_id, esc.step, esc.details, esc.updated_on)


@pytest.mark.parametrize("slug", sorted(ACTION_CASES))
def test_an_action_form_never_fails_and_never_echoes_markup(world, client, slug):
    who, make = ACTION_CASES[slug]
    person = getattr(world, who)
    sign_in(client, person)
    page = action_views.PAGES[slug]
    strategy = form_data(page.form())
    outcomes = {"saved": 0, "refused": 0}

    @FUZZ
    @example(sent={}, revision="not a number")  # always refused: the error summary is checked
    @given(sent=strategy, revision=weighted((4, st.none()), (1, field_value)))
    def post(sent, revision):
        esc = make(world)
        url = f"/escalations/{esc.reference}/{slug}/"
        get = client.get(url)
        assert get.status_code == 200, (slug, get.status_code)
        before = snapshot(esc.pk)
        data = {**sent, "revision": str(esc.revision) if revision is None else revision}
        response = client.post(url, data)
        assert_no_live_markup(response)
        if response.status_code == 200:
            outcomes["refused"] += 1
            assert_refused_specifically(response)
            assert snapshot(esc.pk) == before  # nothing saved, nothing already saved changed
        elif response.status_code == 400:
            assert_refused_for_control_characters(response)
            assert snapshot(esc.pk) == before
        else:
            assert response.status_code == 302, response.status_code
            outcomes["saved"] += 1
            assert Escalation.objects.get(pk=esc.pk).revision == before[0] + 1
        shown = client.get(f"/escalations/{esc.reference}/")
        assert_no_live_markup(shown)
        # What was saved before is shown, escaped: the page would show live markup otherwise.
        assert b"Saved before: &lt;b id=fuzz&gt;" in shown.content

    post()
    print(f"\n{slug}: {outcomes}")  # the counts, for the record
    assert outcomes["refused"] > 0


def test_marking_an_action_done_never_fails(world, client):
    sign_in(client, world.alice)

    @FUZZ
    @given(revision=field_value, action_id=st.integers(0, 2**63 - 1))
    def post(revision, action_id):
        esc = resolved(world)
        response = client.post(
            f"/escalations/{esc.reference}/actions/{action_id}/done/", {"revision": revision}
        )
        assert_no_live_markup(response)

    post()


def test_a_typed_note_is_shown_escaped_on_the_escalation_page(world, client):
    """The check above can fail: markup typed into a note reaches the page, escaped."""
    esc = open_escalation(world)
    sign_in(client, world.alice)
    today = timezone.localdate()
    response = client.post(
        f"/escalations/{esc.reference}/note/",
        {
            "revision": esc.revision,
            "kind": "note",
            "body": f"{MARKER}Called the team",
            "happened_on-day": today.day,
            "happened_on-month": today.month,
            "happened_on-year": today.year,
        },
    )
    assert response.status_code == 302
    content = client.get(f"/escalations/{esc.reference}/").content
    assert b"&lt;b id=fuzz&gt;Called the team" in content
    assert MARKER.encode() not in content


# --- what the fuzzing found, kept as examples -----------------------------------------------------


@pytest.mark.parametrize("box", ["day", "month", "year"])
def test_a_date_too_big_for_any_calendar_is_refused_in_words(world, client, box):
    esc = open_escalation(world)
    sign_in(client, world.alice)
    today = timezone.localdate()
    boxes = {"day": today.day, "month": today.month, "year": today.year, box: "9" * 40}
    response = client.post(
        f"/escalations/{esc.reference}/note/",
        {
            "revision": esc.revision,
            "kind": "note",
            "body": "Called the team.",
            **{f"happened_on-{part}": value for part, value in boxes.items()},
        },
    )
    assert response.status_code == 200
    assert error_messages(response) == ["The date it happened must be a real date"]


def test_an_action_owner_longer_than_its_column_is_refused_in_words(world, client):
    esc = open_escalation(world)
    sign_in(client, world.alice)
    response = client.post(
        f"/escalations/{esc.reference}/resolve/",
        {
            "revision": esc.revision,
            "category": "upheld",
            "summary": "Agreed.",
            "raiser_satisfied": "yes",
            "action_1_what": "Call back",
            "action_1_owner": "Frank Ford, " + "x" * 200,
            "action_1_due-day": "1",
            "action_1_due-month": "1",
            "action_1_due-year": "2099",
        },
    )
    assert response.status_code == 200
    assert error_messages(response) == ["Who will do action 1 must be 200 characters or fewer"]
    assert Escalation.objects.get(pk=esc.pk).state == "open"
