"""Importing people from a file: upload, a preview of every row, then confirmation."""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from people import imports
from people.forms import ImportForm
from people.scope import Can, Refused, Scope
from people.views.common import context, done, scoped

# The checked rows travel from the preview to the confirmation signed, not stored: nothing
# about the people in the file is kept until the administrator confirms.
PREVIEW_MAX_AGE = 60 * 60


def _salt(request: HttpRequest, scope: Scope) -> str:
    return f"people.import:{request.user.pk}:{scope.base}"


def _preview(request, scope, checked: imports.Checked, *, message: str = "") -> HttpResponse:
    errors = [
        (row.number, column, text) for row in checked.with_errors for column, text in row.errors
    ]
    return render(
        request,
        "people/import_preview.html",
        context(
            scope,
            section="import",
            checked=checked,
            errors=errors,
            message=message,
            payload=signing.dumps(checked.payload(), salt=_salt(request, scope), compress=True),
        ),
        status=400 if errors or message else 200,
    )


@scoped(Can.IMPORT)
@require_http_methods(["GET", "POST"])
def import_people(request: HttpRequest, scope: Scope) -> HttpResponse:
    if request.method == "POST" and "payload" in request.POST:
        return _confirm(request, scope)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            filename, table = imports.read(form.cleaned_data["file"])
            rows = imports.rows_of(table)
        except imports.FileRefused as refusal:
            form.add_error("file", str(refusal))
        else:
            return _preview(request, scope, imports.check(filename, rows, scope))
    return render(
        request,
        "people/import.html",
        context(scope, section="import", form=form, columns=imports.EXPORT_HEADER),
        status=400 if form.is_bound else 200,
    )


def _confirm(request: HttpRequest, scope: Scope) -> HttpResponse:
    try:
        payload = signing.loads(
            request.POST["payload"], salt=_salt(request, scope), max_age=PREVIEW_MAX_AGE
        )
        filename, rows = imports.rows_from(payload)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        form = ImportForm(data={}, files={})
        form.is_valid()  # asks for the file again
        form.add_error(None, "The preview has expired or was changed: upload the file again")
        return render(
            request,
            "people/import.html",
            context(scope, section="import", form=form, columns=imports.EXPORT_HEADER),
            status=400,
        )
    # Checked again: the portal may have changed since the preview.
    checked = imports.check(filename, rows, scope)
    valid_only = request.POST.get("rows") == "valid"
    try:
        counts = imports.apply(
            checked, scope=scope, by=scope.by, valid_only=valid_only, request=request
        )
    except Refused as refusal:
        return _preview(request, scope, checked, message=str(refusal))
    summary = ", ".join(f"{what}: {n}" for what, n in counts.items())
    return done(request, f"{filename} imported ({summary}).", f"{scope.base}people/")
