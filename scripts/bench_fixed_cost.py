"""What a signed-in request costs before any view runs: the portal's middleware (session limits,
second factor, read audit, headers) in front of a view that does nothing, against a plain
Django page behind `login_required` with only Django's session and authentication middleware.
Both are served through the whole Django stack by the test client, on the database in
DATABASE_URL, already migrated and seeded (`manage.py seed_demo`), signed in as a demo person
with a verified second factor (issue 18 point 5).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python scripts/bench_fixed_cost.py [--requests 300]

Prints, for each, the median and 95th percentile in milliseconds and the queries of one
request, and the ratio of the portal's to the plain page's."""

import argparse
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

    def client_with(middleware: list[str]) -> Client:
        # The handler builds its middleware chain at its first request and keeps it.
        with override_settings(MIDDLEWARE=middleware):
            client = Client()
            client.force_login(person.user)
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
        "portal": "the portal's middleware, a view doing nothing",
    }
    with override_settings(ROOT_URLCONF=__name__):
        clients = {
            "plain": client_with(PLAIN_MIDDLEWARE),
            "portal": client_with(list(settings.MIDDLEWARE)),
        }
        times = {name: [] for name in clients}
        queries = {}
        for _ in range(args.requests):
            # Interleaved, so that whatever else the machine does falls on both alike.
            for name, client in clients.items():
                counted.clear()
                with connection.execute_wrapper(count):
                    start = time.perf_counter()
                    response = client.get("/nothing/", secure=True)
                    times[name].append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.status_code
                queries[name] = len(counted)
    print(f"{connection.vendor}, {args.requests} requests each, signed in as {person.user}")
    medians = {}
    for name, values in times.items():
        values.sort()
        medians[name] = statistics.median(values)
        p95 = values[max(0, int(0.95 * len(values)) - 1)]
        print(
            f"{labels[name]:<46} median {medians[name]:6.2f} ms  p95 {p95:6.2f} ms"
            f"  {queries[name]} queries"
        )
    print(f"ratio (median): {medians['portal'] / medians['plain']:.2f}x")


if __name__ == "__main__":
    main()
