"""docs/policies.md, generated from the ladder files so the two cannot drift (issue 15): per
partnership, the policy document and every rule the file states, with the policy's section
and words or the partnership's local choice. `python manage.py write_policies_doc` writes it;
tests/policies/test_policy_doc.py fails when the committed file differs."""

from __future__ import annotations

from pathlib import Path

import yaml

from policies import pathways
from policies.loading import LADDER_DIR, ladder_files

DOC = Path(__file__).resolve().parent.parent / "docs" / "policies.md"

INTRO = """\
# The partnerships' escalation policies

<!-- Generated from policies/ladders/*.yaml by `python manage.py write_policies_doc`: edit the
ladder files, not this page. -->

The portal runs each partnership's own escalation policy. Every ladder file in
`policies/ladders/` is built from one of the five documents cited below, and every rule in a
ladder file (who acts, who may move it there, who is told, what is sent, time limits and what
they measure, approvals, guidance) either quotes the policy it comes from or is marked as the
partnership's local choice, with who chose it and why. The policy texts themselves are the
partnerships' documents and are not part of this repository. Where one of them gives no
date, version or web address, this page says so; nothing here is guessed.

What the portal does with these policies is described in [product.md](product.md).
"""

PARTNERSHIP_RULES = {
    "emergency": "Immediate risk",
    "start_at_any_stage": "May start past stage 1 when a child is at immediate risk",
    "parents_and_carers": "Parents and carers",
    "allegations": "Concerns about a person's conduct",
    "outcomes_from_stage": "Outcomes sent to the partnership",
    "learning_to_partnership": "Learning sent to the partnership",
    "policy_gaps_to_partnership": "Gaps in policy sent to the partnership",
    "child_file_record": "Each agency records it on its own file for the child",
    "child_file_at_each_stage": "Each agency confirms it at every stage, not only at the end",
    "child_file_reminders": "Agencies that have not confirmed are reminded",
    "outcomes_on_request": "The partnership may ask agencies for outcomes",
}
LADDER_RULES = {"effective_date": "Effective date", "review_date": "Review date"}
STAGE_RULES = {
    "guidance": "What the policy says",
    "who": "Who acts",
    "moved_by": "Who may move it to this stage",
    "time_limit": "Time limit",
    "approval": "Approval",
    "reached_directly": "Reached directly from any stage",
    "told": "Who is told",
    "sent": "What is sent",
}


def heading(slug: str) -> str:
    return slug.replace("-", " ").title().replace(" ", "-")


def _one_line(text) -> str:
    return " ".join(str(text).split())


def _basis(basis: dict) -> str:
    choice = basis.get("local_choice")
    if choice:
        return f"Local practice, chosen by {_one_line(choice['by'])}: {_one_line(choice['reason'])}"
    return f"{_one_line(basis['policy_section'])}: “{_one_line(basis['quote'])}”"


def _limit(limit) -> str:
    if limit in (None, "none"):
        return "No time limit"
    if limit == "local-default" or (
        limit.get("source") == "local-default" and "value" not in limit
    ):
        words = "The partnership's default"
    else:
        unit = "working day" if limit["unit"] == "working_days" else "hour"
        words = f"{limit['value']} {unit}{'s' if limit['value'] != 1 else ''}"
    measures = limit.get("measures") if isinstance(limit, dict) else ""
    return f"{words}: {measures}" if measures else words


def _stage_value(stage: dict, rule: str) -> str:
    if rule == "guidance":
        return _one_line(stage["guidance"])
    if rule == "who":
        return _one_line(stage["who"])
    if rule == "moved_by":
        return "Only " + " or ".join(r.replace("_", " ") for r in stage["moved_by"])
    if rule == "time_limit":
        return _limit(stage.get("time_limit"))
    if rule == "approval":
        return "The raising agency's safeguarding lead or line manager agrees first"
    if rule == "reached_directly":
        return "Yes, with the reason recorded"
    if rule == "told":
        return "The partnership is brought in"
    return "The Professional Difference Escalation Record"


