"""Each of the five ladders matches its policy (SPEC section 5 and source-policies/).

Read through `describe_policy SLUG --json`, the administrators' own view of a ladder."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

SLUGS = ["kirklees", "pan-cheshire", "berkshire", "lincolnshire", "playgroup"]
STAGE_KEYS = {
    "number",
    "name",
    "who",
    "time_limit",
    "steps",
    "brings_in_partnership",
    "record_required",
    "approval_required",
    "after_resolution",
}

WD = "working_days"
POLICY_5 = {"value": 5, "unit": WD, "source": "policy"}
POLICY_1 = {"value": 1, "unit": WD, "source": "policy"}
LOCAL_5 = {"value": 5, "unit": WD, "source": "local-default"}

# Per partnership: (escalation stage names, their time limits, partnership stages,
# record stages, approval stages, after-resolution steps).
EXPECTED = {
    "kirklees": {
        "names": [
            "Practitioner discussion",
            "Written confirmation",
            "Escalation to Line Manager",
            "Line Manager Discussion",
            "Escalation to Head of Service (or equivalent Senior Manager)",
            "Escalation to KSCP Business Unit Manager",
        ],
        # "each step in this process should not exceed 5 working days"
        "limits": [POLICY_5] * 6,
        "partnership": [5, 6],
        "record": [5, 6],  # Appendix 5: "at stages 5 and 6 of the process"
        "approval": [2],
        "after": {7: "Restorative debrief"},
    },
    "pan-cheshire": {
        "names": [
            "Professionals resolving disagreements",
            "Safeguarding Leads/Line Managers",
            "LSCB Board Members",
            "LSCB Chair",
        ],
        # Step 1 "within one working day"; step 4 "within 5 working days"; 2 and 3 silent.
        "limits": [POLICY_1, LOCAL_5, LOCAL_5, POLICY_5],
        "partnership": [4],
        "record": [4],  # the Appendix A form
        # Step 1: "notify their agency's Safeguarding Lead/Line Manager": no approval.
        "approval": [],
        "after": {},
    },
    "berkshire": {
        "names": [
            "Preventing Disputes",
            "Dispute Procedure",
            "Formal Dispute Procedure",
            "Where disagreements remain",
        ],
        "limits": [POLICY_1, LOCAL_5, LOCAL_5, LOCAL_5],
        "partnership": [4],  # "from Stage 4 onwards forwarded to the ... Partners"
        "record": [4],
        # "direct communication" with the designated professional: no approval.
        "approval": [],
        "after": {5: "Conclusion"},
    },
    "lincolnshire": {
        "names": [
            "Frontline professionals",
            "Line manager / supervisor",
            "Senior Liaison Officer",
            "Inter agency case review group",
        ],
        "limits": [LOCAL_5] * 4,  # the policy states no time limit
        "partnership": [4],
        "record": [4],
        "approval": [],  # "Senior Liaison officers can advise": advice, not approval
        "after": {},
    },
    "playgroup": {
        "names": [
            "Consult the Playgroup Manager",
            "Resolve between the people who disagree",
            "Playgroup Manager raises with the equivalent manager",
            "Designated safeguarding representatives",
            "Chair of the Local Safeguarding Children Board / Resolution Panel",
        ],
        "limits": [LOCAL_5] * 5,  # "as speedily as possible"
        "partnership": [3, 4, 5],  # the Board Manager is told at stage 3
        "record": [3],
        "approval": [],  # "the manager reports to ... designated safeguarding representative"
        "after": {6: "Debrief"},
    },
}


def describe(slug: str) -> dict:
    out = StringIO()
    call_command("describe_policy", slug, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def ladders(db):
    call_command("load_policies", stdout=StringIO())
    return {slug: describe(slug) for slug in SLUGS}


@pytest.mark.parametrize("slug", SLUGS)
def test_describe_policy_json_has_the_keys_the_issue_names(ladders, slug):
    data = ladders[slug]
    assert {"partnership", "name", "version", "emergency", "stages"} <= set(data)
    assert data["partnership"] == slug
    assert data["version"] == 1
    for stage in data["stages"]:
        assert set(stage) >= STAGE_KEYS
        limit = stage["time_limit"]
        assert limit is None or set(limit) == {"value", "unit", "source"}
        assert limit is None or stage["clock_measures"].startswith("the time ")


@pytest.mark.parametrize(
    ("slug", "count"),
    [("kirklees", 6), ("pan-cheshire", 4), ("berkshire", 4), ("lincolnshire", 4), ("playgroup", 5)],
)
def test_each_ladder_has_the_number_of_escalation_stages_its_policy_has(ladders, slug, count):
    stages = [s for s in ladders[slug]["stages"] if not s["after_resolution"]]
    assert [s["number"] for s in stages] == list(range(1, count + 1))


@pytest.mark.parametrize("slug", SLUGS)
def test_stage_names_and_time_limits_with_their_sources_match_the_policy(ladders, slug):
    stages = [s for s in ladders[slug]["stages"] if not s["after_resolution"]]
    assert [s["name"] for s in stages] == EXPECTED[slug]["names"]
    assert [s["time_limit"] for s in stages] == EXPECTED[slug]["limits"]
    assert all(s["who"].strip() for s in stages)


@pytest.mark.parametrize("slug", SLUGS)
def test_partnership_record_and_approval_stages_match_the_policy(ladders, slug):
    stages = [s for s in ladders[slug]["stages"] if not s["after_resolution"]]
    expected = EXPECTED[slug]
    assert [s["number"] for s in stages if s["brings_in_partnership"]] == expected["partnership"]
    assert [s["number"] for s in stages if s["record_required"]] == expected["record"]
    assert [s["number"] for s in stages if s["approval_required"]] == expected["approval"]


@pytest.mark.parametrize("slug", SLUGS)
def test_after_resolution_steps_follow_the_escalation_stages_and_have_no_clock(ladders, slug):
    after = {s["number"]: s for s in ladders[slug]["stages"] if s["after_resolution"]}
    assert {n: s["name"] for n, s in after.items()} == EXPECTED[slug]["after"]
    for stage in after.values():
        assert stage["time_limit"] is None
        assert not stage["brings_in_partnership"] and not stage["approval_required"]


def test_berkshire_stage_one_holds_a_working_day_then_twenty_four_hours(ladders):
    stage_one = ladders["berkshire"]["stages"][0]
    assert [step["time_limit"] for step in stage_one["steps"]] == [
        {"value": 1, "unit": "working_days", "source": "policy"},
        {"value": 24, "unit": "hours", "source": "policy"},
    ]
    assert "discussion" in stage_one["steps"][0]["name"]
    assert "line managers" in stage_one["steps"][1]["name"]
    # No other stage of any ladder has timed steps inside it.
    others = [
        (slug, s["number"])
        for slug in SLUGS
        for s in ladders[slug]["stages"]
        if s["steps"] and (slug, s["number"]) != ("berkshire", 1)
    ]
    assert others == []


def test_kirklees_emergency_route_gives_duty_and_advice_and_999(ladders):
    emergency = ladders["kirklees"]["emergency"]
    phones = [c["phone"] for c in emergency["contacts"]]
    assert phones == ["01484 414960", "999"]
    assert "Duty & Advice" in emergency["summary"]
    # An emergency route, not a later start: the protocol gives no discretion on the stage.
    assert emergency["start_at_any_stage"] is False


@pytest.mark.parametrize(
    ("slug", "words", "phones", "any_stage"),
    [
        ("pan-cheshire", "Contact and Referral Team", [""], False),
        # "it may be required to instigate all of the stages within a short period of time"
        # The lead and line manager by name (no number printed), then 999.
        ("berkshire", "999", ["", "999"], True),
        # "discretion should be used as to which stage is initiated"; the Playgroup Manager and
        # the designated safeguarding representative, no number printed.
        ("playgroup", "discretion", ["", ""], True),
        # The line manager and the Senior Liaison Officer, no number printed.
        ("lincolnshire", "urgent action", ["", ""], False),
    ],
)
def test_other_emergency_routes_are_the_policies_own(ladders, slug, words, phones, any_stage):
    """Only the playgroup and Berkshire give discretion over the starting stage."""
    emergency = ladders[slug]["emergency"]
    assert words in emergency["summary"]
    assert [c["phone"] for c in emergency["contacts"]] == phones
    assert emergency["start_at_any_stage"] is any_stage


@pytest.mark.parametrize(
    ("slug", "effective"),
    [
        ("kirklees", None),
        ("pan-cheshire", "2016-05-01"),
        ("berkshire", None),
        ("lincolnshire", "2010-05-05"),
        ("playgroup", None),
    ],
)
def test_effective_dates_only_where_the_policy_states_one(ladders, slug, effective):
    assert ladders[slug]["effective_date"] == effective


def test_a_changed_partnership_default_shows_on_local_default_stages_only(ladders):
    from policies.models import Partnership

    Partnership.objects.filter(slug="berkshire").update(default_time_limit_value=3)
    stages = describe("berkshire")["stages"]
    assert stages[0]["time_limit"] == POLICY_1
    assert stages[1]["time_limit"] == {"value": 3, "unit": WD, "source": "local-default"}


def test_describe_policy_text_lists_stages_and_marks_local_defaults(ladders):
    out = StringIO()
    call_command("describe_policy", "berkshire", stdout=out)
    text = out.getvalue()
    assert "Berkshire" in text
    assert "1. Preventing Disputes - 1 working day" in text
    assert "2. Dispute Procedure - 5 working days (local default" in text
    assert "5. Conclusion - No time limit [after resolution]" in text


def test_describe_policy_names_the_known_slugs_for_an_unknown_one(ladders):
    with pytest.raises(CommandError, match=r"No partnership 'kirklee'.*kirklees"):
        call_command("describe_policy", "kirklee")
    with pytest.raises(CommandError, match="No partnership"):
        call_command("describe_policy", "kirklee", "--json")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere", "2026-12-23", "5"], "No partnership 'nowhere'"),
        (["kirklees", "23/12/2026", "5"], "not a date written YYYY-MM-DD"),
        (["kirklees", "2026-02-30", "5"], "not a date written YYYY-MM-DD"),
        (["kirklees", "2026-12-23", "-1"], "0 or more"),
    ],
)
def test_working_days_gives_a_clear_error_for_a_bad_slug_or_date(ladders, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("working_days", *args)


def test_working_days_counts_christmas_2026_in_kirklees(ladders):
    out = StringIO()
    call_command("working_days", "kirklees", "2026-12-23", "5", stdout=out)
    assert out.getvalue().strip() == "2027-01-04"
