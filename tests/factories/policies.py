"""Partnerships as the product has them: loaded, with their ladders, from the data files."""

from __future__ import annotations

import factory

from policies.loading import load_ladders
from policies.models import Partnership


class PartnershipFactory(factory.Factory):
    """A partnership with its current ladder, loaded from policies/ladders/ (ADR 0003) on first
    use: PartnershipFactory(slug="berkshire"). A partnership without a ladder file cannot raise
    anything, so there is no other kind to make."""

    class Meta:
        model = Partnership

    slug = "kirklees"

    @classmethod
    def _create(cls, model_class, slug: str) -> Partnership:
        found = model_class.objects.filter(slug=slug).first()
        if found is None:
            load_ladders()
            found = model_class.objects.filter(slug=slug).first()
        if found is None:
            raise LookupError(f"No ladder file in policies/ladders/ defines {slug!r}.")
        return found

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise TypeError("A partnership comes from its ladder file: use PartnershipFactory().")