def _partnership_value(p: dict, rule: str) -> str:
    if rule == "emergency":
        return _one_line(p["emergency"]["summary"])
    if rule == "start_at_any_stage":
        return "Yes"
    if rule == "outcomes_from_stage":
        return f"From stage {p['outcomes_from_stage']}"
    if rule == "outcomes_on_request":
        return "Of escalations at stages " + " and ".join(str(n) for n in p[rule]["stages"])
    if rule == "child_file_reminders":
        every = p[rule]
        return f"Every {every['every_working_days']} working days, at most {every['at_most']} times"
    if rule in (
        "learning_to_partnership",
        "policy_gaps_to_partnership",
        "child_file_record",
        "child_file_at_each_stage",
    ):
        return "Yes"
    return _one_line(p[rule])


def _emergency_contacts(contacts: list[dict]) -> list[str]:
    """Each contact of the emergency route, what the page gives for it, and its source."""
    lines = []
    for contact in contacts:
        if contact.get("phone"):
            gives = contact["phone"]
        elif contact.get("in_your_agency"):
            gives = (
                "the raiser's own "
                + " / ".join(r.replace("_", " ") for r in contact["in_your_agency"])
                + ", by name"
            )
        elif contact.get("number_from"):
            gives = (
                "no number in the policy: the number the partnership keeps for its children's"
                " social care, or a plain statement that none is set"
            )
        else:
            gives = "no number in the policy"
        lines.append(f"  - Contact: {_one_line(contact['name'])}: {gives}")
        lines.append(f"    - Source: {_basis(contact['source'])}")
    return lines


def section(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    p, ladder = data["partnership"], data["ladder"]
    lines = [f"## {heading(p['slug'])}", "", ladder.get("about", "").strip(), ""]
    lines += ["### Rules and where they come from", ""]
    for rule, label in PARTNERSHIP_RULES.items():
        basis = (p.get("rules") or {}).get(rule)
        if basis:
            lines.append(f"- **{label}:** {_partnership_value(p, rule)}")
            lines.append(f"  - Source: {_basis(basis)}")
            if rule == "emergency":
                lines += _emergency_contacts(p["emergency"].get("contacts") or [])
    for rule, label in LADDER_RULES.items():
        basis = (ladder.get("rules") or {}).get(rule)
        if basis:
            lines.append(f"- **{label}:** {ladder[rule]}")
            lines.append(f"  - Source: {_basis(basis)}")
    if not ladder.get("effective_date"):
        lines.append("- **Effective date:** none stated by the policy.")
    for pathway in ladder.get("pathways") or []:
        lines.append(f"- **Separate process: {pathway['title']}:** {pathways.in_words(pathway)}")
        lines.append(f"  - Source: {_basis({k: pathway[k] for k in ('policy_section', 'quote')})}")
        contact = pathway["contact"]
        lines.append(f"  - Contact: {contact['name']}")
        lines.append(f"  - Source: {_basis({k: contact[k] for k in ('policy_section', 'quote')})}")
    lines.append("")
    for stage in ladder["stages"]:
        after = " (after resolution)" if stage.get("after_resolution") else ""
        lines += [f"#### Stage {stage['number']}: {stage['name']}{after}", ""]
        for rule, label in STAGE_RULES.items():
            basis = (stage.get("rules") or {}).get(rule)
            if basis:
                lines.append(f"- **{label}:** {_stage_value(stage, rule)}")
                lines.append(f"  - Source: {_basis(basis)}")
        lines.append("")
    return lines


def _table(paths: list[Path]) -> list[str]:
    rows = [
        "| partnership | policy | date stated | ladder file |",
        "| --- | --- | --- | --- |",
    ]
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        slug = data["partnership"]["slug"]
        ladder = data["ladder"]
        stated = ladder.get("effective_date") or "none stated"
        rows.append(
            f"| [{heading(slug)}](#{slug}) | {ladder['source']} | {stated} | "
            f"`policies/ladders/{path.name}` |"
        )
    return rows


def render(directory: Path = LADDER_DIR) -> str:
    paths = ladder_files(directory)
    lines = [INTRO, *_table(paths), ""]
    for path in paths:
        lines += section(path)
    return "\n".join(lines).rstrip() + "\n"
