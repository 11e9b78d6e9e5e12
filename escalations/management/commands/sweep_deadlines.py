import json

from django.core.management.base import BaseCommand

from escalations.deadlines import sweep


class Command(BaseCommand):
    help = "Run one deadline sweep now (the same code Celery beat runs) and print the counts."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="one line of JSON")

    def handle(self, *args, **options):
        result = sweep()
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict()))
        else:
            self.stdout.write(
                f"Deadline sweep: {result.reminded} reminded, {result.overdue} marked overdue, "
                f"{result.child_file_reminders} reminded of the child's file, "
                f"{result.notices} notices written in {result.seconds:.2f} s."
            )
