"""Who to escalate to: people of the partnership's agencies, and the policies' own tables."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cases.models import Agency, Membership
from escalations.views.common import current_person, paginate
from policies.models import AGENCY_ROLES, DirectoryEntry, Partnership, Role


class DirectorySearchForm(forms.Form):
    q = forms.CharField(label="Name or job title", required=False, max_length=100)
    agency = forms.TypedChoiceField(
        label="Agency",
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": "Select an agency from the list"},
    )
    role = forms.ChoiceField(
        label="Role",
        required=False,
        choices=[("", "Any role")] + [(r.value, r.label) for r in Role if r in AGENCY_ROLES],
        error_messages={"invalid_choice": "Select a role from the list"},
    )

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [("", "Any agency")] + [(a.pk, a.name) for a in agencies]


@login_required
def directory(request: HttpRequest) -> HttpResponse:
    person = current_person(request)
    partnership_ids = person.partnership_ids() | set(
        Partnership.objects.filter(agencies__in=person.agency_ids()).values_list("pk", flat=True)
    )
    agencies = list(
        Agency.objects.filter(partnerships__in=partnership_ids).distinct().order_by("name")
    )
    memberships = (
        Membership.objects.filter(agency__in=[a.pk for a in agencies], person__user__is_active=True)
        .select_related("person", "agency")
        .order_by("agency__name", "person__full_name", "id")
    )
    entries = DirectoryEntry.objects.filter(partnership__in=partnership_ids).select_related(
        "partnership"
    )
    form = DirectorySearchForm(request.GET or None, agencies=agencies)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            memberships = memberships.filter(
                Q(person__full_name__icontains=data["q"]) | Q(job_title__icontains=data["q"])
            )
            entries = entries.filter(
                Q(agency_name__icontains=data["q"]) | Q(job_title__icontains=data["q"])
            )
        if data["agency"]:
            memberships = memberships.filter(agency=data["agency"])
        if data["role"]:
            memberships = memberships.filter(role=data["role"])
    elif form.is_bound:
        memberships = memberships.none()
    page = paginate(request, memberships, size=50)
    filters = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(
        request,
        "escalations/directory.html",
        {
            "form": form,
            "page": page,
            "entries": list(entries),
            # Who to phone or email about safeguarding at each agency, where the partnership's
            # administrators have recorded it.
            "contacts": [
                a
                for a in agencies
                if a.safeguarding_contact_name
                or a.safeguarding_contact_phone
                or a.safeguarding_contact_email
            ],
            "query": urlencode(filters) + "&" if filters else "",
        },
    )
