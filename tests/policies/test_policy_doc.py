"""docs/policies.md is generated from the ladder files, so the two cannot drift (issue 15)."""

from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from policies.loading import LADDER_DIR
from policies.policy_doc import DOC, render


def test_the_committed_policies_page_is_the_generated_one():
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/policies.md differs from the ladder files: run python manage.py write_policies_doc"
    )


def test_every_quote_and_local_choice_of_every_ladder_file_is_on_the_page():
    page = " ".join(DOC.read_text(encoding="utf-8").split())
    for path in sorted(LADDER_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        holders = [data["partnership"], data["ladder"], *data["ladder"]["stages"]]
        for holder in holders:
            for name, basis in (holder.get("rules") or {}).items():
                words = basis.get("quote") or basis["local_choice"]["reason"]
                assert " ".join(words.split()) in page, (path.name, name)


def test_the_check_command_fails_on_a_stale_page(tmp_path, monkeypatch):
    stale = tmp_path / "policies.md"
    stale.write_text("# Out of date\n", encoding="utf-8")
    monkeypatch.setattr("policies.management.commands.write_policies_doc.DOC", stale)
    with pytest.raises(CommandError, match="differs from the ladder files"):
        call_command("write_policies_doc", "--check", stdout=StringIO())
