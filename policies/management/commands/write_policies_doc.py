"""Write docs/policies.md from the ladder files (policies/policy_doc.py)."""

from django.core.management.base import BaseCommand, CommandError

from policies.policy_doc import DOC, render


class Command(BaseCommand):
    help = "Write docs/policies.md from policies/ladders/*.yaml (--check: only compare)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="fail if the file differs")

    def handle(self, *args, check=False, **options):
        text = render()
        if check:
            if DOC.read_text(encoding="utf-8") != text:
                raise CommandError(
                    "docs/policies.md differs from the ladder files: run "
                    "python manage.py write_policies_doc"
                )
            self.stdout.write("docs/policies.md matches the ladder files.")
            return
        DOC.write_text(text, encoding="utf-8")
        self.stdout.write("Wrote docs/policies.md from the ladder files.")
