import json

from django.core.management.base import BaseCommand, CommandError

from cases.models import Child
from escalations.models import Escalation
from security.subject_access import export


class Command(BaseCommand):
    help = "Write everything held about one child to a JSON file (a subject access request)."

    def add_arguments(self, parser):
        parser.add_argument("child_id", type=int)
        parser.add_argument("out", help="the JSON file to write")

    def handle(self, *args, child_id: int, out: str, **options):
        child = Child.objects.filter(pk=child_id).select_related("home_partnership").first()
        if child is None:
            raise CommandError(f"There is no child {child_id}.")
        # An operator on the server, who holds the database anyway: every escalation about the
        # child, drafts included. The export is audited all the same.
        data = export(child, Escalation.objects.filter(child=child))
        with open(out, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
        self.stdout.write(
            f"Wrote {len(data['escalations'])} escalations about child {child_id} to {out}"
        )
