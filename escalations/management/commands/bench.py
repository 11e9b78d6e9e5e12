"""Measure the pages people use through the whole Django stack (middleware, sessions,
templates), against a signed-in plain page with no data (the baseline), at a given number of
escalations, in one run:

- the deadline sweep first (timed), then the dashboards' figures refreshed (timed), so every
  page is timed as users meet it after a sweep;
- a business manager's dashboard computed (every cache emptied before each request) and as
  cached, and the partnership's list;
- three people of the same agency and role (its safeguarding lead) who differ only by their
  unread notices, none, one and thousands (the benchmark makes them and their notices): the
  home page, the agency's list, the notifications page and an escalation page each;
- the busiest escalation (most events) for the person with thousands of notices.

Each page: median and 95th percentile ms, both as a ratio to the baseline's, and its queries.

    python manage.py bench --escalations 100000 [--notices 3000] [--json]

Speed targets are checked by reading these figures, never by timed test assertions."""

from __future__ import annotations

import io
import json
import math
import statistics
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import Resolver404, resolve
from django.utils import timezone

from cases.demo import seed_people
from cases.models import Membership, Person
from escalations.dashboards import materialise
from escalations.demo import seed_escalations
from escalations.models import Escalation, Notice, NoticeKind, State
from policies.models import Partnership, Role

# The unread notices of the three benchmark people.
NOTICED = {"none": 0, "one": 1}
NOTICE_KINDS = [
    NoticeKind.RAISED,
    NoticeKind.ESCALATED,
    NoticeKind.REMINDER,
    NoticeKind.OVERDUE,
    NoticeKind.RESPONSE,
]


