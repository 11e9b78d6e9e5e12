"""Brings every person's notices in line with what they may open now (ADR 0028). Run once
after the migration that added Notice.hidden_at, on a database whose notices were written
before it: from then on the services that change access keep it."""

from django.core.management.base import BaseCommand

from escalations.models import Notice
from escalations.notices.access import follow_access


class Command(BaseCommand):
    help = "Hides notices their recipients may no longer open, and shows those they may again."

    def handle(self, *args, **options):
        people = Notice.objects.values_list("recipient_id", flat=True).distinct().order_by()
        changed = sum(follow_access(person_id) for person_id in list(people))
        self.stdout.write(f"{changed} notice(s) hidden or shown again.")
