"""Ladder data files: read, validate, load. A bad file names its field and changes nothing."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from policies.models import (
    ClosureDay,
    DirectoryEntry,
    Ladder,
    LimitSource,
    Partnership,
    Role,
    Stage,
    TimeUnit,
)
from policies.pathways import parse_pathways
from policies.rule_sources import (
    AGENCY_ROLE_VALUES,
    LADDER_RULES,
    PARTNERSHIP_RULES,
    RULE_SOURCES,
    STAGE_RULES,
    parse_contact,
    parse_rules,
)

LADDER_DIR = Path(__file__).resolve().parent / "ladders"
DIRECTORY_DIR = Path(__file__).resolve().parent / "directory"
ROLES = {role.value for role in Role}
FLAGS = (
    "brings_in_partnership",
    "record_required",
    "approval_required",
    "after_resolution",
    "reached_directly",
)


class LadderFileError(ValueError):
    """A ladder file is not valid; the message names the file and the field at fault."""


@dataclass
class LoadResult:
    slug: str
    version: int
    created: bool
    # Closure days the file added that the partnership did not have: the caller recalculates
    # the running deadlines they fall inside (escalations.clock; policies knows no escalation).
    closure_days_added: list[date] = field(default_factory=list)


class _Checker:
    def __init__(self, filename: str):
        self.filename = filename

    def fail(self, where: str, problem: str) -> None:
        raise LadderFileError(f"{self.filename}: {where}: {problem}")

    def mapping(self, value: Any, where: str) -> dict:
        if not isinstance(value, dict):
            self.fail(where, "must be a mapping of keys to values")
        return value

    def text(self, data: dict, key: str, where: str, *, required: bool = True) -> str:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(f"{where}.{key}", "is required")
            return ""
        if not isinstance(value, str):
            self.fail(f"{where}.{key}", "must be text")
        return value.strip()

    def boolean(self, data: dict, key: str, where: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.fail(f"{where}.{key}", "must be true or false")
        return value

    def whole(self, value: Any, where: str, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(where, f"must be a whole number of at least {minimum}")
        return value

    def day(self, value: Any, where: str, *, required: bool = True) -> date | None:
        if value is None and not required:
            return None
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(where, "must be a date written YYYY-MM-DD")
        return None

    def roles(self, data: dict, key: str, where: str) -> list[str]:
        value = data.get(key)
        if not isinstance(value, list) or not value:
            self.fail(f"{where}.{key}", "must be a non-empty list of roles")
        for role in value:
            if role not in ROLES:
                self.fail(
                    f"{where}.{key}", f"unknown role {role!r} (one of {', '.join(sorted(ROLES))})"
                )
        return list(value)

    def time_limit(self, value: Any, where: str) -> dict:
        if value == "local-default" or (
            isinstance(value, dict)
            and value.get("source") == "local-default"
            and "value" not in value
        ):
            return {
                "value": None,
                "unit": TimeUnit.WORKING_DAYS,
                "source": LimitSource.LOCAL_DEFAULT,
                "measures": self.text(value, "measures", where, required=False)
                if isinstance(value, dict)
                else "",
            }
        if value in ("none", None):
            return {
                "value": None,
                "unit": TimeUnit.NONE,
                "source": LimitSource.NONE,
                "measures": "",
            }
        limit = self.mapping(value, where)
        unit = limit.get("unit")
        if unit not in (TimeUnit.WORKING_DAYS, TimeUnit.HOURS):
            self.fail(f"{where}.unit", "must be working_days or hours")
        source = limit.get("source", "policy")
        if source not in (LimitSource.POLICY, LimitSource.LOCAL_DEFAULT):
            self.fail(f"{where}.source", "must be policy or local-default")
        return {
            "value": self.whole(limit.get("value"), f"{where}.value", 1),
            "unit": unit,
            "source": source,
            "measures": self.text(limit, "measures", where, required=False),
        }


def _rule(check: _Checker, data: dict, key: str, where: str, values: str) -> dict:
    """One rule of a conference route: its values and whether the policy states it ("policy")
    or the partnership chose it ("local", shown as such on the page)."""
    rule = check.mapping(data.get(key), f"{where}.{key}")
    listed = rule.get(values)
    if not isinstance(listed, list) or not listed:
        check.fail(f"{where}.{key}.{values}", "must be a non-empty list")
    for value in listed:
        if not isinstance(value, str) or not re.fullmatch(r"[a-z_]+", value):
            check.fail(f"{where}.{key}.{values}", f"{value!r} must be a lowercase name")
        if values == "roles" and value not in AGENCY_ROLE_VALUES:
            check.fail(
                f"{where}.{key}.roles",
                f"unknown agency role {value!r} (one of {', '.join(sorted(AGENCY_ROLE_VALUES))})",
            )
    source = rule.get("source")
    if source not in RULE_SOURCES:
        check.fail(f"{where}.{key}.source", "must be policy or local")
    return {values: list(listed), "source": source}


def parse_conference_concerns(check: _Checker, value: Any) -> dict:
    """ladder.conference_concerns (optional): how the policy escalates an agency's part in a
    child protection conference (Kirklees Appendix 3). {} where the file has none."""
    if value is None:
        return {}
    where = "ladder.conference_concerns"
    data = check.mapping(value, where)
    route = {
        "source": check.text(data, "source", where),
        "guidance": check.text(data, "guidance", where),
        "contact": check.text(data, "contact", where, required=False),
        "recorded_by": _rule(check, data, "recorded_by", where, "sectors"),
        "sent_to": _rule(check, data, "sent_to", where, "roles"),
    }
    if data.get("sent_to_without_lead") is not None:
        route["sent_to_without_lead"] = _rule(check, data, "sent_to_without_lead", where, "roles")
    return route


def parse_ladder_file(path: Path) -> dict:
    """Validate one file into plain data; raises LadderFileError naming the field."""
    check = _Checker(path.name)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise LadderFileError(f"{path.name}: not valid YAML: {exc}") from exc
    root = check.mapping(raw, "file")
    p = check.mapping(root.get("partnership"), "partnership")
    slug = check.text(p, "slug", "partnership")
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug):
        check.fail("partnership.slug", "must be lowercase letters, digits and hyphens")
    if path.stem != slug:
        check.fail("partnership.slug", f"must match the file name ({path.stem})")
    prefix = check.text(p, "reference_prefix", "partnership")
    if not re.fullmatch(r"[A-Z]{2,5}", prefix):
        check.fail("partnership.reference_prefix", "must be 2 to 5 capital letters")
    default = check.time_limit(p.get("default_time_limit"), "partnership.default_time_limit")
    if default["source"] != LimitSource.POLICY:
        check.fail("partnership.default_time_limit", "must give a value and a unit")
    emergency = check.mapping(p.get("emergency"), "partnership.emergency")
    contacts = emergency.get("contacts") or []
    if not isinstance(contacts, list):
        check.fail("partnership.emergency.contacts", "must be a list")
    parsed_contacts = [
        parse_contact(check, c, f"partnership.emergency.contacts[{i}]")
        for i, c in enumerate(contacts)
    ]
    closure_days = [
        check.day(day, f"partnership.closure_days[{i}]")
        for i, day in enumerate(p.get("closure_days") or [])
    ]
    partnership = {
        "slug": slug,
        "name": check.text(p, "name", "partnership"),
        "reference_prefix": prefix,
        "default_time_limit_value": default["value"],
        "default_time_limit_unit": default["unit"],
        "reminder_working_days": check.whole(
            p.get("reminder_working_days", 1), "partnership.reminder_working_days", 0
        ),
        "emergency_summary": check.text(emergency, "summary", "partnership.emergency"),
        "emergency_contacts": parsed_contacts,
        "start_at_any_stage": check.boolean(
            emergency, "start_at_any_stage", "partnership.emergency"
        ),
        "allegations": check.text(p, "allegations", "partnership"),
        "parents_and_carers": check.text(p, "parents_and_carers", "partnership", required=False),
        "parents_and_carers_required": check.boolean(
            p, "parents_and_carers_required", "partnership"
        ),
    }
    partnership["outcomes_from_stage"] = (
        check.whole(p["outcomes_from_stage"], "partnership.outcomes_from_stage", 1)
        if p.get("outcomes_from_stage") is not None
        else None
    )
    for flag in ("learning_to_partnership", "policy_gaps_to_partnership", "child_file_record"):
        partnership[flag] = check.boolean(p, flag, "partnership")
    partnership["child_file_at_each_stage"] = check.boolean(
        p, "child_file_at_each_stage", "partnership"
    )
    asked = p.get("outcomes_on_request")
    asked = check.mapping(asked, "partnership.outcomes_on_request") if asked else {}
    stages = asked.get("stages") if asked else []
    if not isinstance(stages, list) or (asked and not stages):
        check.fail("partnership.outcomes_on_request.stages", "must be a list of stage numbers")
    partnership["outcomes_on_request_stages"] = [
        check.whole(n, f"partnership.outcomes_on_request.stages[{i}]", 1)
        for i, n in enumerate(stages)
    ]
    reminders = p.get("child_file_reminders")
    reminders = check.mapping(reminders, "partnership.child_file_reminders") if reminders else {}
    partnership["child_file_reminder_every"] = (
        check.whole(
            reminders.get("every_working_days"),
            "partnership.child_file_reminders.every_working_days",
            1,
        )
        if reminders
        else 0
    )
    partnership["child_file_reminders_at_most"] = (
        check.whole(reminders.get("at_most"), "partnership.child_file_reminders.at_most", 1)
        if reminders
        else 0
    )
    if (partnership["child_file_at_each_stage"] or reminders) and not partnership[
        "child_file_record"
    ]:
        check.fail(
            "partnership.child_file_record",
            "must be true where child_file_at_each_stage or child_file_reminders is given",
        )
    if partnership["parents_and_carers_required"] and not partnership["parents_and_carers"]:
        check.fail(
            "partnership.parents_and_carers_required",
            "needs partnership.parents_and_carers: the policy's words on telling them",
        )
    partnership["rules"] = parse_rules(
        check, p.get("rules"), "partnership", partnership, PARTNERSHIP_RULES
    )

    ladder = check.mapping(root.get("ladder"), "ladder")
    raw_stages = ladder.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        check.fail("ladder.stages", "must be a non-empty list")
    stages = []
    for i, raw_stage in enumerate(raw_stages):
        where = f"ladder.stages[{i}]"
        s = check.mapping(raw_stage, where)
        number = check.whole(s.get("number"), f"{where}.number", 1)
        if number != i + 1:
            check.fail(
                f"{where}.number", f"must be {i + 1}: stages are numbered 1, 2, 3... in order"
            )
        steps = []
        for j, raw_step in enumerate(s.get("steps") or []):
            step_where = f"{where}.steps[{j}]"
            step = check.mapping(raw_step, step_where)
            limit = check.time_limit(step.get("time_limit"), f"{step_where}.time_limit")
            steps.append(
                {
                    "name": check.text(step, "name", step_where),
                    "time_limit": {
                        "value": limit["value"],
                        "unit": str(limit["unit"]),
                        "source": str(limit["source"]),
                    },
                }
            )
        limit = check.time_limit(s.get("time_limit"), f"{where}.time_limit")
        if limit["source"] != LimitSource.NONE and not limit["measures"]:
            check.fail(
                f"{where}.time_limit.measures",
                "is required: say what the clock measures (for example, the time to raise the "
                "concern with the other agency)",
            )
        stage = {
            "number": number,
            "name": check.text(s, "name", where),
            "who": check.text(s, "who", where),
            "acting_roles": check.roles(s, "acting_roles", where),
            "counterpart_roles": check.roles(s, "counterpart_roles", where),
            "moved_by": check.roles(s, "moved_by", where) if s.get("moved_by") else [],
            "time_limit_value": limit["value"],
            "time_limit_unit": str(limit["unit"]),
            "time_limit_source": str(limit["source"]),
            "clock_measures": limit["measures"],
            "steps": steps,
            "guidance": check.text(s, "guidance", where, required=False),
            **{flag: check.boolean(s, flag, where) for flag in FLAGS},
        }
        stage["rules"] = parse_rules(check, s.get("rules"), where, stage, STAGE_RULES)
        stages.append(stage)
    escalation_stages = [s for s in stages if not s["after_resolution"]]
    if not escalation_stages:
        check.fail("ladder.stages", "must have at least one escalation stage")
    first_after = next((s["number"] for s in stages if s["after_resolution"]), None)
    if first_after is not None and any(s["number"] > first_after for s in escalation_stages):
        check.fail("ladder.stages", "after-resolution steps must come after every escalation stage")
    if escalation_stages[0]["approval_required"]:
        check.fail("ladder.stages[0].approval_required", "the first stage cannot need approval")
    ladder_data = {
        "source_title": check.text(ladder, "source", "ladder"),
        # Only where the policy states one (null otherwise): a guessed date would be shown
        # as the policy's.
        "effective_date": check.day(
            ladder.get("effective_date"), "ladder.effective_date", required=False
        ),
        "review_date": check.day(ladder.get("review_date"), "ladder.review_date", required=False),
        "conference_concerns": parse_conference_concerns(check, ladder.get("conference_concerns")),
        "pathways": parse_pathways(check, ladder.get("pathways")),
    }
    ladder_data["rules"] = parse_rules(
        check, ladder.get("rules"), "ladder", ladder_data, LADDER_RULES
    )
    return {
        "partnership": partnership,
        "closure_days": closure_days,
        "ladder": ladder_data,
        "stages": stages,
    }


def content_hash(data: dict) -> str:
    ladder = dict(data["ladder"])
    if not ladder.get("conference_concerns"):
        # Files without a conference route hash as they did before the key existed.
        ladder.pop("conference_concerns", None)
    if not ladder.get("pathways"):
        ladder.pop("pathways", None)
    ladder_part = {"ladder": ladder, "stages": data["stages"]}
    encoded = json.dumps(ladder_part, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def ladder_files(directory: Path = LADDER_DIR) -> list[Path]:
    return sorted(directory.glob("*.yaml"))


def load_ladders(directory: Path = LADDER_DIR) -> list[LoadResult]:
    """Validate every file first, then load all in one transaction: all or nothing."""
    parsed = [parse_ladder_file(path) for path in ladder_files(directory)]
    prefixes = [data["partnership"]["reference_prefix"] for data in parsed]
    if len(set(prefixes)) != len(prefixes):
        raise LadderFileError("two ladder files use the same partnership.reference_prefix")
    results = []
    with transaction.atomic():
        for data in parsed:
            results.append(_load_one(data))
    return results


def _load_one(data: dict) -> LoadResult:
    fields = data["partnership"]
    partnership, _ = Partnership.objects.update_or_create(slug=fields["slug"], defaults=fields)
    added = []
    for day in data["closure_days"]:
        _, created = ClosureDay.objects.get_or_create(
            partnership=partnership, date=day, defaults={"reason": "From the ladder file"}
        )
        if created:
            added.append(day)
    digest = content_hash(data)
    latest = partnership.ladders.order_by("-version").first()
    if latest is not None and latest.content_hash == digest:
        return LoadResult(partnership.slug, latest.version, created=False, closure_days_added=added)
    ladder = Ladder.objects.create(
        partnership=partnership,
        version=(latest.version + 1) if latest else 1,
        content_hash=digest,
        **data["ladder"],
    )
    Stage.objects.bulk_create(Stage(ladder=ladder, **stage) for stage in data["stages"])
    return LoadResult(partnership.slug, ladder.version, created=True, closure_days_added=added)


def describe(partnership: Partnership) -> dict:
    """The current ladder as plain data (describe_policy --json)."""
    ladder = partnership.current_ladder
    return {
        "partnership": partnership.slug,
        "name": partnership.name,
        "version": ladder.version if ladder else None,
        "source": ladder.source_title if ladder else None,
        "effective_date": (
            ladder.effective_date.isoformat() if ladder and ladder.effective_date else None
        ),
        "rules": ladder.rules if ladder else {},
        "review_date": ladder.review_date.isoformat() if ladder and ladder.review_date else None,
        "conference_concerns": ladder.conference_concerns if ladder else {},
        "pathways": ladder.pathways if ladder else [],
        "emergency": {
            "summary": partnership.emergency_summary,
            "contacts": partnership.emergency_contacts,
            "start_at_any_stage": partnership.start_at_any_stage,
        },
        "parents_and_carers_required": partnership.parents_and_carers_required,
        "partnership_rules": partnership.rules,
        "default_time_limit": {
            "value": partnership.default_time_limit_value,
            "unit": partnership.default_time_limit_unit,
        },
        "stages": [
            {
                "number": stage.number,
                "name": stage.name,
                "who": stage.who,
                "acting_roles": stage.acting_roles,
                "counterpart_roles": stage.counterpart_roles,
                "time_limit": stage.time_limit(partnership),
                "clock_measures": stage.clock_measures,
                "moved_by": stage.moved_by,
                "steps": stage.steps,
                "guidance": stage.guidance,
                "rules": stage.rules,
                **{flag: getattr(stage, flag) for flag in FLAGS},
            }
            for stage in (ladder.stages.all() if ladder else [])
        ],
    }


def load_directory(directory: Path = DIRECTORY_DIR) -> int:
    """Directory tables from policies/directory/<slug>-*.yaml; idempotent. Returns rows added."""
    added = 0
    for path in sorted(directory.glob("*.yaml")):
        partnership = next(
            (p for p in Partnership.objects.all() if path.stem.startswith(f"{p.slug}-")), None
        )
        if partnership is None:
            raise LadderFileError(
                f"{path.name}: the name must start with a loaded partnership's slug"
            )
        rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(rows, list):
            raise LadderFileError(f"{path.name}: must be a list of entries")
        for i, row in enumerate(rows):
            check = _Checker(path.name)
            where = f"[{i}]"
            row = check.mapping(row, where)
            _, created = DirectoryEntry.objects.get_or_create(
                partnership=partnership,
                agency_name=check.text(row, "agency", where),
                role=check.text(row, "role", where, required=False),
                job_title=check.text(row, "job_title", where, required=False),
                defaults={"source": path.name},
            )
            added += created
    return added
