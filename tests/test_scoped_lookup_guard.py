"""The scoped-lookup guard (scripts/lint_scoped_lookups.py) fed source snippets: every way of
reaching an escalation, or a record about one, past visible_to is flagged outside the trusted
layers; the scoped ways, and the trusted layers, are not."""

import textwrap
from pathlib import Path

import pytest

from scripts import scoped_lookup_guard as guard

VIEW = "escalations/views/example.py"
HEADER = """\
from django.apps import apps
from django.db.models import Exists, OuterRef, Prefetch
from django.shortcuts import get_list_or_404, get_object_or_404

from cases.models import Child
from escalations.models import Action, Escalation, Event, Participant
from policies.models import Partnership
"""


def findings(body: str, path: str = VIEW, header: str = HEADER) -> list:
    return guard.check_source(header + textwrap.dedent(body), path)


def flagged(body: str, path: str = VIEW, header: str = HEADER) -> list[str]:
    return [f.what for f in findings(body, path, header)]


# --- bypass forms the guard must flag --------------------------------------------------------

BYPASSES = {
    "manager get": "Escalation.objects.get(pk=pk)",
    "manager filter": "Escalation.objects.filter(reference=reference)",
    "manager all": "Escalation.objects.all()",
    "manager raw": 'Escalation.objects.raw("SELECT * FROM escalations_escalation")',
    "manager extra": 'Escalation.objects.extra(where=["1=1"])',
    "manager in_bulk": "Escalation.objects.in_bulk([pk])",
    "manager iterator": "Escalation.objects.iterator()",
    "manager select_for_update": "Escalation.objects.select_for_update().get(pk=pk)",
    "manager update": "Escalation.objects.filter(pk=pk).update(overdue=True)",
    "manager create": "Event.objects.create(escalation_id=pk, sequence=1)",
    "visible_to after another method": "Escalation.objects.all().visible_to(user)",
    "aliased model import": """\
        from escalations.models import Escalation as E
        E.objects.get(pk=pk)
    """,
    "module imported": """\
        from escalations import models
        models.Escalation.objects.get(pk=pk)
    """,
    "module imported with an alias": """\
        import escalations.models as em
        em.Escalation.objects.filter(pk=pk)
    """,
    "dotted module path": """\
        import escalations.models
        escalations.models.Escalation.objects.filter(pk=pk)
    """,
    "relative import": """\
        from ..models import Escalation as Esc
        Esc.objects.first()
    """,
    "star import": """\
        from escalations.models import *
        Escalation.objects.first()
    """,
    "manager kept in a variable": """\
        m = Escalation.objects
        m.get(pk=pk)
    """,
    "model kept in a variable": """\
        model = Escalation
        model.objects.get(pk=pk)
    """,
    "model looped over": """\
        for model in (Escalation, Event):
            model.objects.count()
    """,
    "model as a default argument": """\
        def first(model=Escalation):
            return model.objects.first()
    """,
    "_default_manager": "Escalation._default_manager.get(pk=pk)",
    "_base_manager": "Escalation._base_manager.filter(pk=pk)",
    "_meta.default_manager": "Escalation._meta.default_manager.all()",
    "get_object_or_404 on the model": "get_object_or_404(Escalation, pk=pk)",
    "get_list_or_404 on the model": "get_list_or_404(Escalation, child=child)",
    "get_object_or_404 with a queryset from elsewhere": """\
        def detail(request, queryset):
            return get_object_or_404(queryset, pk=1)
    """,
    "get_object_or_404 on a child record": "get_object_or_404(Event, escalation_id=pk)",
    "Event by escalation id": "Event.objects.filter(escalation_id=pk)",
    "Child by primary key": "Child.objects.get(pk=pk)",
    "apps.get_model with app and model": 'apps.get_model("escalations", "Escalation").objects.all()',
    "apps.get_model with a dotted label": 'apps.get_model("escalations.Event")',
    "apps.get_model chosen at run time": "apps.get_model(label, name)",
    "app config get_models": 'apps.get_app_config("escalations").get_models()',
    "apps.all_models": 'apps.all_models["escalations"]',
    "call split over lines by ruff format": """\
        escalation = (
            Escalation.objects.select_related("stage")
            .filter(
                reference=reference,
            )
            .first()
        )
    """,
    "get_object_or_404 split over lines": """\
        escalation = get_object_or_404(
            Escalation,
            reference=reference,
        )
    """,
    "getattr for the manager": 'getattr(Escalation, "objects").get(pk=pk)',
    "getattr with a name chosen at run time": "getattr(Escalation, name).all()",
    "getattr for the model on its module": """\
        from escalations import models
        getattr(models, "Escalation").objects.all()
    """,
    "a queryset made by hand": """\
        from escalations.models import EscalationQuerySet
        EscalationQuerySet(Escalation).filter(pk=pk)
    """,
    "a queryset made by hand for a record": "QuerySet(model=Event).all()",
    "the class of an instance": "type(escalation).objects.get(pk=pk)",
    "__class__ of an instance": "escalation.__class__._default_manager.all()",
    "a queryset's model": "queryset.model.objects.all()",
    "raw SQL on an escalation table": """\
        with connection.cursor() as cursor:
            cursor.execute("SELECT details FROM escalations_escalation WHERE id = %s", [pk])
    """,
    "reverse relation from a person": "person.raised_escalations.all()",
    "reverse relation from a child": "child.escalations.all()",
    "relation lookup from an unscoped model": (
        'Partnership.objects.filter(escalations__state="open")'
    ),
    "relation lookup in values": 'Partnership.objects.values("escalations__details")',
    "a generic view's model": """\
        class EscalationList(ListView):
            model = Escalation
    """,
    "a correlated subquery outside a scoped queryset": """\
        Partnership.objects.annotate(
            taking_part=Exists(Participant.objects.filter(escalation=OuterRef("pk")))
        )
    """,
}


