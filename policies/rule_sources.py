"""Where each rule of a ladder file comes from (ADR 0019, SCHEMA.md "Where each rule comes
from"): the rules of a stage, the partnership and the ladder that must cite the policy's
section and words or be marked the partnership's local choice, and the emergency route's
contacts, each with its source. Read by policies.loading, whose checker (`check`) names the file
and field of any problem."""

from __future__ import annotations

import re
from typing import Any

from policies.models import AGENCY_ROLES, LimitSource

RULE_SOURCES = ("policy", "local")

# The rules of a stage that must say where they come from (SCHEMA.md "Where each rule comes
# from"), and the condition under which the stage states the rule at all.
STAGE_RULES = {
    "who": lambda s: True,
    "time_limit": lambda s: s["time_limit_source"] != LimitSource.NONE,
    "moved_by": lambda s: bool(s["moved_by"]),
    "told": lambda s: s["brings_in_partnership"],
    "sent": lambda s: s["record_required"],
    "approval": lambda s: s["approval_required"],
    "reached_directly": lambda s: s["reached_directly"],
    "guidance": lambda s: bool(s["guidance"]),
}
PARTNERSHIP_RULES = {
    "emergency": lambda p: True,
    "start_at_any_stage": lambda p: p["start_at_any_stage"],
    "parents_and_carers": lambda p: bool(p["parents_and_carers"]),
    "allegations": lambda p: True,
    "outcomes_from_stage": lambda p: p["outcomes_from_stage"] is not None,
    "learning_to_partnership": lambda p: p["learning_to_partnership"],
    "policy_gaps_to_partnership": lambda p: p["policy_gaps_to_partnership"],
    "child_file_record": lambda p: p["child_file_record"],
    "child_file_at_each_stage": lambda p: p["child_file_at_each_stage"],
    "child_file_reminders": lambda p: p["child_file_reminder_every"] > 0,
    "outcomes_on_request": lambda p: bool(p["outcomes_on_request_stages"]),
}
LADDER_RULES = {
    "effective_date": lambda lad: lad["effective_date"] is not None,
    "review_date": lambda lad: lad["review_date"] is not None,
}


def parse_basis(check: Any, value: Any, where: str) -> dict:
    """Where one rule comes from: `{policy_section, quote}` (the policy states it, in these
    words) or `{local_choice: {by, reason}}` (the partnership chose it; the page says "This is
    <partnership>'s local practice")."""
    data = check.mapping(value, where)
    if "local_choice" in data:
        if "policy_section" in data or "quote" in data:
            check.fail(where, "give either policy_section and quote, or local_choice, not both")
        choice = check.mapping(data["local_choice"], f"{where}.local_choice")
        return {
            "local_choice": {
                "by": check.text(choice, "by", f"{where}.local_choice"),
                "reason": check.text(choice, "reason", f"{where}.local_choice"),
            }
        }
    if "policy_section" not in data:
        check.fail(
            where,
            "must say where the rule comes from: policy_section with the policy's quote, or "
            "local_choice with by and reason",
        )
    return {
        "policy_section": check.text(data, "policy_section", where),
        "quote": check.text(data, "quote", where),
    }


def parse_rules(check: Any, value: Any, where: str, stated: dict, wanted: dict) -> dict:
    """The `rules` mapping of a stage, the partnership or the ladder: one basis for each rule
    the file states (`wanted[name](stated)` is true), none for a rule it does not state."""
    data = check.mapping(value if value is not None else {}, f"{where}.rules")
    for name in data:
        if name not in wanted:
            check.fail(f"{where}.rules.{name}", f"unknown rule (one of {', '.join(wanted)})")
    rules = {}
    for name, applies in wanted.items():
        if not applies(stated):
            if name in data:
                check.fail(f"{where}.rules.{name}", "the file does not state this rule")
            continue
        if name not in data:
            check.fail(
                f"{where}.rules.{name}",
                "is required: every rule carries its policy_section and quote, or local_choice",
            )
        rules[name] = parse_basis(check, data[name], f"{where}.rules.{name}")
    return rules


AGENCY_ROLE_VALUES = {role.value for role in AGENCY_ROLES}


NUMBER_FROM = {"childrens_social_care"}


def parse_contact(check: Any, value: Any, where: str) -> dict:
    """One contact of the emergency route, as the policy gives it, with its source: a number the
    policy prints (`phone`), the people in the raiser's own agency it names by role
    (`in_your_agency`), or a service it names without a number (`number_from:
    childrens_social_care`: the number is the one the partnership's administrators keep for its
    children's social care, and the page says plainly when none is kept). No number is invented
    here: a contact with none of the three says the policy gives no number."""
    contact = check.mapping(value, where)
    phone = contact.get("phone")
    if phone is not None and not re.fullmatch(r"[0-9 +]{3,20}", str(phone)):
        check.fail(f"{where}.phone", "must be digits and spaces")
    roles = contact.get("in_your_agency") or []
    if not isinstance(roles, list) or any(r not in AGENCY_ROLE_VALUES for r in roles):
        check.fail(
            f"{where}.in_your_agency",
            f"must be a list of agency roles ({', '.join(sorted(AGENCY_ROLE_VALUES))})",
        )
    number_from = contact.get("number_from") or ""
    if number_from and number_from not in NUMBER_FROM:
        check.fail(f"{where}.number_from", f"must be one of {', '.join(sorted(NUMBER_FROM))}")
    if "source" not in contact:
        check.fail(f"{where}.source", "is required: the policy_section and quote that give it")
    return {
        "name": check.text(contact, "name", where),
        "phone": str(phone or "").strip(),
        "in_your_agency": list(roles),
        "number_from": number_from,
        "source": parse_basis(check, contact["source"], f"{where}.source"),
    }
