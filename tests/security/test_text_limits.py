"""Every free-text box has a maximum (cases.limits), said on the page, refused in the form with
a GOV.UK message that gives the limit, and refused by the database whatever the path."""

from __future__ import annotations

import inspect

import pytest
from django import forms
from django.apps import apps
from django.db import IntegrityError, models, transaction

from cases import limits
from cases.models import Child
from escalations.conference import forms as conference_forms
from escalations.forms import actions as action_forms
from escalations.forms import raise_ as raise_forms
from escalations.models import Escalation, Note
from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in

FORM_MODULES = (action_forms, raise_forms, conference_forms)
INIT = {
    action_forms.ReasonForm: {"label": "Why?", "message": "Enter why"},
    conference_forms.ConferenceConcernForm: {"agencies": []},
}


def free_text_fields():
    """(form class, field name, field) for every textarea of every form people fill in."""
    found = []
    for module in FORM_MODULES:
        for _, form_class in inspect.getmembers(module, inspect.isclass):
            if not issubclass(form_class, forms.Form) or form_class.__module__ != module.__name__:
                continue
            boxes = [
                f for f in form_class.base_fields.values() if isinstance(f.widget, forms.Textarea)
            ]
            if not boxes and form_class is not action_forms.ResolveForm:
                continue  # its questions need a person and a draft; no box to fill
            form = make(form_class)
            for name, field in form.fields.items():
                if isinstance(field.widget, forms.Textarea):
                    found.append((form_class, name, field))
    return found


def make(form_class, data=None):
    kwargs = dict(INIT.get(form_class, {}))
    if issubclass(form_class, raise_forms.Question):
        kwargs |= {"answers": {}, "person": None}
    return form_class(data, **kwargs)


def test_the_forms_cover_every_box_the_issue_named():
    names = {name for _, name, _ in free_text_fields()}
    assert {
        "address",
        "details",
        "outcome_sought",
        "interim_safety",
        "body",
        "summary",
        "learning",
        "policy_gap",
        "reason",
        "comments",
        "declined_reason",
        "action_1_what",
    } <= names


@pytest.mark.django_db
@pytest.mark.parametrize(
    "form_class,name,field",
    free_text_fields(),
    ids=lambda v: v.__name__ if isinstance(v, type) else (v if isinstance(v, str) else ""),
)
def test_every_box_refuses_text_over_its_limit_saying_the_limit(form_class, name, field):
    assert field.max_length in (limits.ACCOUNT, limits.REASON, limits.ADDRESS), name
    over = make(form_class, {name: "x" * (field.max_length + 1)})
    over.is_valid()
    assert over.errors.get(name) == [
        f"{over.errors[name][0].split(' must be ')[0]} must be {field.max_length:,} "
        "characters or fewer"
    ], over.errors.get(name)
    assert not over.errors[name][0][0].islower()
    at_limit = make(form_class, {name: "x" * field.max_length})
    at_limit.is_valid()
    assert name not in at_limit.errors


def text_fields():
    for app in ("cases", "escalations"):
        for model in apps.get_app_config(app).get_models():
            if model._meta.app_label != app:
                continue
            for field in model._meta.fields:
                if (model.__name__, field.name) == ("Event", "reason"):
                    continue  # made of bounded parts; SQLite would drop its triggers otherwise
                if isinstance(field, models.TextField):
                    yield model, field


def test_every_text_column_has_a_maximum_the_database_checks():
    checked = []
    for model, field in text_fields():
        assert field.max_length, f"{model.__name__}.{field.name} has no maximum"
        names = {c.name for c in model._meta.constraints}
        assert any(n.endswith(f"_{field.name}_max_{field.max_length}") for n in names), (
            f"{model.__name__}.{field.name} has no check constraint"
        )
        checked.append(f"{model.__name__}.{field.name}")
    assert "Escalation.details" in checked and "Child.address" in checked
    assert len(checked) >= 17


@pytest.mark.django_db
def test_the_database_refuses_text_over_the_limit_whatever_the_path(world):
    esc = OpenEscalationFactory()
    for model, pk, field, limit in (
        (Escalation, esc.pk, "details", limits.ACCOUNT),
        (Child, esc.child_id, "address", limits.ADDRESS),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            model.objects.filter(pk=pk).update(**{field: "x" * (limit + 1)})
        model.objects.filter(pk=pk).update(**{field: "x" * limit})
    with pytest.raises(IntegrityError), transaction.atomic():
        Note.objects.create(escalation=esc, author=world.alice, body="x" * (limits.ACCOUNT + 1))


@pytest.mark.django_db
def test_the_page_says_the_limit_and_refuses_longer_text_with_nothing_saved(world, client):
    esc = OpenEscalationFactory()
    sign_in(client, world.alice)
    page = client.get(f"/escalations/{esc.reference}/note/")
    assert "You can enter up to 5,000 characters" in page.content.decode()
    response = client.post(
        f"/escalations/{esc.reference}/note/",
        {
            "revision": esc.revision,
            "kind": "note",
            "body": "x" * 200_000,
            "happened_on-day": "2",
            "happened_on-month": "11",
            "happened_on-year": "2026",
        },
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in content
    assert "The note must be 5,000 characters or fewer" in content
    assert not esc.notes.exists()