def empty_caches() -> None:
    for alias in settings.CACHES:
        caches[alias].clear()


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
    help = (
        "Seed N escalations if fewer exist, sweep, refresh the figures, then time the "
        "dashboards, lists and escalation pages against a baseline page, for people with no, "
        "one and thousands of unread notices."
    )

    def add_arguments(self, parser):
        parser.add_argument("--escalations", type=int, default=100_000)
        parser.add_argument(
            "--requests", type=int, default=30, help="timed requests per page (30 or more)"
        )
        parser.add_argument(
            "--notices", type=int, default=3000, help="unread notices of the busiest reader"
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
        notes: list[str] = []
        # As users meet the pages: after a sweep, with the figures beat would have refreshed.
        sweep_seconds = self.time_sweep(notes)
        started = time.perf_counter()
        refreshed = materialise.refresh_all()
        refresh_seconds = round(time.perf_counter() - started, 2)
        partnership = self.partnership(options["partnership"])
        manager = (
            Membership.objects.filter(partnership=partnership, role=Role.BUSINESS_MANAGER)
            .select_related("person__user")
            .first()
        )
        if manager is None:
            raise CommandError(f"{partnership.name} has no business manager to sign in as.")
        slug = partnership.slug
        boss = self.client_for(manager.person.user)
        pages: dict[str, tuple] = {
            "baseline": (boss, "/bench/baseline/", False),
            "dashboard computed": (boss, f"/partnerships/{slug}/dashboard/", True),
            "dashboard cached": (boss, f"/partnerships/{slug}/dashboard/", False),
            "partnership list": (boss, f"/partnerships/{slug}/escalations/", False),
        }
        readers = self.readers(partnership, options["notices"], notes)
        unread = {}
        if readers:
            many = readers["thousands"]
            typical = self.escalation_url(many.user, "-raised_on", notes)
            busiest = self.escalation_url(many.user, "-event_count", notes)
            for label, person in readers.items():
                client = self.client_for(person.user)
                unread[label] = Notice.objects.filter(recipient=person, read_at=None).count()
                pages[f"home ({label})"] = (client, "/", False)
                pages[f"agency list ({label})"] = (client, "/agency/escalations/", False)
                pages[f"notifications ({label})"] = (client, "/notifications/", False)
                if typical:
                    pages[f"escalation ({label})"] = (client, typical, False)
            if busiest:
                pages["busiest escalation (thousands)"] = (
                    self.client_for(many.user),
                    busiest,
                    False,
                )
        # The test client's host must be allowed; everything else is the real configuration.
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            results = self.measure(pages, options["requests"], notes)
        base = results.get("baseline")
        for r in results.values():
            if r and base:
                r["x_median"] = round(r["median_ms"] / base["median_ms"], 1)
                r["x_p95"] = round(r["p95_ms"] / base["p95_ms"], 1)
        report = {
            "n": Escalation.objects.count(),
            "partnership": slug,
            "pages": results,
            "unread_notices": unread,
            "sweep_seconds": sweep_seconds,
            "figures_refresh_seconds": refresh_seconds,
            "figures_refresh_by_partnership": refreshed,
            "record_pdf_seconds": self.time_record(manager.person.user, notes),
            "database": connection.vendor,
            "notes": notes,
        }
        if options["json"]:
            self.stdout.write(json.dumps(report))
        else:
            self.print_report(report)

    def client_for(self, user) -> Client:
        client = Client()
        sign_in(client, user)
        return client

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

    def readers(self, partnership: Partnership, many: int, notes: list[str]) -> dict:
        """Three invented safeguarding leads of the agency most challenged in the partnership,
        alike but for their unread notices (none, one, `many`), set after the sweep."""
        busiest = (
            Escalation.objects.filter(partnership=partnership)
            .exclude(state=State.DRAFT)
            .values("receiving_agency")
            .annotate(n=Count("pk"))
            .order_by("-n")
            .first()
        )
        if busiest is None:
            notes.append("readers: no escalation in the partnership")
            return {}
        agency = busiest["receiving_agency"]
        people = {}
        for label in ("none", "one", "thousands"):
            username = f"bench-{partnership.slug}-reader-{label}"
            user, _ = get_user_model().objects.get_or_create(
                username=username, defaults={"email": f"{username}@demo.invalid"}
            )
            person, _ = Person.objects.get_or_create(
                user=user,
                defaults={"full_name": f"Bench Reader {label.title()}", "email": user.email},
            )
            Membership.objects.get_or_create(
                person=person,
                agency_id=agency,
                role=Role.SAFEGUARDING_LEAD,
                defaults={"job_title": "Designated Safeguarding Lead (benchmark)"},
            )
            wanted = NOTICED.get(label, many)
            self.set_unread(person, wanted, notes)
            people[label] = person
        return people

    def set_unread(self, person: Person, wanted: int, notes: list[str]) -> None:
        """Exactly `wanted` unread notices (as far as the escalations they may open allow):
        the sweep may have told them of something since the last run."""
        now = timezone.now()
        unread = Notice.objects.filter(recipient=person, read_at=None)
        have = unread.count()
        if have > wanted:
            keep = list(unread.order_by("-created_at").values_list("pk", flat=True)[:wanted])
            unread.exclude(pk__in=keep).update(read_at=now)
            return
        visible = list(
            Escalation.objects.visible_to(person.user)
            .exclude(reference=None)
            .order_by("-raised_on")
            .values_list("pk", flat=True)[: max(1, (wanted - have) // len(NOTICE_KINDS) + 1)]
        )
        fresh = [
            Notice(
                escalation_id=pk,
                kind=kind,
                recipient=person,
                key=f"bench:{person.pk}:{pk}:{kind}",
                created_at=now,
                emailed_at=now,  # never for the relay to send
            )
            for pk in visible
            for kind in NOTICE_KINDS
        ]
        existing = set(
            Notice.objects.filter(key__in=[f.key for f in fresh]).values_list("key", flat=True)
        )
        fresh = [f for f in fresh if f.key not in existing][: wanted - have]
        Notice.objects.bulk_create(fresh, batch_size=2000)
        Notice.objects.filter(key__in=existing, recipient=person).update(read_at=None)
        got = Notice.objects.filter(recipient=person, read_at=None).count()
        if got > wanted:
            self.set_unread(person, wanted, notes)
        elif got < wanted:
            notes.append(f"{person.user.username}: {got} unread notices, not {wanted}")

    def escalation_url(self, user, order: str, notes: list[str]) -> str | None:
        escalation = (
            Escalation.objects.visible_to(user).exclude(reference=None).order_by(order).first()
        )
        if escalation is None:
            notes.append(f"escalation page: nothing visible to {user.username}")
            return None
        url = f"/escalations/{escalation.reference}/"
        try:
            resolve(url)
        except Resolver404:
            notes.append("detail: /escalations/<reference>/ is not routed in this build")
            return None
        return url

    def measure(self, pages: dict[str, tuple], requests: int, notes: list[str]) -> dict:
        """Per page: queries on a first (cold) and a repeated request, then timed requests
        taken in turns across the pages, so that load from elsewhere on the machine falls on
        every page alike. A computed page has every cache emptied before each request."""
        results: dict[str, dict | None] = {}
        for name, (client, url, computed) in pages.items():
            results[name] = self.count_queries(client, url, notes, computed=computed)
        timings: dict[str, list[float]] = {name: [] for name, r in results.items() if r}
        for _ in range(requests):
            for name in timings:
                client, url, computed = pages[name]
                if computed:
                    empty_caches()
                started = time.perf_counter()
                client.get(url, secure=True)
                timings[name].append((time.perf_counter() - started) * 1000)
        for name, values in timings.items():
            results[name].update(
                median_ms=round(statistics.median(values), 1),
                p95_ms=round(p95(values), 1),
                requests=len(values),
            )
        return results

    def count_queries(self, client: Client, url: str, notes: list[str], *, computed: bool):
        empty_caches()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, secure=True)
            first_ms = (time.perf_counter() - started) * 1000
        # Counted at once: the next request clears the connection's query log.
        first_count = len(queries)
        if response.status_code != 200:
            notes.append(f"{url} answered {response.status_code}")
            return None
        if computed:
            empty_caches()
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
        out = self.stdout.write
        out(
            f"{report['n']:,} escalations on {report['database']}; partnership "
            f"{report['partnership']}; unread notices of the three readers: "
            + ", ".join(f"{k} {v:,}" for k, v in report["unread_notices"].items())
        )
        out(
            f"deadline sweep (before the pages): {report['sweep_seconds']} s; figures refreshed "
            f"in {report['figures_refresh_seconds']} s; record PDF: {report['record_pdf_seconds']} s"
        )
        out(
            f"{'page':<38} {'median ms':>9} {'x base':>6} {'p95 ms':>8} {'x base':>6} "
            f"{'queries':>7} {'first ms':>8}"
        )
        for name, r in report["pages"].items():
            if r is None:
                out(f"{name:<38} {'n/a':>9}")
                continue
            out(
                f"{name:<38} {r['median_ms']:>9} {r.get('x_median', '-'):>6} {r['p95_ms']:>8} "
                f"{r.get('x_p95', '-'):>6} {r['queries']:>7} {r['first_ms']:>8}"
            )
        for note in report["notes"]:
            out(f"note: {note}")
