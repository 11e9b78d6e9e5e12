"""The scoped-lookup guard: finds each place outside the trusted domain layers that reaches an
escalation, or a record that hangs off one, other than through a user-scoped entry point such
as `Escalation.objects.visible_to(user)` (STYLE.md, "Every lookup is scoped").

Unscoped lookups are the commonest multi-tenant leak. The guard reads each module's syntax tree
(Python's `ast`), so aliases, imported modules, managers kept in variables and calls split over
lines are seen as what they are, not as text.

Default deny: every module of the project is guarded except the short list of trusted layers in
TRUSTED_LAYERS, each with its reason. A line that must reach a guarded model another way says
why, in brackets, on the line, at the start of its statement or on a comment line just above:

    # scoped-lookup: allowed (the reader's own notices, filtered by visible_notices)
    Notice.objects.filter(recipient=person).filter(visible_notices(user))

An escape without a reason, or one that excuses nothing, is itself an error.
"""

from .checks import Finding, ModuleCheck
from .project import check_project, check_source, scoped_functions
from .rules import ENTRY_POINTS, ESCALATION_SCOPED, GUARDED, PACKAGES, TRUSTED_LAYERS, trusted_layer

__all__ = [
    "ENTRY_POINTS",
    "ESCALATION_SCOPED",
    "GUARDED",
    "PACKAGES",
    "TRUSTED_LAYERS",
    "Finding",
    "ModuleCheck",
    "check_project",
    "check_source",
    "scoped_functions",
    "trusted_layer",
]
