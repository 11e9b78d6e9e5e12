"""Every rule in every ladder file says where it comes from (issue 15): the policy's section
with its words, or the partnership's local choice with who chose it and why. Read straight
from the YAML, not through the loader, so a loader that stopped checking would not hide a
file that stopped citing."""

from pathlib import Path

import pytest
import yaml

LADDERS = sorted((Path(__file__).resolve().parents[2] / "policies" / "ladders").glob("*.yaml"))

# The rules a stage states, and when it states them (SCHEMA.md "Where each rule comes from").
STAGE_RULES = {
    "who": lambda s: True,
    "time_limit": lambda s: s.get("time_limit") not in (None, "none"),
    "moved_by": lambda s: bool(s.get("moved_by")),
    "told": lambda s: s.get("brings_in_partnership") is True,
    "sent": lambda s: s.get("record_required") is True,
    "approval": lambda s: s.get("approval_required") is True,
    "reached_directly": lambda s: s.get("reached_directly") is True,
    "guidance": lambda s: bool(s.get("guidance")),
}
PARTNERSHIP_RULES = {
    "emergency": lambda p: True,
    "start_at_any_stage": lambda p: p["emergency"].get("start_at_any_stage") is True,
    "parents_and_carers": lambda p: bool(p.get("parents_and_carers")),
    "allegations": lambda p: True,
    "outcomes_from_stage": lambda p: p.get("outcomes_from_stage") is not None,
    "learning_to_partnership": lambda p: p.get("learning_to_partnership") is True,
    "policy_gaps_to_partnership": lambda p: p.get("policy_gaps_to_partnership") is True,
    "child_file_record": lambda p: p.get("child_file_record") is True,
    "child_file_at_each_stage": lambda p: p.get("child_file_at_each_stage") is True,
    "child_file_reminders": lambda p: bool(p.get("child_file_reminders")),
    "outcomes_on_request": lambda p: bool(p.get("outcomes_on_request")),
}
LADDER_RULES = {
    "effective_date": lambda lad: lad.get("effective_date") is not None,
    "review_date": lambda lad: lad.get("review_date") is not None,
}


def unsourced(where: str, stated: dict, wanted: dict) -> list[str]:
    rules = stated.get("rules") or {}
    problems = []
    for name, applies in wanted.items():
        if not applies(stated):
            continue
        basis = rules.get(name) or {}
        cited = bool(str(basis.get("policy_section", "")).strip()) and bool(
            str(basis.get("quote", "")).strip()
        )
        choice = basis.get("local_choice") or {}
        local = bool(str(choice.get("by", "")).strip()) and bool(
            str(choice.get("reason", "")).strip()
        )
        if cited == local:  # neither, or (wrongly) both
            problems.append(f"{where}.rules.{name}")
    return problems


@pytest.mark.parametrize("path", LADDERS, ids=lambda p: p.stem)
def test_every_rule_carries_a_policy_section_and_quote_or_a_local_choice(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems = unsourced("partnership", data["partnership"], PARTNERSHIP_RULES)
    problems += unsourced("ladder", data["ladder"], LADDER_RULES)
    for stage in data["ladder"]["stages"]:
        problems += unsourced(f"stage {stage['number']}", stage, STAGE_RULES)
        limit = stage.get("time_limit")
        if isinstance(limit, dict) and not str(limit.get("measures", "")).strip():
            problems.append(f"stage {stage['number']}.time_limit.measures")
        if limit == "local-default":
            problems.append(f"stage {stage['number']}.time_limit.measures")
    assert problems == [], f"{path.name}: rules without a source: {problems}"


def test_every_local_default_time_limit_is_marked_as_a_local_choice():
    for path in LADDERS:
        for stage in yaml.safe_load(path.read_text(encoding="utf-8"))["ladder"]["stages"]:
            limit = stage.get("time_limit")
            if isinstance(limit, dict) and limit.get("source") == "local-default":
                assert "local_choice" in stage["rules"]["time_limit"], (path.name, stage["number"])


@pytest.mark.parametrize("path", LADDERS, ids=lambda p: p.stem)
def test_every_emergency_contact_cites_its_source_and_no_number_is_invented(path):
    """Issue 17, point 11: each service, person or number on the emergency route cites the
    policy's section and words, and a number is given only where those words print it."""
    emergency = yaml.safe_load(path.read_text(encoding="utf-8"))["partnership"]["emergency"]
    contacts = emergency.get("contacts") or []
    assert contacts, f"{path.name}: the emergency route names no one to contact"
    for contact in contacts:
        source = contact.get("source") or {}
        assert str(source.get("policy_section", "")).strip(), (path.name, contact["name"])
        quote = str(source.get("quote", ""))
        assert quote.strip(), (path.name, contact["name"])
        if contact.get("phone"):
            assert str(contact["phone"]) in quote, (path.name, contact["name"])


@pytest.mark.parametrize("path", LADDERS, ids=lambda p: p.stem)
def test_every_pathway_cites_its_section_and_no_step_is_guessed(path):
    """A separate process (ladder.pathways, issue 15 point 11) cites its section and whom to
    contact; until transcribed it has no steps, and every step it has was read from the
    policy's chart (read_from_chart: true)."""
    problems = []
    for i, pathway in enumerate(
        yaml.safe_load(path.read_text(encoding="utf-8"))["ladder"].get("pathways") or []
    ):
        where = f"ladder.pathways[{i}]"
        for basis, at in ((pathway, where), (pathway.get("contact") or {}, f"{where}.contact")):
            if not (
                str(basis.get("policy_section", "")).strip() and str(basis.get("quote", "")).strip()
            ):
                problems.append(at)
        steps = pathway.get("steps") or []
        if pathway.get("transcribed") is not True and steps:
            problems.append(f"{where}.steps (not transcribed)")
        problems += [
            f"{where}.steps[{j}].read_from_chart"
            for j, step in enumerate(steps)
            if step.get("read_from_chart") is not True
        ]
    assert problems == [], f"{path.name}: {problems}"
