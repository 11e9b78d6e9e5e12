"""Benchmark of the case-system API through the whole Django stack (test client, real
middleware, token authentication, throttling, audit): on the database in DATABASE_URL, already
migrated and seeded (`manage.py seed_demo --escalations N`), the agency party to the most
escalations gets a token, and each endpoint is timed.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python scripts/bench_api.py [--requests 30]

Prints, per endpoint, the median and 95th percentile in milliseconds and the queries of one
request. The token is revoked at the end; its audit entries stay (the log is append-only)."""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "escalation_portal.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from api import tokens
    from cases.models import Agency, Membership
    from policies.models import Role

    settings.ALLOWED_HOSTS = ["*"]
    settings.SECURE_SSL_REDIRECT = False
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"case_system": "100000/min", "address": "100000/min"},
    }
    agency = (
        Agency.objects.annotate(
            n=Count("raised_escalations", distinct=True)
            + Count("received_escalations", distinct=True)
        )
        .order_by("-n")
        .first()
    )
    lead = Membership.objects.filter(agency=agency, role=Role.SAFEGUARDING_LEAD).first().person
    token, secret = tokens.issue(agency, "Benchmark", lead)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    reference = (
        agency.received_escalations.exclude(reference=None).order_by("-pk").first()
        or agency.raised_escalations.exclude(reference=None).order_by("-pk").first()
    ).reference
    client.put(
        f"/api/v1/escalations/{reference}/case-reference/",
        '{"case_reference": "BENCH-1"}',
        content_type="application/json",
    )
    pages = {
        "changes (100 events)": "/api/v1/changes/?after=0&limit=100",
        "escalation": f"/api/v1/escalations/{reference}/",
        "child by case reference": "/api/v1/children/BENCH-1/escalations/",
        "record PDF": f"/api/v1/escalations/{reference}/record.pdf",
    }
    print(f"{agency.name}: party to {agency.n} escalations; {args.requests} requests each")
    print(f"{'endpoint':<26} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    try:
        for name, path in pages.items():
            captured: list[str] = []

            def count(execute, sql, params, many, context, captured=captured):
                captured.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(count):
                assert client.get(path).status_code == 200, path
            times = []
            for _ in range(args.requests if "PDF" not in name else max(5, args.requests // 6)):
                start = time.perf_counter()
                client.get(path)
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            print(f"{name:<26} {statistics.median(times):>10.1f} {p95:>8.1f} {len(captured):>8}")
    finally:
        tokens.revoke(token, lead)


if __name__ == "__main__":
    main()
