import json

from django.core.management.base import BaseCommand, CommandError

from policies.loading import describe
from policies.models import Partnership


class Command(BaseCommand):
    help = "Shows a partnership's current ladder."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        partnership = Partnership.objects.filter(slug=options["slug"]).first()
        if partnership is None:
            known = ", ".join(Partnership.objects.values_list("slug", flat=True)) or "none loaded"
            raise CommandError(f"No partnership {options['slug']!r} (known: {known}).")
        data = describe(partnership)
        if options["json"]:
            self.stdout.write(json.dumps(data))
            return
        self.stdout.write(f"{data['name']} ({data['partnership']}), ladder v{data['version']}")
        self.stdout.write(f"Source: {data['source']}")
        self.stdout.write(f"Emergency: {data['emergency']['summary']}")
        for stage in partnership.current_ladder.stages.all():
            flags = [
                flag.replace("_", " ")
                for flag in (
                    "brings_in_partnership",
                    "record_required",
                    "approval_required",
                    "after_resolution",
                )
                if getattr(stage, flag)
            ]
            self.stdout.write(
                f"  {stage.number}. {stage.name} - {stage.time_limit_in_words(partnership)}"
                + (f" [{', '.join(flags)}]" if flags else "")
            )
            self.stdout.write(f"     who: {stage.who}")
