"""Who manages an agency's case-system tokens: the agency's safeguarding lead, and the
administrators of every partnership the agency belongs to (issue 20). Everyone else gets the
missing page."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cases.models import Agency
from policies.models import Role


def manageable_agencies(person) -> QuerySet[Agency]:
    if person is None:
        return Agency.objects.none()
    leads = person.agency_ids({Role.SAFEGUARDING_LEAD})
    admins = {
        m.partnership_id
        for m in person.memberships.all()
        if m.partnership_id and m.role == Role.PARTNERSHIP_ADMIN
    }
    if not leads and not admins:
        return Agency.objects.none()
    return Agency.objects.filter(Q(pk__in=leads) | Q(partnerships__in=admins)).distinct()
