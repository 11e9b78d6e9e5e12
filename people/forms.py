"""The administration pages' forms, with GOV.UK's specific error messages."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from cases import phone
from cases.models import Sector
from escalations.fields import DateField
from people.invitations import RoleSpec
from people.scope import Scope
from policies.models import AGENCY_ROLES, Role

PARTNERSHIP = "partnership"


def _text(label: str, what: str, *, required: bool = True, max_length: int = 200, **kwargs):
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        error_messages={
            "required": f"Enter {what}",
            "max_length": f"{what[0].upper()}{what[1:]} must be {max_length} characters or fewer",
        },
        **kwargs,
    )


def _email(label: str = "Email address", **kwargs):
    return forms.EmailField(
        label=label,
        max_length=254,
        error_messages={
            "required": "Enter the email address",
            "invalid": "Enter an email address in the right format, like name@example.org",
            "max_length": "The email address must be 254 characters or fewer",
        },
        **kwargs,
    )


class RoleFields(forms.Form):
    """Where and in which role: one of the scope's agencies (or its partnership, for the
    partnership roles) and a role the scope may give."""

    place = forms.ChoiceField(
        label="Agency",
        error_messages={
            "required": "Select the agency",
            "invalid_choice": "Select an agency from the list",
        },
    )
    role = forms.ChoiceField(
        label="Role",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the role",
            "invalid_choice": "Select a role from the list",
        },
    )
    job_title = _text(
        "Job title (optional)",
        "the job title",
        required=False,
        help_text="For example, Class Teacher. Leave it empty to use the role's name.",
    )

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = scope
        places = [(str(a.pk), a.name) for a in scope.agencies()]
        if scope.partnership_roles():
            places.append((PARTNERSHIP, f"{scope.partnership.name} (the partnership itself)"))
        self.fields["place"].choices = [("", "Select the agency"), *places]
        if len(places) == 1:
            self.fields["place"].initial = places[0][0]
        self.fields["role"].choices = scope.agency_roles() + scope.partnership_roles()

    def clean(self):
        cleaned = super().clean()
        place, role = cleaned.get("place"), cleaned.get("role")
        if not place or not role:
            return cleaned
        if role in AGENCY_ROLES and place == PARTNERSHIP:
            self.add_error("place", f"A {Role(role).label.lower()} belongs to an agency: select it")
        elif role not in AGENCY_ROLES and place != PARTNERSHIP:
            self.add_error(
                "place",
                f"A {Role(role).label.lower()} belongs to the partnership: select "
                f"{self.scope.partnership.name}",
            )
        return cleaned

    def spec(self) -> RoleSpec:
        data = self.cleaned_data
        if data["place"] == PARTNERSHIP:
            return RoleSpec(data["role"], data["job_title"], partnership=self.scope.partnership)
        agency = next(a for a in self.scope.agencies() if str(a.pk) == data["place"])
        return RoleSpec(data["role"], data["job_title"], agency=agency)


class InviteForm(RoleFields):
    full_name = _text("Full name", "their full name")
    email = _email(help_text="The invitation goes here; it is also their username.")

    field_order = ["full_name", "email", "place", "role", "job_title"]


class TelInput(forms.TextInput):
    input_type = "tel"


class WorkPhoneField(forms.CharField):
    """A UK telephone number (cases.phone), optional; kept in its usual spacing."""

    def __init__(self, label: str = "Work phone (optional)", **kwargs):
        super().__init__(
            label=label,
            required=False,
            max_length=40,
            error_messages={"max_length": phone.MESSAGE},
            help_text="For example, 01632 960 001 or 07700 900 982",
            widget=TelInput,
            **kwargs,
        )

    def clean(self, value):
        return phone.normalise(super().clean(value))


class PersonForm(forms.Form):
    full_name = _text("Full name", "their full name")
    email = _email()
    phone = WorkPhoneField()


class MyWorkPhoneForm(forms.Form):
    phone = WorkPhoneField()


class AgencyForm(forms.Form):
    name = _text("Name", "the agency's name")
    sector = forms.ChoiceField(
        label="Sector",
        choices=[("", "Select the sector"), *Sector.choices],
        error_messages={
            "required": "Select the sector",
            "invalid_choice": "Select a sector from the list",
        },
    )
    safeguarding_contact_name = _text(
        "Safeguarding contact (optional)",
        "the safeguarding contact",
        required=False,
        help_text="The team or person other agencies contact about safeguarding there.",
    )
    safeguarding_contact_phone = WorkPhoneField("Phone (optional)")
    safeguarding_contact_email = _email("Email (optional)", required=False)


class ClosureDayForm(forms.Form):
    day = DateField(
        label="Date",
        what="the date",
        not_past=True,
        help_text="For example, 27 12 2027",
    )
    reason = _text("Reason (optional)", "the reason", required=False)


class DirectoryEntryForm(forms.Form):
    agency_name = _text("Agency", "the agency")
    role = _text("Role", "the role", help_text="For example, Senior Liaison Officer")
    job_title = _text("Job title (optional)", "the job title", required=False)


class PeopleFilterForm(forms.Form):
    q = forms.CharField(label="Name or email", required=False, max_length=100)
    agency = forms.ChoiceField(
        label="Agency",
        required=False,
        error_messages={"invalid_choice": "Select an agency from the list"},
    )
    role = forms.ChoiceField(
        label="Role",
        required=False,
        error_messages={"invalid_choice": "Select a role from the list"},
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Everyone"), ("active", "Active"), ("left", "Left")],
        error_messages={"invalid_choice": "Select a status from the list"},
    )

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        places = [(str(a.pk), a.name) for a in scope.agencies()]
        if scope.partnership_ids:
            places.append((PARTNERSHIP, scope.partnership.name))
        self.fields["agency"].choices = [("", "Any agency"), *places]
        self.fields["role"].choices = [("", "Any role")] + [(r.value, r.label) for r in Role]


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Upload a file",
        help_text="A CSV file or an Excel workbook (.xlsx), smaller than 5 MB.",
        error_messages={
            "required": "Select a CSV or Excel file",
            "empty": "The selected file is empty",
            "invalid": "Select a CSV or Excel file",
        },
    )


class AcceptForm(forms.Form):
    """The invitee's password, checked by the portal's password validators."""

    password = forms.CharField(
        label="Create a password",
        strip=False,
        widget=forms.PasswordInput,
        help_text="At least 12 characters. A few words strung together are easy to remember.",
        error_messages={"required": "Enter a password"},
    )
    password_again = forms.CharField(
        label="Type the password again",
        strip=False,
        widget=forms.PasswordInput,
        error_messages={"required": "Type the password again"},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        try:
            password_validation.validate_password(password, self.user)
        except ValidationError as exc:
            raise ValidationError(list(exc.messages)) from exc
        return password

    def clean(self):
        cleaned = super().clean()
        first, again = cleaned.get("password"), cleaned.get("password_again")
        if first and again is not None and first != again:
            self.add_error("password_again", "The passwords do not match")
        return cleaned


def handover_form(items, data=None) -> forms.Form:
    """One choice per part to pass on: someone in the same agency and role, or not yet."""
    form = forms.Form(data)
    for item in items:
        form.fields[item.key] = forms.ChoiceField(
            label=f"Pass to (they {item.parts_in_words()})",
            required=False,
            choices=[("", "Not yet")] + [(str(p.pk), p.full_name) for p in item.candidates],
            error_messages={"invalid_choice": "Select someone from the list"},
        )
        item.field = form[item.key]
    return form
