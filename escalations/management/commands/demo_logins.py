from django.core.management.base import BaseCommand

from cases.demo import DEMO_PASSWORD, demo_logins


class Command(BaseCommand):
    help = "Prints the demo logins (invented people only)."

    def handle(self, *args, **options):
        rows = demo_logins()
        if not rows:
            self.stdout.write("No demo logins yet: run `python manage.py seed_demo`.")
            return
        self.stdout.write(f"Demo logins (every password: {DEMO_PASSWORD}):")
        width = max(len(row.username) for row in rows)
        for row in rows:
            self.stdout.write(f"  {row.username.ljust(width)}  {row.name}: {row.role}, {row.where}")