@pytest.mark.parametrize("body", BYPASSES.values(), ids=BYPASSES.keys())
def test_the_guard_flags_every_bypass_form(body):
    found = flagged(body)

    assert found
    assert not any(what.startswith("cannot be parsed") for what in found)


@pytest.mark.parametrize("model", sorted(guard.ESCALATION_SCOPED))
def test_every_record_about_an_escalation_is_guarded_like_the_escalation(model):
    header = f"from escalations.models import {model}\n"

    assert flagged(f"{model}.objects.filter(escalation_id=pk)", header=header)


def test_a_finding_names_its_line_and_what_was_reached():
    [finding] = findings("\n\nEscalation.objects.get(pk=pk)\n")

    assert finding.path == VIEW
    assert finding.line == HEADER.count("\n") + 3
    assert finding.what.startswith("Escalation.objects.get outside the trusted layers")
    assert finding.source == "Escalation.objects.get(pk=pk)"


def test_a_call_split_over_lines_is_flagged_once_at_the_manager():
    body = BYPASSES["call split over lines by ruff format"]

    [finding] = findings(body)

    assert finding.line == HEADER.count("\n") + 2
    assert "Escalation.objects.select_related" in finding.what


# --- the scoped ways through -------------------------------------------------------------------

SCOPED = {
    "visible_to": "Escalation.objects.visible_to(request.user).get(reference=reference)",
    "for_partnership_figures": "Escalation.objects.for_partnership_figures(user, p).count()",
    "none": "Escalation.objects.none()",
    "visible_to split over lines": """\
        escalation = (
            Escalation.objects.visible_to(request.user)
            .with_summary()
            .filter(reference=reference)
            .first()
        )
    """,
    "get_object_or_404 on a visible_to queryset": """\
        get_object_or_404(Escalation.objects.visible_to(request.user), reference=reference)
    """,
    "get_object_or_404 on a wrapped visible_to queryset": """\
        get_object_or_404(with_record(Escalation.objects.visible_to(request.user)), pk=pk)
    """,
    "get_object_or_404 on a visible_to queryset kept in a variable": """\
        def detail(request, reference):
            visible = Escalation.objects.visible_to(request.user)
            return get_object_or_404(visible.select_related("stage"), reference=reference)
    """,
    "get_object_or_404 through a scoped helper in the module": """\
        def visible(request):
            return Escalation.objects.visible_to(request.user)

        def detail(request, pk):
            return get_object_or_404(visible(request), pk=pk)
    """,
    "get_object_or_404 on an unguarded model": "get_object_or_404(Partnership, slug=slug)",
    "get_object_or_404 on an unguarded queryset": """\
        get_object_or_404(Partnership.objects.filter(live=True), slug=slug)
    """,
    "a prefetch of a child record": """\
        Escalation.objects.visible_to(user).prefetch_related(
            Prefetch("actions", queryset=Action.objects.select_related("done_by"))
        )
    """,
    "a correlated subquery inside a scoped queryset": """\
        Escalation.objects.visible_to(request.user).annotate(
            taking_part=Exists(Participant.objects.filter(escalation=OuterRef("pk"), person=p))
        )
    """,
    "relations of an escalation in hand": "escalation.events.all(); escalation.child.given_names",
    "other conference and draft entry points": """\
        from escalations.conference import ConferenceReport
        from escalations.drafts import DraftChallenge
        ConferenceReport.objects.visible_to(user)
        DraftChallenge.objects.owned_by(person).unfinished()
    """,
    "an unguarded model": "Partnership.objects.get(slug=slug)",
    "a name that is not the project's model": """\
        from somewhere.elsewhere import Event as Happening
        Happening.objects.all()
    """,
    "the text in a docstring or comment": '''\
        def f():
            """Never Escalation.objects.get(pk=pk)."""
            # nor get_object_or_404(Escalation, pk=pk)
    ''',
    "a ModelForm's Meta": """\
        class EscalationForm(ModelForm):
            class Meta:
                model = Escalation
    """,
    "a form's own attribute named like a relation": "self.children = children",
}


