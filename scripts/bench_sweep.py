"""Benchmark of the deadline sweep: a fresh PostgreSQL database with N demo escalations (seed_demo
leaves them as if no sweep had run), one sweep timed, then a second that must send nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python scripts/bench_sweep.py [--escalations 100000] [--keep]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python scripts/bench_sweep.py --template seed_1m --runs 3

The database named in DATABASE_URL is left alone: the benchmark makes <name>_bench_sweep beside
it and drops it afterwards (unless --keep). With --template, each run copies that already
seeded database (CREATE DATABASE ... TEMPLATE, not timed; nobody may be connected to it)
instead of seeding, and migrates the copy; --runs repeats the whole, printing each run and the
median. Targets (issue 18): the first sweep of 100,000 under 5 s, of 1,000,000 under 30 s."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import dj_database_url
import psycopg2
from psycopg2 import sql

ROOT = Path(__file__).resolve().parent.parent


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def admin_sql(config: dict, statement: sql.Composable) -> None:
    connection = psycopg2.connect(
        dbname="postgres",
        user=config["USER"],
        password=config["PASSWORD"] or None,
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
    )
    connection.autocommit = True  # CREATE and DROP DATABASE refuse a transaction block
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def copy_template(config: dict, name: str, template: str) -> None:
    """CREATE DATABASE name TEMPLATE template, waiting while someone else is connected to the
    template (PostgreSQL refuses the copy meanwhile)."""
    create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
        sql.Identifier(name), sql.Identifier(template)
    )
    for attempt in range(60):
        try:
            admin_sql(config, create)
            return
        except psycopg2.errors.ObjectInUse:
            if attempt == 59:
                raise
            time.sleep(5)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def one_run(options, config: dict, url: str, name: str) -> tuple[dict, bool]:
    bench_url = url.rsplit("/", 1)[0] + f"/{name}"
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    admin_sql(config, drop)
    env = {**os.environ, "DATABASE_URL": bench_url, "DEBUG": "false"}
    env.setdefault("SECRET_KEY", "bench-only-secret-key")
    try:
        started = time.monotonic()
        if options.template:
            copy_template(config, name, options.template)
            manage(env, "migrate", "--no-input", "-v0")
            print(f"Copied {options.template} in {time.monotonic() - started:.0f} s ({name}).")
        else:
            admin_sql(config, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            manage(env, "migrate", "--no-input", "-v0")
            manage(env, "seed_demo", "--escalations", str(options.escalations), "--quiet")
            manage(
                env,
                "shell",
                "-c",
                "from django.db import connection; connection.cursor().execute('ANALYZE')",
            )
            print(
                f"Seeded {options.escalations} escalations in "
                f"{time.monotonic() - started:.0f} s ({name})."
            )
        before = load_average()
        first = json.loads(manage(env, "sweep_deadlines", "--json").strip().splitlines()[-1])
        print(
            f"First sweep: {first['seconds']:.2f} s "
            f"({first['overdue']} marked overdue, {first['reminded']} reminded, "
            f"{first['child_file_reminders']} reminded of the child's file, "
            f"{first['notices']} notices written; load average {before} before, "
            f"{load_average()} after)."
        )
        second = json.loads(manage(env, "sweep_deadlines", "--json").strip().splitlines()[-1])
        nothing = second["notices"] == 0 and second["overdue"] == 0 and second["reminded"] == 0
        print(
            f"Second sweep: {second['seconds']:.2f} s, "
            + ("sent nothing." if nothing else f"DID WORK AGAIN: {second}")
        )
        return first, nothing
    finally:
        if not options.keep:
            admin_sql(config, drop)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--escalations", type=int, default=100_000)
    parser.add_argument("--template", help="copy this seeded database for each run")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    options = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database: the benchmark is for PostgreSQL.")
    config = dj_database_url.parse(url)
    name = f"{config['NAME']}_bench_sweep"
    seconds, all_nothing = [], True
    for run in range(1, options.runs + 1):
        if options.runs > 1:
            print(f"Run {run} of {options.runs}:")
        first, nothing = one_run(options, config, url, name)
        seconds.append(first["seconds"])
        all_nothing = all_nothing and nothing
    if options.runs > 1:
        print(
            f"First sweeps: {', '.join(f'{s:.2f}' for s in seconds)} s; "
            f"median {statistics.median(seconds):.2f} s, slowest {max(seconds):.2f} s."
        )
    return 0 if all_nothing else 1


if __name__ == "__main__":
    sys.exit(main())
