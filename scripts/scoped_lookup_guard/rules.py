"""What the guard protects and whom it trusts: the one file to read, or change, when a model,
an entry point or a trusted layer is added."""

from __future__ import annotations

import re
from pathlib import Path

# The repository: scripts/scoped_lookup_guard/rules.py is three levels down.
ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "api",
    "audit",
    "cases",
    "escalation_portal",
    "escalations",
    "people",
    "policies",
    "security",
    "sso",
)
# Packages whose modules define the guarded models.
MODEL_PACKAGES = frozenset({"escalations", "cases", "api"})

# Models with their user-scoped entry points, the only manager methods allowed outside the
# trusted layers.
ENTRY_POINTS: dict[str, frozenset[str]] = {
    # for_partnership_figures: the partnership's own roles, aggregate figures only.
    "Escalation": frozenset({"visible_to", "for_partnership_figures"}),
    "ConferenceReport": frozenset({"visible_to"}),
    "DraftChallenge": frozenset({"owned_by"}),
}
# Records about an escalation (or a child), reached only through an escalation already in hand.
ESCALATION_SCOPED = frozenset(
    {
        "Action",
        "Approval",
        # An agency's own case reference for an escalation (api.models).
        "CaseReference",
        "Child",
        "ConferenceResponse",
        "DueRecord",
        "EscalationNature",
        "Event",
        "Note",
        "Notice",
        "Outcome",
        "Participant",
        "Position",
        "RecordCopy",
        "Response",
        "StageEpisode",
    }
)
GUARDED = ESCALATION_SCOPED | frozenset(ENTRY_POINTS)
# apps.get_model() takes names in any case.
GUARDED_BY_LOWER = {name.lower(): name for name in GUARDED}
# App labels whose models are (almost) all guarded.
GUARDED_APPS = frozenset({"escalations", "record", "cases"})
MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
META_MANAGERS = frozenset({"default_manager", "base_manager", "managers", "managers_map"})
# Relations from unscoped partnerships, agencies, people and children to guarded rows.
REVERSE_RELATIONS = frozenset(
    {
        "children",
        "draft_challenges",
        "escalations",
        "held_escalations",
        "participations",
        "raised_escalations",
        "received_escalations",
    }
)
# ORM calls whose string arguments are field lookups ("escalations__state")...
POSITIONAL_LOOKUPS = frozenset(
    {
        "Avg",
        "Count",
        "defer",
        "distinct",
        "F",
        "FilteredRelation",
        "Max",
        "Min",
        "only",
        "order_by",
        "OuterRef",
        "Prefetch",
        "prefetch_related",
        "select_related",
        "Sum",
        "values",
        "values_list",
    }
)
# ...and those whose keyword names are (filter(escalations__state=...)).
KEYWORD_LOOKUPS = frozenset({"exclude", "filter", "get", "get_or_create", "Q", "update_or_create"})
SQL_CALLS = frozenset(
    {"execute", "executemany", "raw", "RawSQL", "extra", "copy_expert", "copy_from", "copy_to"}
)
GUARDED_TABLE = re.compile(r"\b(escalations_[a-z_]+|record_[a-z_]+|cases_child)\b", re.IGNORECASE)
SHORTCUTS = frozenset({"get_object_or_404", "get_list_or_404"})

# Modules that act for the system, or for a person whose permission they check themselves,
# and so may use the managers directly. Both the flat layout and the packages are named.
TRUSTED_LAYERS: tuple[tuple[str, str], ...] = (
    ("*/migrations/", "migrations run as the database owner, for no one"),
    (
        "*/management/commands/",
        "commands are run by an operator on the server, who holds the database already",
    ),
    ("*/admin.py", "the Django admin answers the portal's operators (staff accounts) only"),
    ("escalations/models.py", "the model layer defines the scoped entry points"),
    ("escalations/models/", "the model layer defines the scoped entry points"),
    ("escalations/conference.py", "the conference concern's models and visible_to"),
    ("escalations/conference/models.py", "the conference concern's models and visible_to"),
    ("escalations/drafts.py", "the raise journey's draft model and owned_by"),
    ("escalations/record/models.py", "the record's models: copies and due records"),
    ("cases/models.py", "the child model, with agencies and people"),
    (
        "escalations/services.py",
        "services act on one escalation that acting_on has locked and authorised",
    ),
    (
        "escalations/services/",
        "services act on one escalation that acting_on has locked and authorised",
    ),
    ("escalations/record/services.py", "freezes the record copies that stage changes mark due"),
    (
        "escalations/conference/services.py",
        "records and answers a conference concern for a person it has checked",
    ),
    ("escalations/record/due.py", "marks a record due, inside the service's transaction"),
    ("escalations/clock.py", "the working-day clock, set by services and the sweep"),
    ("escalations/deadlines.py", "the deadline sweep acts for the system on every live one"),
    ("escalations/notifications.py", "the notice relay sends every unsent notice"),
    ("escalations/notices/relay.py", "the notice relay sends every unsent notice"),
    ("security/retention.py", "the retention sweep anonymises every child past retention"),
    (
        "people/leavers.py",
        "passes on one escalation that the administrator's scoped query listed, locked and re-read",
    ),
)

# A comment that starts with scoped-lookup is an escape, which must name its reason in brackets.
ESCAPE_ATTEMPT = re.compile(r"#\s*scoped-lookup\b")
ESCAPE = re.compile(r"#\s*scoped-lookup:\s*allowed\s*\((?P<reason>.*[A-Za-z].*)\)\s*$")


def trusted_layer(relative: str) -> str | None:
    """The reason a module is trusted, or None when it is guarded."""
    path = f"/{relative}"
    for pattern, reason in TRUSTED_LAYERS:
        # "*/x/" anywhere in the tree, "x/" a package, "x.py" one module; "*/" at any depth.
        anywhere = pattern.startswith("*/")
        fragment = pattern[1:] if anywhere else f"/{pattern}"
        if fragment.endswith("/"):
            hit = fragment in path if anywhere else path.startswith(fragment)
        else:
            hit = path.endswith(fragment) if anywhere else path == fragment
        if hit:
            return reason
    return None
