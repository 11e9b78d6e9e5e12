from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from policies.loading import LADDER_DIR, LadderFileError, load_directory, load_ladders


class Command(BaseCommand):
    help = "Loads every partnership's ladder file; a changed file makes a new ladder version."

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=str(LADDER_DIR), help="folder of ladder files")

    def handle(self, *args, **options):
        from pathlib import Path

        try:
            with transaction.atomic():
                results = load_ladders(Path(options["dir"]))
                added = load_directory()
        except LadderFileError as exc:
            raise CommandError(f"No ladder loaded. {exc}") from exc
        if options["verbosity"] < 1:  # -v 0: `make run` keeps its first screen short
            return
        for result in results:
            what = "new version" if result.created else "unchanged"
            self.stdout.write(f"{result.slug}: ladder v{result.version} ({what})")
        self.stdout.write(f"directory: {added} new entries")
