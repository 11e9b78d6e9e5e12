from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit import log as audit_log
from audit.models import AuditEntry
from escalations.models import Escalation
from escalations.record import engine
from escalations.record.render import render_record_pdf, with_record


class Command(BaseCommand):
    help = "Write the Professional Difference Escalation Record of one escalation to a PDF file."

    def add_arguments(self, parser):
        parser.add_argument("reference", help="The escalation's reference, e.g. KIR-2026-00001")
        parser.add_argument("out", type=Path, help="Where to write the PDF")

    def handle(self, *args, reference: str, out: Path, **options):
        # An operator on the server, who holds the database anyway: no person to scope by.
        # The read is audited all the same.
        escalation = with_record(Escalation.objects.filter(reference=reference)).first()
        if escalation is None:
            raise CommandError(f"No escalation has the reference {reference!r}.")
        if out.parent and not out.parent.is_dir():
            raise CommandError(f"The folder {out.parent} does not exist.")
        try:
            pdf = render_record_pdf(escalation)
        except engine.RenderError as error:
            raise CommandError(f"The record could not be produced: {error}") from error
        out.write_bytes(pdf)
        audit_log.record(
            None,
            kind=AuditEntry.Kind.DOWNLOAD,
            what="record PDF (render_record command)",
            escalation=escalation,
        )
        self.stdout.write(f"Wrote the record of {reference} to {out} ({len(pdf):,} bytes).")