@pytest.mark.parametrize("body", SCOPED.values(), ids=SCOPED.keys())
def test_the_guard_lets_the_scoped_ways_through(body):
    assert flagged(body) == []


# --- default deny, and the trusted layers ----------------------------------------------------

UNSCOPED = "Escalation.objects.get(pk=pk)\nEvent.objects.filter(escalation_id=pk)\n"


@pytest.mark.parametrize(
    "path",
    [
        "escalations/models.py",
        "escalations/models/escalation.py",
        "escalations/services.py",
        "escalations/services/raising.py",
        "escalations/clock.py",
        "escalations/deadlines.py",
        "escalations/notifications.py",
        "escalations/notices/relay.py",
        "escalations/record/services.py",
        "escalations/conference/services.py",
        "escalations/migrations/0001_initial.py",
        "security/management/commands/subject_access_export.py",
        "security/retention.py",
        "escalations/admin.py",
    ],
)
def test_the_trusted_layers_may_use_the_managers(path):
    assert flagged(UNSCOPED, path=path) == []


@pytest.mark.parametrize(
    "path",
    [
        "escalations/views/detail.py",
        "escalations/notices/views.py",
        "escalations/notifications_views.py",
        "escalations/conference/views.py",
        "escalations/approvals.py",
        "escalations/presenters.py",
        "escalations/tasks.py",
        "escalations/dashboards/queries.py",
        "escalations/record/render.py",
        "security/subject_access.py",
        "audit/views.py",
        "cases/people.py",
        "escalation_portal/urls.py",
        # Not a trusted layer for being named like one.
        "escalations/views/services.py",
        "escalations/deadlines_report.py",
    ],
)
def test_every_other_module_is_guarded(path):
    assert len(flagged(UNSCOPED, path=path)) == 2


def test_every_trusted_layer_says_why():
    for pattern, reason in guard.TRUSTED_LAYERS:
        assert len(reason.split()) >= 4, pattern


# --- escapes --------------------------------------------------------------------------------


def test_an_escape_with_its_reason_excuses_its_line():
    body = "Escalation.objects.get(pk=pk)  # scoped-lookup: allowed (reloads the one in hand)\n"

    assert flagged(body) == []


