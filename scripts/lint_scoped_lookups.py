"""Fails when a view, export, report or task module reaches escalations other than through
Escalation.objects.visible_to(user) (STYLE.md, "Every lookup is scoped").

Unscoped lookups are the commonest multi-tenant leak; services and the model layer may use
the manager directly, the modules that answer people may not.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Modules that answer a person's request or run on their behalf.
GUARDED = re.compile(r"(^|/)(views?|exports?|reports?|dashboards?|api|tasks|record|pdf)(/|\.py$|_)")
UNSCOPED = [
    (
        # for_partnership_figures is the other user-scoped entry point (aggregates only).
        re.compile(r"\bEscalation\.objects\.(?!visible_to\b|for_partnership_figures\b)"),
        "Escalation.objects.<not visible_to>",
    ),
    (re.compile(r"\bEscalation\._default_manager\b"), "Escalation._default_manager"),
    (re.compile(r"get_object_or_404\(\s*Escalation\b"), "get_object_or_404(Escalation, ...)"),
    (re.compile(r"get_list_or_404\(\s*Escalation\b"), "get_list_or_404(Escalation, ...)"),
]
ALLOW = "# scoped-lookup: allowed"


def offending_lines(path: Path) -> list[str]:
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if ALLOW in line:
            continue
        for pattern, label in UNSCOPED:
            if pattern.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {label}: {line.strip()}")
    return found


def main() -> int:
    problems = []
    for app in ("cases", "escalations", "policies", "audit", "people", "escalation_portal"):
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or not GUARDED.search(relative):
                continue
            problems.extend(offending_lines(path))
    if problems:
        print("Unscoped escalation lookups (use Escalation.objects.visible_to(user)):")
        print("\n".join(problems))
        return 1
    print("Scoped lookups: every view, export and task reaches escalations through visible_to.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
