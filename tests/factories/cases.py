"""Agencies, people with their roles, and children (the cases app)."""

from __future__ import annotations

from datetime import date

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from cases.models import Agency, Child, Membership, Person, Sector
from policies.models import Partnership, Role
from tests.factories.policies import PartnershipFactory

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.invalid")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # As the portal makes accounts: a hashed password, through the manager.
        return model_class.objects.create_user(*args, password=PASSWORD, **kwargs)


class AgencyFactory(DjangoModelFactory):
    """An agency of the given partnerships (Kirklees unless told): AgencyFactory(
    name="Meadow School", sector=Sector.EDUCATION, partnerships=[kirklees, berkshire])."""

    class Meta:
        model = Agency
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Invented Agency {n}")
    sector = Sector.EDUCATION

    @factory.post_generation
    def partnerships(agency, create, extracted, **kwargs):
        if create:
            agency.partnerships.set(extracted if extracted is not None else [PartnershipFactory()])


class PersonFactory(DjangoModelFactory):
    """A person with a sign-in and, given roles, their memberships: PersonFactory(
    user__username="carol", full_name="Carol Cole",
    roles=[(school, Role.SAFEGUARDING_LEAD, "Designated Safeguarding Lead")]). A role is
    (agency or partnership, role[, job title])."""

    class Meta:
        model = Person
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    full_name = factory.Sequence(lambda n: f"Invented Person {n}")
    email = factory.LazyAttribute(lambda p: p.user.email)

    @factory.post_generation
    def roles(person, create, extracted, **kwargs):
        for where, role, *title in extracted or ():
            MembershipFactory(
                person=person,
                role=role,
                where=where,
                job_title=title[0] if title else Role(role).label,
            )


class MembershipFactory(DjangoModelFactory):
    """One role of a person, in an agency or (for partnership roles) a partnership: give it as
    where=."""

    class Meta:
        model = Membership
        exclude = ("where",)

    person = factory.SubFactory(PersonFactory)
    role = Role.PRACTITIONER
    where = factory.SubFactory(AgencyFactory)
    agency = factory.LazyAttribute(lambda m: None if isinstance(m.where, Partnership) else m.where)
    partnership = factory.LazyAttribute(
        lambda m: m.where if isinstance(m.where, Partnership) else None
    )
    job_title = factory.LazyAttribute(lambda m: Role(m.role).label)


class ChildFactory(DjangoModelFactory):
    """Poppy Testwell, a Kirklees child (invented, as every child here)."""

    class Meta:
        model = Child

    given_names = "Poppy"
    family_name = "Testwell"
    date_of_birth = date(2019, 4, 2)
    address = "1 Invented Row, Nowhere"
    home_partnership = factory.SubFactory(PartnershipFactory)
