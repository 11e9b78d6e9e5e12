"""The shape of the code holds: no import cycle and the layers of .importlinter (lint-imports),
and no product module over 600 lines (docs/adr/0009-layers-and-import-contracts.md)."""

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from scripts import check_module_size
from scripts.import_contracts import module_cycles

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_no_product_module_is_over_600_lines():
    assert check_module_size.too_long() == []


def test_the_size_check_names_a_module_over_the_limit(tmp_path):
    package = tmp_path / "escalations"
    (package / "migrations").mkdir(parents=True)
    (package / "long.py").write_text("x = 1\n" * 601)
    (package / "short.py").write_text("x = 1\n" * 600)
    (package / "migrations" / "0001_initial.py").write_text("x = 1\n" * 900)
    assert check_module_size.too_long(tmp_path) == [("escalations/long.py", 601)]


def test_a_cycle_through_several_packages_is_found_and_a_chain_is_not():
    graph = grimp.ImportGraph()
    for importer, imported in [
        ("app.views.detail", "app.services.ladder"),
        ("app.services.ladder", "app.clock"),
        ("app.clock", "app.models"),
        ("app.notices.relay", "app.tasks"),
        ("app.tasks", "app.deadlines"),
        ("app.deadlines", "app.services.ladder"),
        ("app.services.ladder", "app.notices.relay"),
    ]:
        graph.add_import(importer=importer, imported=imported)
    assert module_cycles(graph, set(graph.modules)) == [
        ["app.deadlines", "app.notices.relay", "app.services.ladder", "app.tasks"]
    ]
    graph.remove_import(importer="app.tasks", imported="app.deadlines")
    assert module_cycles(graph, set(graph.modules)) == []


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="lint-imports is in the dev extra")
def test_the_import_contracts_are_kept():
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
