"""No product module over 600 lines (STYLE.md: past about 400 a module becomes a package named
by concept). Migrations are generated and left out. Run by `make lint`, `make test` and
tests/test_module_layout.py; exits 1 naming each module over the limit."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("escalation_portal", "policies", "cases", "escalations", "audit", "security")
LIMIT = 600


def product_modules(root: Path = ROOT) -> list[Path]:
    return sorted(
        path
        for package in PRODUCT
        for path in (root / package).rglob("*.py")
        if "migrations" not in path.relative_to(root).parts
    )


def too_long(root: Path = ROOT, limit: int = LIMIT) -> list[tuple[str, int]]:
    """(module, lines) for each product module over the limit."""
    found = []
    for path in product_modules(root):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            found.append((str(path.relative_to(root)), lines))
    return found


def main() -> int:
    found = too_long()
    for module, lines in found:
        print(f"{module}: {lines} lines, over the limit of {LIMIT}: split it by concept")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
