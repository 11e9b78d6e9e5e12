"""The escalation page for a person with no unread notices against the same page for the same
person with thousands (issue 18: at most 1.5x), through the whole Django stack (test client,
the portal's middleware and templates, the header's count), on the database in DATABASE_URL,
already migrated and seeded (`manage.py seed_demo --escalations 100000`).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python scripts/bench_notices.py [--requests 50] [--notices 3000]

Two readers who may open exactly the same escalations: the demo safeguarding lead who may
open the most, with their unread notices marked read (none), and a manager of the same agency
given `--notices` unread reminders through the outbox; the page is the escalation they see
with the most events, requested by each in turn (interleaved, so that the rest of the
machine's load falls on both alike). Also timed: the header's count as it is now (the notice
rows alone) and as it was before (joined to visible_to). The notices written stay."""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "escalation_portal.settings")


def timed(fn, n: int) -> tuple[float, float]:
    for _ in range(3):
        fn()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(0.95 * len(times)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--notices", type=int, default=3000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, transaction
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cases.models import Membership
    from escalations.models import Escalation, Notice, NoticeKind, State
    from escalations.notices.summary import visible_notices
    from policies.models import Role

    settings.ALLOWED_HOSTS = ["*"]
    leads = Membership.objects.filter(
        role=Role.SAFEGUARDING_LEAD, person__user__is_active=True
    ).select_related("person__user", "agency")
    counted = []
    for m in leads:
        user = m.person.user
        counted.append((Escalation.objects.visible_to(user).count(), m.person.pk, m))
    _, _, lead = max(counted, key=lambda row: (row[0], -row[1]))
    # A second reader who may open exactly the same: a manager of the same agency.
    other = (
        Membership.objects.filter(
            agency=lead.agency,
            role__in=[Role.SENIOR_MANAGER, Role.LINE_MANAGER],
            person__user__is_active=True,
        )
        .exclude(person=lead.person)
        .select_related("person__user")
        .order_by("role", "pk")
        .first()
    )
    if other is None:
        sys.exit(f"{lead.agency} has no manager to compare with.")
    quiet, busy = lead.person, other.person
    visible = Escalation.objects.visible_to(quiet.user).exclude(state=State.DRAFT)
    reference, events = (
        visible.annotate(n=Count("events")).order_by("-n", "pk").values_list("reference", "n")
    ).first()
    page = f"/escalations/{reference}/"

    def client_for(person) -> Client:
        user = person.user
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or (
            TOTPDevice.objects.create(user=user, name="Benchmark", confirmed=True)
        )
        client = Client()
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    clients = {quiet.pk: client_for(quiet), busy.pk: client_for(busy)}

    def unread(person) -> int:
        return Notice.objects.shown_to(person).filter(read_at__isnull=True).count()

    def count_before(person) -> int:
        return (
            Notice.objects.filter(recipient=person, read_at__isnull=True)
            .filter(visible_notices(person.user))
            .count()
        )

    print(
        f"{connection.vendor}, {Escalation.objects.count()} escalations; page {page} "
        f"({events} events), {visible.count()} escalations visible to both readers"
    )
    Notice.objects.filter(recipient=quiet, read_at__isnull=True).update(read_at=timezone.now())
    missing = args.notices - unread(busy)
    if missing > 0:
        targets = list(visible.order_by("-pk")[:50])
        with transaction.atomic():
            for i in range(missing):
                Notice.objects.write(
                    targets[i % len(targets)], NoticeKind.REMINDER, [busy], occasion=f"bench:{i}"
                )
    times = {quiet.pk: [], busy.pk: []}
    queries = {}
    for round_ in range(args.requests + 3):
        # Interleaved, so that whatever else the machine does falls on both alike.
        for person in (quiet, busy):
            client = clients[person.pk]
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.get(page, secure=True)
                elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code == 200, response.status_code
            queries[person.pk] = len(captured)
            if round_ >= 3:
                times[person.pk].append(elapsed)
    result = {}
    for person in (quiet, busy):
        values = sorted(times[person.pk])
        median = statistics.median(values)
        p95 = values[max(0, int(0.95 * len(values)) - 1)]
        result[person.pk] = (median, p95)
        print(
            f"  {person.user.username:<36} {unread(person):>5} unread: median {median:7.2f} ms"
            f"  p95 {p95:7.2f} ms  {queries[person.pk]} queries"
        )
    (qm, qp), (bm, bp) = result[quiet.pk], result[busy.pk]
    print(f"  ratio, thousands to none: median {bm / qm:.2f}x, p95 {bp / qp:.2f}x")
    now = timed(lambda: unread(busy), args.requests)
    before = timed(lambda: count_before(busy), max(5, args.requests // 5))
    print(f"  the header's count now, for {unread(busy)} unread:  median {now[0]:7.2f} ms")
    print(f"  the same count as before issue 18 (visible_to): median {before[0]:7.2f} ms")


if __name__ == "__main__":
    main()
