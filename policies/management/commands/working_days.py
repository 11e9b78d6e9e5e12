from datetime import date

from django.core.management.base import BaseCommand, CommandError

from policies.models import Partnership


class Command(BaseCommand):
    help = "Prints the date N working days after DATE in a partnership's calendar."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("date", help="YYYY-MM-DD")
        parser.add_argument("n", type=int)

    def handle(self, *args, **options):
        partnership = Partnership.objects.filter(slug=options["slug"]).first()
        if partnership is None:
            raise CommandError(f"No partnership {options['slug']!r}. Run load_policies first.")
        try:
            start = date.fromisoformat(options["date"])
        except ValueError as exc:
            raise CommandError(f"{options['date']!r} is not a date written YYYY-MM-DD.") from exc
        if options["n"] < 0:
            raise CommandError("N must be 0 or more working days.")
        self.stdout.write(partnership.calendar().add_working_days(start, options["n"]).isoformat())
