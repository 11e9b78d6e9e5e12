"""Loading ladder files: idempotent, versioned, all or nothing, and data rather than code."""

import shutil
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from cases.models import Sector
from escalations import services
from escalations.models import Escalation
from policies.loading import LADDER_DIR
from policies.models import ClosureDay, Ladder, Partnership, Stage
from tests.factories import AgencyFactory, OpenEscalationFactory, climb
from tests.personas import make_person


def load(directory: Path | None = None) -> str:
    out = StringIO()
    args = ["--dir", str(directory)] if directory else []
    call_command("load_policies", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Everything loading may touch, to prove a refused load changed nothing."""
    return {
        "partnerships": sorted(
            Partnership.objects.values_list(
                "slug", "name", "reference_prefix", "emergency_summary", "default_time_limit_value"
            )
        ),
        "ladders": sorted(
            Ladder.objects.values_list("partnership__slug", "version", "content_hash")
        ),
        "stages": Stage.objects.count(),
        "closure_days": ClosureDay.objects.count(),
    }


@pytest.fixture
def ladder_copy(tmp_path) -> Path:
    folder = tmp_path / "ladders"
    shutil.copytree(LADDER_DIR, folder)
    return folder


def edit(folder: Path, slug: str, change) -> None:
    path = folder / f"{slug}.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_loading_twice_changes_nothing(db):
    first = load()
    before = snapshot()
    second = load()
    assert snapshot() == before
    assert "ladder v1 (new version)" in first
    assert second.count("(unchanged)") == 5
    assert Ladder.objects.count() == 5


def test_a_changed_file_makes_a_new_version_and_open_escalations_stay_on_theirs(world, ladder_copy):
    old_ladder = world.kirklees.current_ladder
    esc = OpenEscalationFactory()
    assert esc.ladder == old_ladder

    def stage_one_three_days(data):
        data["ladder"]["stages"][0]["time_limit"].update(value=3)
        data["ladder"]["stages"][2]["time_limit"].update(value=2)

    edit(ladder_copy, "kirklees", stage_one_three_days)
    output = load(ladder_copy)
    assert "kirklees: ladder v2 (new version)" in output
    assert "berkshire: ladder v1 (unchanged)" in output
    new_ladder = Partnership.objects.get(slug="kirklees").current_ladder
    assert new_ladder.version == 2
    assert new_ladder.stages.get(number=1).time_limit()["value"] == 3

    # The open escalation keeps its ladder and its stages' limits as it moves on.
    esc.refresh_from_db()
    assert esc.ladder == old_ladder and esc.stage.ladder == old_ladder
    esc = climb(esc, 3)
    assert esc.stage.ladder == old_ladder and esc.stage.number == 3
    # Stage 3 on v1 has 5 working days, not v2's 2: due five working days after today.
    started = esc.stage_started_at
    due_date = world.kirklees.calendar().add_working_days(timezone.localdate(started), 5)
    assert timezone.localtime(esc.due_at).date() == due_date

    # A new challenge starts on the new version.
    fresh = OpenEscalationFactory()
    assert fresh.ladder == new_ladder
    assert fresh.due_at.date() == date(2026, 11, 5)  # 3 working days after Mon 2 Nov


def wrong_unit(data):
    data["ladder"]["stages"][1]["time_limit"] = {"value": 5, "unit": "days"}


def unknown_role(data):
    data["ladder"]["stages"][2]["acting_roles"] = ["line_manager", "headteacher"]


def out_of_order(data):
    stages = data["ladder"]["stages"]
    stages[0]["number"], stages[1]["number"] = 2, 1


def missing_name(data):
    del data["ladder"]["stages"][3]["name"]


def bad_phone(data):
    data["partnership"]["emergency"]["contacts"][0]["phone"] = "call 01484"


def missing_prefix(data):
    del data["partnership"]["reference_prefix"]


def zero_limit(data):
    data["ladder"]["stages"][0]["time_limit"].update(value=0)


def unsourced_rule(data):
    del data["ladder"]["stages"][4]["rules"]["sent"]


def quote_without_section(data):
    data["ladder"]["stages"][1]["rules"]["approval"] = {"quote": "to agree and record"}


def both_policy_and_local(data):
    data["ladder"]["stages"][0]["rules"]["who"]["local_choice"] = {"by": "X", "reason": "Y"}


def local_choice_without_reason(data):
    data["ladder"]["stages"][0]["rules"]["who"] = {"local_choice": {"by": "Kirklees"}}


def rule_for_nothing(data):
    data["ladder"]["stages"][0]["rules"]["approval"] = {"policy_section": "S", "quote": "Q"}


def clock_without_measure(data):
    del data["ladder"]["stages"][2]["time_limit"]["measures"]


def partnership_rule_unsourced(data):
    del data["partnership"]["rules"]["emergency"]


def reminders_unsourced(data):
    del data["partnership"]["rules"]["child_file_reminders"]


def reminders_without_interval(data):
    data["partnership"]["child_file_reminders"] = {"at_most": 3}


def each_stage_without_the_file(data):
    data["partnership"]["child_file_record"] = False
    del data["partnership"]["rules"]["child_file_record"]


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (wrong_unit, "ladder.stages[1].time_limit.unit", "must be working_days or hours"),
        (unknown_role, "ladder.stages[2].acting_roles", "unknown role 'headteacher'"),
        (out_of_order, "ladder.stages[0].number", "must be 1"),
        (missing_name, "ladder.stages[3].name", "is required"),
        (bad_phone, "partnership.emergency.contacts[0].phone", "digits and spaces"),
        (missing_prefix, "partnership.reference_prefix", "is required"),
        (zero_limit, "ladder.stages[0].time_limit.value", "at least 1"),
        (unsourced_rule, "ladder.stages[4].rules.sent", "policy_section and quote, or local"),
        (quote_without_section, "ladder.stages[1].rules.approval", "must say where the rule"),
        (both_policy_and_local, "ladder.stages[0].rules.who", "not both"),
        (local_choice_without_reason, "ladder.stages[0].rules.who.local_choice.reason", "required"),
        (rule_for_nothing, "ladder.stages[0].rules.approval", "does not state this rule"),
        (clock_without_measure, "ladder.stages[2].time_limit.measures", "what the clock measures"),
        (partnership_rule_unsourced, "partnership.rules.emergency", "is required"),
        (reminders_unsourced, "partnership.rules.child_file_reminders", "is required"),
        (
            reminders_without_interval,
            "partnership.child_file_reminders.every_working_days",
            "at least 1",
        ),
        (each_stage_without_the_file, "partnership.child_file_record", "must be true"),
    ],
)
def test_a_bad_file_names_the_file_and_field_and_changes_nothing(
    db, ladder_copy, change, field, problem
):
    load()
    before = snapshot()
    # A good change in another file must not land either: all or nothing.
    edit(ladder_copy, "playgroup", lambda d: d["ladder"].update(source="A new title"))
    edit(ladder_copy, "kirklees", change)
    with pytest.raises(CommandError) as refused:
        load(ladder_copy)
    message = str(refused.value)
    assert "kirklees.yaml" in message
    assert field in message
    assert problem in message
    assert snapshot() == before


def test_invalid_yaml_is_refused_with_the_file_named_and_nothing_loaded(db, ladder_copy):
    (ladder_copy / "berkshire.yaml").write_text("partnership:\n  slug: [berkshire\n")
    with pytest.raises(CommandError, match=r"berkshire\.yaml: not valid YAML"):
        load(ladder_copy)
    assert not Partnership.objects.exists()
    assert not Ladder.objects.exists()


def test_a_file_whose_slug_is_not_its_name_is_refused(db, ladder_copy):
    edit(ladder_copy, "lincolnshire", lambda d: d["partnership"].update(slug="lincs"))
    with pytest.raises(CommandError, match=r"lincolnshire\.yaml: partnership\.slug"):
        load(ladder_copy)
    assert not Partnership.objects.exists()


def test_a_sixth_partnership_is_just_a_new_file(db, ladder_copy):
    data = yaml.safe_load((ladder_copy / "lincolnshire.yaml").read_text())
    data["partnership"].update(
        slug="northwold", reference_prefix="NWD", name="Northwold Safeguarding Partnership"
    )
    (ladder_copy / "northwold.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    output = load(ladder_copy)
    assert "northwold: ladder v1 (new version)" in output

    out = StringIO()
    call_command("describe_policy", "northwold", "--json", stdout=out)
    assert '"name": "Northwold Safeguarding Partnership"' in out.getvalue()

    northwold = Partnership.objects.get(slug="northwold")
    school = AgencyFactory(name="Northwold School", partnerships=[northwold])
    csc = AgencyFactory(
        name="Northwold CSC", sector=Sector.CHILDRENS_SOCIAL_CARE, partnerships=[northwold]
    )
    teacher = make_person("nia", "Nia North", (school, "practitioner"))
    esc = OpenEscalationFactory(
        by=teacher,
        child=services.ChildDetails(home_partnership=northwold, given_names="Wren"),
        receiving_agency=csc,
        receiving_person=None,
        natures=["information_sharing"],
        details="Invented details.",
        outcome_sought="Invented outcome.",
        interim_safety="Invented safety plan.",
        initial_discussion_on=date.today() - timedelta(days=1),
    )
    assert esc.reference.startswith("NWD-")
    assert Escalation.objects.filter(partnership=northwold).count() == 1


def test_two_files_with_one_prefix_are_refused(db, ladder_copy):
    edit(ladder_copy, "playgroup", lambda d: d["partnership"].update(reference_prefix="KIR"))
    with pytest.raises(CommandError, match="reference_prefix"):
        load(ladder_copy)
    assert not Partnership.objects.exists()
