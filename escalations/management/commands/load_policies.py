"""load_policies: the ladder files and directory tables into the database, and the running
deadlines moved by any closure day a file adds (SPEC section 7), in one transaction.

It lives here, not in policies, because closure days move escalations' deadlines
(escalations.clock) and policies knows nothing of escalations."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from escalations.clock import closure_days_added
from policies.loading import LADDER_DIR, LadderFileError, load_directory, load_ladders
from policies.models import Partnership


class Command(BaseCommand):
    help = (
        "Loads every partnership's ladder file; a changed file makes a new ladder version. "
        "Closure days a file adds move the running deadlines they fall inside."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=str(LADDER_DIR), help="folder of ladder files")

    def handle(self, *args, **options):
        try:
            with transaction.atomic():
                results = load_ladders(Path(options["dir"]))
                added = load_directory()
                moved = {
                    result.slug: closure_days_added(
                        Partnership.objects.get(slug=result.slug),
                        result.closure_days_added,
                        by=None,
                        source="from the ladder file",
                    )
                    for result in results
                    if result.closure_days_added
                }
        except LadderFileError as exc:
            raise CommandError(f"No ladder loaded. {exc}") from exc
        for result in results:
            what = "new version" if result.created else "unchanged"
            self.stdout.write(f"{result.slug}: ladder v{result.version} ({what})")
            if result.closure_days_added:
                self.stdout.write(
                    f"{result.slug}: {len(result.closure_days_added)} closure day(s) added, "
                    f"{moved[result.slug]} running deadline(s) recalculated"
                )
        self.stdout.write(f"directory: {added} new entries")
