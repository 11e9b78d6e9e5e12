"""What a signed-in request costs before any view runs: the portal's middleware (session limits,
second factor, read audit, headers) in front of a view that does nothing, against a plain
Django page behind `login_required` with only Django's session and authentication middleware.
Both are served through the whole Django stack by the test client, on the database in
DATABASE_URL, already migrated and seeded (`manage.py seed_demo`), signed in as a demo person
with a verified second factor (issue 18 point 5).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python scripts/bench_fixed_cost.py [--requests 300] [--runs 5]

Prints, for each run, the median and 95th percentile in milliseconds and the queries of one
request, and the ratios of the portal's to the plain page's; with several runs, the median of
the runs' ratios last. Both pages go through the same test client class, session store,
database and person, in turns whose order rotates (the first of a turn pays for whatever the
turn before it left behind). The plain page is timed twice: loading the user through the
portal's backend (cases.auth, as the portal does) and through Django's ModelBackend; the ratios
are to the faster of the two. The target is 1.5 by median and by p95 (issue 18 point 5)."""

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "escalation_portal.settings")

PLAIN_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]


def nothing(request):
    from django.http import HttpResponse

    return HttpResponse("nothing")


def urls():
    from django.contrib.auth.decorators import login_required
    from django.urls import path

    return [path("nothing/", login_required(nothing))]


urlpatterns = []  # filled in main(), once Django is set up


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()

    import django

    django.setup()
    urlpatterns.extend(urls())
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cases.models import Person

    settings.ALLOWED_HOSTS = ["*"]
    person = (
        Person.objects.filter(user__is_active=True, user__email__endswith="@demo.invalid")
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if person is None:
        sys.exit("No demo people: run `manage.py seed_demo` first.")
    device = TOTPDevice.objects.filter(user=person.user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=person.user, name="Benchmark", confirmed=True)

    def client_with(middleware: list[str], backend: str | None = None) -> Client:
        # The handler builds its middleware chain at its first request and keeps it.
        with override_settings(MIDDLEWARE=middleware):
            client = Client()
            client.force_login(person.user, backend=backend)
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
            for _ in range(10):  # warm: sessions stamped, connections open, code loaded
                assert client.get("/nothing/", secure=True).status_code == 200
        return client

    counted = []

    def count(execute, sql, params, many, context):
        counted.append(sql)
        return execute(sql, params, many, context)

    labels = {
        "plain": "plain Django page behind login_required",
        "django": "the same with Django's ModelBackend",
        "portal": "the portal's middleware, a view doing nothing",
    }
    django_backend = "django.contrib.auth.backends.ModelBackend"
    backends = [*settings.AUTHENTICATION_BACKENDS, django_backend]
    with override_settings(ROOT_URLCONF=__name__, AUTHENTICATION_BACKENDS=backends):
        clients = {
            # The plain page loads the user through the portal's backend, as the portal does
            # (the backend is named in the session: the same store, the same person)...
            "plain": client_with(PLAIN_MIDDLEWARE),
            # ...and through Django's own, as a project with no backend of its own would.
            "django": client_with(PLAIN_MIDDLEWARE, django_backend),
            "portal": client_with(list(settings.MIDDLEWARE)),
        }
        ratios = []
        for _ in range(args.runs):
            ratios.append(measure(clients, args.requests, count, counted, labels))
    print(f"{connection.vendor}, {args.requests} requests each, signed in as {person.user}")
    if args.runs > 1:
        medians = [r[0] for r in ratios]
        p95s = [r[1] for r in ratios]
        print(
            f"median of {args.runs} runs: ratio (median) {statistics.median(medians):.2f}x "
            f"(runs {', '.join(f'{r:.2f}' for r in medians)}); "
            f"ratio (p95) {statistics.median(p95s):.2f}x "
            f"(runs {', '.join(f'{r:.2f}' for r in p95s)})"
        )


def measure(clients, requests, count, counted, labels) -> tuple[float, float]:
    """One run: the pages in turns, the order rotating every turn; prints and returns the
    portal's median and p95 as multiples of the faster plain page's."""
    from django.db import connection

    times = {name: [] for name in clients}
    queries = {}
    names = list(clients)
    gc.collect()
    for turn in range(requests):
        # Interleaved, so that whatever else the machine does falls on both alike.
        for name in names[turn % len(names) :] + names[: turn % len(names)]:
            counted.clear()
            with connection.execute_wrapper(count):
                start = time.perf_counter()
                response = clients[name].get("/nothing/", secure=True)
                times[name].append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.status_code
            queries[name] = len(counted)
    medians, p95s = {}, {}
    for name, values in times.items():
        values.sort()
        medians[name] = statistics.median(values)
        p95s[name] = values[max(0, int(0.95 * len(values)) - 1)]
        print(
            f"{labels[name]:<46} median {medians[name]:6.2f} ms  p95 {p95s[name]:6.2f} ms"
            f"  {queries[name]} queries"
        )
    ratios = (
        medians["portal"] / min(medians["plain"], medians["django"]),
        p95s["portal"] / min(p95s["plain"], p95s["django"]),
    )
    print(f"ratio (median): {ratios[0]:.2f}x  ratio (p95): {ratios[1]:.2f}x")
    return ratios


if __name__ == "__main__":
    main()
