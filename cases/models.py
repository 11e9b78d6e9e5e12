"""Agencies, the people in them and their roles, children, and the directory."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cases import limits
from policies.models import AGENCY_ROLES, PARTNERSHIP_ROLES, Partnership, Role


class Sector(models.TextChoices):
    CHILDRENS_SOCIAL_CARE = "childrens_social_care", "Children's social care"
    EDUCATION = "education", "Education"
    HEALTH = "health", "Health"
    POLICE = "police", "Police"
    EARLY_YEARS = "early_years", "Early years"
    VCF = "vcf", "Voluntary, community and faith"
    PROBATION = "probation", "Probation and youth justice"
    HOUSING = "housing", "Housing"
    OTHER = "other", "Other"


class Agency(models.Model):
    name = models.CharField(max_length=200, unique=True)
    sector = models.CharField(max_length=40, choices=Sector.choices)
    partnerships = models.ManyToManyField(Partnership, related_name="agencies")
    # Who other agencies contact about safeguarding there (a team or a named person), kept by
    # the partnership's administrators (SPEC section 2: "maintains agencies").
    safeguarding_contact_name = models.CharField(max_length=200, blank=True)
    safeguarding_contact_phone = models.CharField(max_length=40, blank=True)
    safeguarding_contact_email = models.EmailField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="person"
    )
    full_name = models.CharField(max_length=200)
    email = models.EmailField()
    # Work phone, shown in the directory and on the emergency route beside the email address
    # (issue 17, point 12); checked as a UK number by cases.phone. Blank where not known.
    phone = models.CharField("work phone", max_length=20, blank=True, default="")
    # Non-urgent notices by email once a day instead of one by one (urgent ones never wait).
    daily_digest = models.BooleanField(default=False)
    # A UK mobile number (07...), only for text messages on immediate-risk alerts when the
    # portal sends through GOV.UK Notify; kept as +447...; never shown in the directory.
    mobile = models.CharField(max_length=13, blank=True)
    # Marked a leaver (people.leavers): the account is deactivated, the person and everything
    # they did stay, under the name they had.
    left_on = models.DateTimeField(null=True, blank=True)
    left_recorded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["full_name"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.full_name

    @property
    def is_active(self) -> bool:
        return self.user.is_active

    def role_set(self) -> frozenset[tuple[str, int]]:
        """(role, agency or partnership id) pairs, cached on the instance."""
        if not hasattr(self, "_role_set"):
            self._role_set = frozenset(
                (m.role, m.agency_id or m.partnership_id) for m in self.memberships.all()
            )
        return self._role_set

    def agency_ids(self, roles: frozenset[str] | set[str] | None = None) -> set[int]:
        return {
            m.agency_id
            for m in self.memberships.all()
            if m.agency_id and (roles is None or m.role in roles)
        }

    def partnership_ids(self, roles: frozenset[str] | set[str] | None = None) -> set[int]:
        return {
            m.partnership_id
            for m in self.memberships.all()
            if m.partnership_id and (roles is None or m.role in roles)
        }

    def has_role(
        self, role: str, *, agency_id: int | None = None, partnership_id: int | None = None
    ) -> bool:
        for m in self.memberships.all():
            if m.role != role:
                continue
            if agency_id is not None and m.agency_id == agency_id:
                return True
            if partnership_id is not None and m.partnership_id == partnership_id:
                return True
        return False

    def primary_membership(self) -> Membership | None:
        memberships = list(self.memberships.all())
        return memberships[0] if memberships else None


class Membership(models.Model):
    """A role a person holds in an agency, or in a partnership for the partnership roles."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    partnership = models.ForeignKey(
        Partnership, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(max_length=30, choices=Role.choices)
    job_title = models.CharField(max_length=200)

    class Meta:
        ordering = ["person", "id"]
        constraints = [
            models.CheckConstraint(
                name="agency_role_has_agency_partnership_role_has_partnership",
                condition=(
                    models.Q(
                        role__in=sorted(r.value for r in AGENCY_ROLES),
                        agency__isnull=False,
                        partnership__isnull=True,
                    )
                    | models.Q(
                        role__in=sorted(r.value for r in PARTNERSHIP_ROLES),
                        agency__isnull=True,
                        partnership__isnull=False,
                    )
                ),
            ),
            models.UniqueConstraint(
                fields=["person", "agency", "partnership", "role"], name="one_membership_per_role"
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "role"]),
            models.Index(fields=["partnership", "role"]),
        ]

    def __str__(self) -> str:
        return f"{self.person} - {self.get_role_display()}, {self.agency or self.partnership}"


class Child(models.Model):
    """The child, unborn child or family group an escalation is about."""

    given_names = models.CharField(max_length=200, blank=True)
    family_name = models.CharField(max_length=200, blank=True)
    is_family_group = models.BooleanField(default=False)
    is_unborn = models.BooleanField(default=False)
    date_of_birth = models.DateField(null=True, blank=True)
    address = models.TextField(blank=True, max_length=limits.ADDRESS)
    home_partnership = models.ForeignKey(
        Partnership, on_delete=models.PROTECT, related_name="children"
    )
    anonymised_on = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "children"
        constraints = [limits.text_limit("address", limits.ADDRESS, prefix="child")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.anonymised_on:
            return "Anonymised"
        name = " ".join(part for part in (self.given_names, self.family_name) if part)
        if self.is_family_group:
            return f"{name} family" if name and "family" not in name.lower() else name or "Family"
        if self.is_unborn:
            # As the policies and the GOV.UK style guide would: the baby first, the mother by
            # her initials alone ("Unborn baby (mother: JS)"), never "Unborn child of ...".
            initials = "".join(part[0].upper() for part in name.split() if part[:1].isalpha())
            return f"Unborn baby (mother: {initials})" if initials else "Unborn baby"
        return name

    @property
    def mother_name(self) -> str:
        """For an unborn baby, the names given (the mother's), shown where the full record is."""
        if not self.is_unborn or self.anonymised_on:
            return ""
        return " ".join(part for part in (self.given_names, self.family_name) if part)
