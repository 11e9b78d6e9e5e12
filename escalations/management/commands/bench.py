"""Measure the pages a business manager uses through the whole Django stack (middleware,
sessions, templates), against a plain page with no data, at a given number of escalations.

    python manage.py bench --escalations 100000 [--json]

Speed targets are checked by reading these figures, never by timed test assertions."""

from __future__ import annotations

import io
import json
import math
import statistics
import time

from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import Resolver404, resolve

from cases.demo import seed_people
from cases.models import Membership
from escalations.demo import seed_escalations
from escalations.models import Escalation, State
from policies.models import Partnership, Role


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def sign_in(client: Client, user) -> None:
    """Signed in as after the real sign-in, with a verified second factor where the portal asks
    for one. Only demo people: the benchmark gives them an authenticator device."""
    if not user.email.endswith("@demo.invalid"):
        raise CommandError("The benchmark signs in only as a demo person.")
    client.force_login(user)
    try:
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice
    except ImportError:  # no second factor in this build
        return
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Benchmark", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


class Command(BaseCommand):
    help = "Seed N escalations if fewer exist, then time the dashboard, list, escalation page and a baseline page."

    def add_arguments(self, parser):
        parser.add_argument("--escalations", type=int, default=100_000)
        parser.add_argument(
            "--requests", type=int, default=30, help="timed requests per page (30 or more)"
        )
        parser.add_argument("--json", action="store_true", help="print one line of JSON")
        parser.add_argument(
            "--partnership", default="", help="slug (default: the one with most escalations)"
        )

    def handle(self, *args, **options):
        if options["requests"] < 30:
            raise CommandError("Use at least 30 requests per page.")
        self.say = (lambda *a: None) if options["json"] else self.stdout.write
        n = options["escalations"]
        self.seed(n)
        partnership = self.partnership(options["partnership"])
        manager = (
            Membership.objects.filter(partnership=partnership, role=Role.BUSINESS_MANAGER)
            .select_related("person__user")
            .first()
        )
        if manager is None:
            raise CommandError(f"{partnership.name} has no business manager to sign in as.")
        user = manager.person.user
        client = Client()
        sign_in(client, user)
        slug = partnership.slug
        notes = []
        detail = self.detail_url(user, notes)
        pages = {
            "dashboard": f"/partnerships/{slug}/dashboard/",
            "list": f"/partnerships/{slug}/escalations/",
            "detail": detail,
            "baseline": "/bench/baseline/",
        }
        # The test client's host must be allowed; everything else is the real configuration.
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            results = self.measure(client, pages, options["requests"], notes)
        report = {
            "n": Escalation.objects.count(),
            "partnership": slug,
            "pages": results,
            "sweep_seconds": self.time_sweep(notes),
            "record_pdf_seconds": self.time_record(user, notes),
            "database": connection.vendor,
            "notes": notes,
        }
        if options["json"]:
            self.stdout.write(json.dumps(report))
        else:
            self.print_report(report)

    def seed(self, n: int) -> None:
        if Escalation.objects.count() >= n:
            return
        if not Partnership.objects.exists():
            call_command("load_policies", stdout=io.StringIO())
        started = time.monotonic()
        seed_people()
        made = seed_escalations(n)
        self.say(f"Seeded {made} escalations in {time.monotonic() - started:.0f} s.")
        if connection.vendor == "postgresql":
            # After a bulk load, as autovacuum would: fresh statistics and visibility map.
            # VACUUM cannot run inside a transaction (as under the tests); ANALYZE can.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")

    def partnership(self, slug: str) -> Partnership:
        if slug:
            return Partnership.objects.get(slug=slug)
        found = (
            Partnership.objects.filter(memberships__role=Role.BUSINESS_MANAGER)
            .annotate(
                n=Count("escalations", filter=~Q(escalations__state=State.DRAFT), distinct=True)
            )
            .order_by("-n", "slug")
            .first()
        )
        if found is None:
            raise CommandError("No partnership has a business manager: run seed_demo first.")
        return found

    def detail_url(self, user, notes: list[str]) -> str | None:
        escalation = (
            Escalation.objects.visible_to(user)
            .exclude(reference=None)
            .order_by("-raised_on")
            .first()
        )
        if escalation is None:
            notes.append("detail: no escalation visible to the business manager")
            return None
        url = f"/escalations/{escalation.reference}/"
        try:
            resolve(url)
        except Resolver404:
            notes.append("detail: /escalations/<reference>/ is not routed in this build")
            return None
        return url

    def measure(
        self, client: Client, pages: dict[str, str | None], requests: int, notes: list[str]
    ) -> dict[str, dict | None]:
        """Per page: queries on a first (cold) and a repeated request, then timed requests
        taken in turns across the pages, so that load from elsewhere on the machine falls on
        every page alike."""
        results: dict[str, dict | None] = {}
        for name, url in pages.items():
            results[name] = self.count_queries(client, url, notes) if url else None
        timings: dict[str, list[float]] = {name: [] for name, r in results.items() if r}
        for _ in range(requests):
            for name in timings:
                started = time.perf_counter()
                client.get(pages[name], secure=True)
                timings[name].append((time.perf_counter() - started) * 1000)
        for name, values in timings.items():
            results[name].update(
                median_ms=round(statistics.median(values), 1),
                p95_ms=round(p95(values), 1),
                requests=len(values),
            )
        return results

    def count_queries(self, client: Client, url: str, notes: list[str]) -> dict | None:
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, secure=True)
            first_ms = (time.perf_counter() - started) * 1000
        # Counted at once: the next request clears the connection's query log.
        first_count = len(queries)
        if response.status_code != 200:
            notes.append(f"{url} answered {response.status_code}")
            return None
        with CaptureQueriesContext(connection) as repeat:
            client.get(url, secure=True)
        return {
            "queries": max(first_count, len(repeat)),
            "queries_repeat": len(repeat),
            "first_ms": round(first_ms, 1),
        }

    def time_sweep(self, notes: list[str]) -> float | None:
        try:
            from escalations.deadlines import sweep
        except ImportError:
            notes.append("sweep: escalations.deadlines.sweep is not in this build")
            return None
        started = time.perf_counter()
        sweep()
        return round(time.perf_counter() - started, 2)

    def time_record(self, user, notes: list[str]) -> float | None:
        try:
            from escalations.record import render_record_pdf
        except ImportError:
            try:
                from escalations.record.render import render_record_pdf
            except ImportError:
                notes.append("record: render_record_pdf is not in this build")
                return None
        escalation = (
            Escalation.objects.visible_to(user).filter(partnership_sees_record=True).first()
        )
        if escalation is None:
            notes.append("record: no escalation at a record stage")
            return None
        started = time.perf_counter()
        render_record_pdf(escalation)
        return round(time.perf_counter() - started, 2)

    def print_report(self, report: dict) -> None:
        self.stdout.write(
            f"{report['n']:,} escalations on {report['database']}; signed in as the business "
            f"manager of {report['partnership']}."
        )
        self.stdout.write(
            f"{'page':<10} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'first ms':>9}"
        )
        for name, r in report["pages"].items():
            if r is None:
                self.stdout.write(f"{name:<10} {'n/a':>10}")
                continue
            self.stdout.write(
                f"{name:<10} {r['median_ms']:>10} {r['p95_ms']:>8} {r['queries']:>8} {r['first_ms']:>9}"
            )
        self.stdout.write(f"deadline sweep: {report['sweep_seconds']} s")
        self.stdout.write(f"record PDF: {report['record_pdf_seconds']} s")
        for note in report["notes"]:
            self.stdout.write(f"note: {note}")
