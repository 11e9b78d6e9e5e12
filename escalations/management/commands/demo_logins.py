from django.core.management.base import BaseCommand
from django.db import connection

from cases.demo import DEMO_PASSWORD, FEATURED, demo_logins
from cases.models import Membership


class Command(BaseCommand):
    help = "Prints the demo logins (invented people only): all, or --featured for a short table."

    def add_arguments(self, parser):
        parser.add_argument(
            "--featured",
            action="store_true",
            help="one login per role and partnership, as `make run` shows",
        )

    def handle(self, *args, **options):
        migrated = Membership._meta.db_table in connection.introspection.table_names()
        rows = demo_logins(FEATURED if options["featured"] else None) if migrated else []
        if not rows:
            self.stdout.write("No demo logins yet: run `make run` (or `manage.py seed_demo`).")
            return
        everyone = len(demo_logins()) if options["featured"] else len(rows)
        self.stdout.write(
            f"Demo logins (every password: {DEMO_PASSWORD}; a second factor is set up at the "
            "first sign-in):"
        )
        width = max(len(row.username) for row in rows)
        for row in rows:
            self.stdout.write(f"  {row.username.ljust(width)}  {row.name}: {row.role}, {row.where}")
        if options["featured"]:
            self.stdout.write(f"All {everyone} demo logins: make logins")
