"""Separate processes a policy gives beside its ladder (ladder.pathways in a ladder file): the
Kirklees protocol's Appendix 4, the Child Death Overview Escalation Process, is one (issue 15,
point 11). The text we hold gives it only as a flow chart image, so its steps are not known:
the file declares it with its title, section and whom to contact, `transcribed: false` and no
steps, and the pages say the process exists and whom to ask. Steps are added only once read
from the chart itself, each marked `read_from_chart: true`; nothing is invented meanwhile."""

from __future__ import annotations

from typing import Any


def parse_pathways(check: Any, value: Any) -> list[dict]:
    """ladder.pathways (optional): [] where the file has none. `check` is the loader's
    checker (policies.loading), which names the file and field of any problem."""
    if value is None:
        return []
    if not isinstance(value, list):
        check.fail("ladder.pathways", "must be a list")
    return [_pathway(check, raw, f"ladder.pathways[{i}]") for i, raw in enumerate(value)]


def _pathway(check: Any, raw: Any, where: str) -> dict:
    data = check.mapping(raw, where)
    transcribed = check.boolean(data, "transcribed", where)
    steps = data.get("steps") or []
    if not isinstance(steps, list):
        check.fail(f"{where}.steps", "must be a list")
    if transcribed and not steps:
        check.fail(f"{where}.steps", "a transcribed pathway needs its steps")
    if steps and not transcribed:
        check.fail(
            f"{where}.steps",
            "must be empty until the pathway is transcribed (transcribed: true); never guessed",
        )
    parsed = []
    for j, step in enumerate(steps):
        at = f"{where}.steps[{j}]"
        step = check.mapping(step, at)
        if step.get("read_from_chart") is not True:
            check.fail(
                f"{at}.read_from_chart",
                "must be true: each step says it was read from the policy's chart",
            )
        parsed.append({"name": check.text(step, "name", at), "read_from_chart": True})
    contact = check.mapping(data.get("contact"), f"{where}.contact")
    return {
        "title": check.text(data, "title", where),
        "policy_section": check.text(data, "policy_section", where),
        "quote": check.text(data, "quote", where),
        # How the policy gives it ("a flow chart image"), and what is awaited while it is not
        # transcribed; shown on the policies page.
        "given_as": check.text(data, "given_as", where),
        "awaiting": check.text(data, "awaiting", where, required=not transcribed),
        "transcribed": transcribed,
        "contact": {
            "name": check.text(contact, "name", f"{where}.contact"),
            "policy_section": check.text(contact, "policy_section", f"{where}.contact"),
            "quote": check.text(contact, "quote", f"{where}.contact"),
        },
        "steps": parsed,
    }


def in_words(pathway: dict) -> str:
    """The policies page's line for a pathway."""
    if pathway.get("transcribed"):
        return f"{len(pathway['steps'])} steps, each read from {pathway['given_as']}"
    return f"given only as {pathway['given_as']}; not yet transcribed — {pathway['awaiting']}"
