"""Times `seed_demo --escalations N` on a fresh PostgreSQL database and prints the seconds.

The issue's target: 100,000 escalations in under two minutes. Usage:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python scripts/bench_seed.py

It creates (and afterwards drops) a database named after DATABASE_URL's with `_bench` added,
migrates it and loads the ladders before the clock starts. `--keep` leaves it in place.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/portal"


def bench_url(base: str) -> tuple[str, str, str]:
    """(bench database URL, its name, the URL of the maintenance database)."""
    parsed = urlparse(base)
    if parsed.scheme not in ("postgres", "postgresql"):
        sys.exit(f"DATABASE_URL must be a PostgreSQL URL for this benchmark, not {base!r}.")
    name = f"{parsed.path.lstrip('/') or 'portal'}_bench"
    return (
        urlunparse(parsed._replace(path=f"/{name}")),
        name,
        urlunparse(parsed._replace(path="/postgres")),
    )


def recreate(maintenance_url: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg2
    from psycopg2 import sql

    connection = psycopg2.connect(maintenance_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        if not drop_only:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--escalations", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()

    url, name, maintenance = bench_url(os.environ.get("DATABASE_URL", DEFAULT_URL))
    recreate(maintenance, name)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-seed-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "escalation_portal.settings")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from escalations.models import Escalation

    try:
        call_command("migrate", verbosity=0)
        call_command("load_policies", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        started, cpu_started = time.perf_counter(), time.process_time()
        call_command(
            "seed_demo",
            escalations=args.escalations,
            quiet=True,
            stdout=open(os.devnull, "w"),  # noqa: SIM115
        )
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        load = os.getloadavg()[0]
        count = Escalation.objects.count()
        print(
            f"seed_demo --escalations {args.escalations} on PostgreSQL (fresh database {name}): "
            f"{seconds:.1f} s for {count} escalations"
            f" ({count / seconds:,.0f} a second; target under 120 s)\n"
            f"  of which this process's own CPU: {cpu:.1f} s; machine load average {load:.1f}"
            f" on {os.cpu_count()} cores (other work slows the database side)"
        )
    finally:
        connections.close_all()
        if not args.keep:
            recreate(maintenance, name, drop_only=True)


if __name__ == "__main__":
    main()
