"""load_policies: the ladder files and directory tables into the database, and the running
deadlines moved by any closure day a file adds (SPEC section 7), in one transaction.

It lives here, not in policies, because closure days move escalations' deadlines
(escalations.clock) and policies knows nothing of escalations."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cases.models import Sector
from escalations.clock import closure_days_added
from escalations.conference.services import forget_recorder_sectors
from policies.loading import LADDER_DIR, LadderFileError, load_directory, load_ladders
from policies.models import Partnership


def check_sectors(results) -> None:
    """The sectors a conference route names are agency sectors (cases.models.Sector), which
    policies cannot check: a misspelt one would let nobody record a concern."""
    for result in results:
        ladder = Partnership.objects.get(slug=result.slug).current_ladder
        route = ladder.conference_concerns if ladder else {}
        unknown = set(route.get("recorded_by", {}).get("sectors", [])) - set(Sector.values)
        if unknown:
            raise LadderFileError(
                f"{result.slug}.yaml: ladder.conference_concerns.recorded_by.sectors: unknown "
                f"sector {', '.join(sorted(unknown))} (one of {', '.join(Sector.values)})"
            )


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
                check_sectors(results)
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
        forget_recorder_sectors()
        if options["verbosity"] < 1:  # -v 0: `make run` keeps its first screen short
            return
        for result in results:
            what = "new version" if result.created else "unchanged"
            self.stdout.write(f"{result.slug}: ladder v{result.version} ({what})")
            if result.closure_days_added:
                self.stdout.write(
                    f"{result.slug}: {len(result.closure_days_added)} closure day(s) added, "
                    f"{moved[result.slug]} running deadline(s) recalculated"
                )
        self.stdout.write(f"directory: {added} new entries")