def test_an_escape_at_the_start_of_a_statement_excuses_the_lines_below():
    body = """\
        latest = (  # scoped-lookup: allowed (correlated to the caller's scoped queryset)
            Event.objects.filter(escalation=OuterRef("pk"))
            .order_by("-sequence")
        )
    """

    assert flagged(body) == []


@pytest.mark.parametrize(
    "escape",
    [
        "# scoped-lookup: allowed",
        "# scoped-lookup: allowed ()",
        "# scoped-lookup: allowed ( )",
        "# scoped-lookup allowed because",
    ],
)
def test_an_escape_without_a_reason_in_brackets_is_an_error(escape):
    found = flagged(f"Escalation.objects.get(pk=pk)  {escape}\n")

    assert "an escape must say why, in brackets: # scoped-lookup: allowed (reason)" in found
    assert any(what.startswith("Escalation.objects.get") for what in found)


def test_a_comment_that_only_mentions_the_guard_is_no_escape():
    assert flagged("x = 1  # the scoped-lookup guard reads this module too\n") == []


def test_an_escape_that_excuses_nothing_is_an_error():
    found = flagged("x = 1  # scoped-lookup: allowed (left over from a removed lookup)\n")

    assert found == ["an escape that excuses nothing: no finding on its statement"]


def test_an_escape_in_a_trusted_layer_is_an_error():
    found = flagged(
        "Escalation.objects.get(pk=pk)  # scoped-lookup: allowed (the sweep)\n",
        path="escalations/deadlines.py",
    )

    assert len(found) == 1
    assert found[0].startswith("an escape that excuses nothing: a trusted layer")


def test_an_escape_on_the_comment_line_above_excuses_the_statement():
    body = """\
        # scoped-lookup: allowed (invented demo data is counted from the console only)
        existing = Escalation.objects.count()
    """

    assert flagged(body) == []


def test_an_escape_excuses_its_own_statement_only():
    body = """\
        first = Escalation.objects.first()  # scoped-lookup: allowed (demo data)
        second = Escalation.objects.last()
        # scoped-lookup: allowed (demo data)

        third = Escalation.objects.last()
    """

    assert flagged(body) == [
        "Escalation.objects.last outside the trusted layers (use for_partnership_figures or visible_to)",
        "an escape that excuses nothing: no finding on its statement",
        "Escalation.objects.last outside the trusted layers (use for_partnership_figures or visible_to)",
    ]


def test_a_module_that_cannot_be_parsed_is_an_error():
    [finding] = findings("def broken(:\n")

    assert finding.what.startswith("cannot be parsed")


# --- the project ----------------------------------------------------------------------------


def _project(tmp_path: Path, files: dict[str, str]) -> list:
    for relative, source in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    for package in guard.PACKAGES:
        (tmp_path / package).mkdir(exist_ok=True)
    return guard.check_project(tmp_path)


def test_a_scoped_helper_in_another_module_is_followed(tmp_path):
    problems = _project(
        tmp_path,
        {
            "escalations/views/common.py": """\
                from escalations.models import Escalation

                def visible_escalations(request):
                    return Escalation.objects.visible_to(request.user)
            """,
            "escalations/views/detail.py": """\
                from django.shortcuts import get_object_or_404
                from escalations.views.common import visible_escalations

                def detail(request, pk):
                    return get_object_or_404(visible_escalations(request), pk=pk)
            """,
        },
    )

    assert problems == []


def test_an_unscoped_queryset_handed_out_by_a_trusted_layer_is_flagged_where_used(tmp_path):
    problems = _project(
        tmp_path,
        {
            "escalations/services.py": """\
                from escalations.models import Escalation

                def everything():
                    return Escalation.objects.all()
            """,
            "escalations/views/detail.py": """\
                from django.shortcuts import get_object_or_404
                from escalations import services

                def detail(request, pk):
                    return get_object_or_404(services.everything(), pk=pk)
            """,
        },
    )

    assert [(p.path, p.line) for p in problems] == [("escalations/views/detail.py", 5)]


def test_the_project_itself_passes_the_guard():
    problems = guard.check_project()

    assert problems == [], "\n".join(str(p) for p in problems)
