"""Every response that shows a child's name writes a read entry in the audit log (SPEC section
3; the ICO asks that consultation be logged, not only change). The walk: every route the URL
resolver knows, with real values, as each persona; wherever a child's name is in the response,
an entry by that person about that escalation was written while answering it (the partnership
lists write one entry per list, naming how many rows identify a child)."""

from __future__ import annotations

import re

import pytest

from audit.models import AuditEntry
from cases.models import Person
from tests.factories import EscalationAtStageFactory, OpenEscalationFactory
from tests.helpers import sign_in
from tests.security.test_route_census import routes
from tests.security.world_matrix import partnership_stage

pytestmark = pytest.mark.django_db

PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")
SKIPPED = ("static/", "admin/", "sign-out/", "account/", "invitation/", "password-reset/")
PARTNERSHIP_LISTS = "/partnerships/"


def paths(escalations) -> list[tuple[str, object]]:
    """(path, the escalation it is about or None) for every GET-able route."""
    found = []
    for route in routes():
        if route.startswith(SKIPPED):
            continue
        names = {m.group(2) for m in PARAMETER.finditer(route)}
        about = escalations if "reference" in names else [None]
        for esc in about:
            real = {
                "reference": esc.reference if esc else "",
                "slug": "kirklees",
                "key": "kirklees",
                "action": "note",
                "version": "1",
                "page": "dashboard",
                "table": "by-stage",
            }
            path = "/" + PARAMETER.sub(lambda m, real=real: real.get(m.group(2), "1"), route)
            if "<slug:action>" in route:
                found += [(path.replace("/note/", f"/{a}/"), esc) for a in ACTIONS]
            else:
                found.append((path, esc))
    return found


# One persona per relationship: raiser, receiving practitioner, each side's lead, a line
# manager, the business manager, the chair, the administrator, a stranger.
WALKERS = ("alice", "erin", "carol", "grace", "frank", "ivan", "judy", "kim", "charlie")
ACTIONS = ("note", "position", "response", "escalate", "resolve", "withdraw", "learning")


def test_every_page_showing_a_childs_name_writes_a_read_entry(world, client):
    escalations = [
        OpenEscalationFactory(child__given_names="Rowan"),
        OpenEscalationFactory(child__given_names="Saffron", receiving_person=None),
        EscalationAtStageFactory(
            stage=partnership_stage(world.kirklees), child__given_names="Tamsin"
        ),
    ]
    names = {esc.pk: esc.child.display_name for esc in escalations}
    walk = paths(escalations)
    shown, missing = 0, []
    for person in Person.objects.select_related("user").filter(user__username__in=WALKERS):
        sign_in(client, person)
        for path, _ in walk:
            before = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            response = client.get(path)
            if response.status_code != 200:
                continue
            content = response.content.decode(errors="replace")
            written = AuditEntry.objects.filter(
                pk__gt=before,
                user=person.user,
                kind__in=[AuditEntry.Kind.READ, AuditEntry.Kind.DOWNLOAD, AuditEntry.Kind.EXPORT],
            )
            for esc in escalations:
                if names[esc.pk] not in content:
                    continue
                shown += 1
                about_it = written.filter(reference=esc.reference).exists()
                a_list = path.startswith(PARTNERSHIP_LISTS) and written.exists()
                if not (about_it or a_list):
                    missing.append(f"{person.user.username} {path}: {names[esc.pk]}")
        client.logout()
    print(f"\nread audit walk: {len(walk)} paths, {shown} responses showing a child")
    assert shown > 50  # the walk reaches the pages that show children
    assert missing == []
