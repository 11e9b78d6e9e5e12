import time

from django.core.management import call_command
from django.core.management.base import BaseCommand

from cases.demo import seed_people
from escalations.demo import seed_escalations
from policies.models import Partnership


class Command(BaseCommand):
    help = (
        "Invented demo agencies, people for every role in each partnership, and escalations "
        "(idempotent: base data is created once; escalations are topped up to N)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--escalations", type=int, default=0, help="total demo escalations wanted"
        )
        parser.add_argument("--quiet", action="store_true", help="do not print the demo logins")

    def handle(self, *args, **options):
        if not Partnership.objects.exists():
            call_command("load_policies", stdout=self.stdout)
        started = time.monotonic()
        logins = seed_people()
        made = seed_escalations(options["escalations"])
        self.stdout.write(
            f"Demo data ready: {len(logins)} demo people, {made} new escalations "
            f"({time.monotonic() - started:.1f} s)."
        )
        if not options["quiet"]:
            call_command("demo_logins", stdout=self.stdout)
