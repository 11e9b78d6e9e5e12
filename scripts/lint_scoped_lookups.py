"""Run by `make lint` and `make test`: fails when a module outside the trusted layers reaches
an escalation, or a record about one, past its scoped entry point (scoped_lookup_guard)."""

import sys

from scoped_lookup_guard import check_project


def main() -> int:
    problems = check_project()
    if problems:
        print("Unscoped lookups (use Escalation.objects.visible_to(user), or say why):")
        print("\n".join(str(p) for p in problems))
        return 1
    print(
        "Scoped lookups: outside the trusted layers, escalations and their records are reached "
        "only through their scoped entry points."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
