"""The append-only audit log: every read that identifies a child, and every change."""

from __future__ import annotations

from django.conf import settings
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone

from policies.models import Role


class AuditEntryQuerySet(models.QuerySet):
    def about_agencies(self, agency_ids: set[int]) -> AuditEntryQuerySet:
        """Entries whose escalation has one of these agencies as a party."""
        if not agency_ids:
            return self.none()
        if connection.vendor == "postgresql":
            condition = Q()
            for agency_id in agency_ids:
                condition |= Q(agency_ids__contains=[agency_id])
            return self.filter(condition)
        # SQLite has no JSON containment: entries list at most a few agencies, by position.
        condition = Q()
        for index in range(MAX_AGENCIES_PER_ENTRY):
            condition |= Q(**{f"agency_ids__{index}__in": sorted(agency_ids)})
        return self.filter(condition)

    def visible_to(self, person) -> AuditEntryQuerySet:
        """Safeguarding leads see their agencies' entries; partnership administrators their
        partnership's, and the administrative changes about any of its agencies (an agency
        shared with another partnership is administered from both). Everyone else sees none."""
        if not oversees_audit(person):
            return self.none()
        from cases.models import Agency  # audit is imported by cases' neighbours, not cases

        leads = person.agency_ids({Role.SAFEGUARDING_LEAD})
        admins = person.partnership_ids({Role.PARTNERSHIP_ADMIN})
        if not admins:
            return self.about_agencies(leads)
        administered = set(
            Agency.objects.filter(partnerships__in=admins).values_list("pk", flat=True)
        )
        return (
            self.filter(partnership_id__in=admins)
            | self.about_agencies(leads)
            | self.filter(object_type__in=ADMINISTRATION_OBJECTS).about_agencies(administered)
        ).distinct()


MAX_AGENCIES_PER_ENTRY = 4
# What the partnership's own administration changes (people.audit): entries about these are
# shown to the administrators of every partnership of the agencies they name.
ADMINISTRATION_OBJECTS = frozenset(
    {"person", "agency", "invitation", "closure day", "directory entry", "people import"}
)


def oversees_audit(person) -> bool:
    """Agency safeguarding leads and partnership administrators read the audit log."""
    return person is not None and bool(
        person.agency_ids({Role.SAFEGUARDING_LEAD})
        or person.partnership_ids({Role.PARTNERSHIP_ADMIN})
    )


class AuditEntry(models.Model):
    class Kind(models.TextChoices):
        READ = "read", "Read"
        CHANGE = "change", "Change"
        EXPORT = "export", "Export"
        DOWNLOAD = "download", "Download"
        SYSTEM = "system", "System"

    at = models.DateTimeField(default=timezone.now, db_index=True)  # stored in UTC
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    what = models.CharField(max_length=200)  # e.g. "escalation page", "record PDF", "CSV export"
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=50, blank=True)
    reference = models.CharField(max_length=30, blank=True, db_index=True)
    partnership_id = models.IntegerField(null=True, blank=True, db_index=True)
    agency_ids = models.JSONField(default=list, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    path = models.CharField(max_length=300, blank=True)
    # An administrative change's fields, before and after: [[label, before, after], ...].
    # Nullable so that adding it kept SQLite's append-only triggers (a NOT NULL column would
    # have rebuilt the table without them).
    changes = models.JSONField(null=True, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "audit entries"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit entries cannot be deleted.")


# Change history: a PostgreSQL trigger on each table writes a snapshot row into an
# audit.<Model>Change table for every insert, update and delete, including queryset .update()
# and bulk operations that signal-based history misses. django-pghistory installs the triggers
# on PostgreSQL only; on SQLite the tables exist and stay empty.
# A child's identifying fields are left out of the snapshots: retention anonymises them after
# the retention period, and an append-only copy would keep them for ever.
CHILD_IDENTIFIERS = ["given_names", "family_name", "date_of_birth", "address"]
# The deadline sweep's own flags (ADR 0032): an update that changes only these is the sweep
# marking a stage overdue or reminded, recorded by its Overdue event and its notices. Copying
# the whole escalation for each (hundreds of thousands at national scale) was most of the
# sweep's time. Any other change still snapshots the whole row, these columns included.
SWEEP_FLAGS = ["overdue", "reminded", "event_count"]


def _track_changes() -> None:
    import pghistory

    from cases.models import Child
    from escalations.models import Action, Escalation, Note, Outcome, Position, Response

    for model in (Escalation, Child, Note, Position, Response, Outcome, Action):
        update = (
            pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude=SWEEP_FLAGS))
            if model is Escalation
            else pghistory.UpdateEvent()
        )
        pghistory.track(
            pghistory.InsertEvent(),
            update,
            pghistory.DeleteEvent(),
            exclude=CHILD_IDENTIFIERS if model is Child else None,
            obj_field=pghistory.ObjForeignKey(related_name="changes", db_index=True),
            append_only=True,
            app_label="audit",
            model_name=f"{model.__name__}Change",
        )(model)


_track_changes()
