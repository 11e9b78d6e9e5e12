"""The documentation stands alone: a fresh clone has everything it points at."""

import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
LADDERS = sorted((ROOT / "policies" / "ladders").glob("*.yaml"))
# Written in two pieces so this file does not match itself.
OUTSIDE = re.compile(r"(\.\./" + r"shared|/work" + r"/|/shared" + r"/)")


def tracked_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    return [ROOT / name.decode() for name in names if name]


def test_no_file_points_at_a_path_outside_the_repository():
    found = []
    for path in tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_every_ladder_file_cites_its_policy_in_docs():
    policies = (ROOT / "docs" / "policies.md").read_text(encoding="utf-8")
    for path in LADDERS:
        slug = yaml.safe_load(path.read_text(encoding="utf-8"))["partnership"]["slug"]
        assert f"## {slug.replace('-', ' ').title().replace(' ', '-')}" in policies, slug
        assert f"docs/policies.md#{slug}" in path.read_text(encoding="utf-8"), path.name
        assert f"`policies/ladders/{path.name}`" in policies, path.name


def test_the_product_description_names_every_stage_of_every_ladder():
    product = (ROOT / "docs" / "product.md").read_text(encoding="utf-8")
    for path in LADDERS:
        for stage in yaml.safe_load(path.read_text(encoding="utf-8"))["ladder"]["stages"]:
            assert stage["name"] in product, f"{path.name}: stage {stage['number']} {stage['name']}"
