"""`manage.py health [PART ...]`: the /healthz report in a shell, for container health checks
(docker-compose.yml). Exits 1 when a part named (or, with none named, any part) is down."""

import json

from django.core.management.base import BaseCommand, CommandError

from escalation_portal import health

PARTS = ("database", "broker", "redis", "worker", "beat")


class Command(BaseCommand):
    help = "Print the health report; exit 1 if a named part (or any) is down."

    def add_arguments(self, parser):
        parser.add_argument("parts", nargs="*", choices=PARTS, metavar="PART")

    def handle(self, *args, parts, **options):
        _, body = health.report()
        self.stdout.write(json.dumps(body, indent=2))
        down = [p for p in body["down"] if not parts or p in parts]
        if down:
            raise CommandError(f"Down: {', '.join(down)}")
