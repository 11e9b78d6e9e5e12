"""A child protection conference chair's concern about an agency's part in a conference
(non-attendance, a missing or late report), sent to the agency as the partnership's ladder
file says (Kirklees Appendix 3), and the agency's response. The rules are
escalations.conference.services."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from cases import limits
from cases.models import Agency, Person
from policies.models import AGENCY_OVERSIGHT_ROLES, Partnership


class ConferenceReason(models.TextChoices):
    NON_ATTENDANCE = "non_attendance", "The agency did not attend"
    REPORT_MISSING = "report_missing", "No report was provided"
    REPORT_LATE = "report_late", "The report was late"
    OTHER = "other", "Another issue that needs exploring"


class ConferenceReportQuerySet(models.QuerySet):
    def visible_to(self, user) -> ConferenceReportQuerySet:
        """The chair who recorded it, and the named agency's safeguarding lead and managers."""
        from cases.people import person_for  # the person, memberships loaded once a request

        person = person_for(user)
        if person is None:
            return self.none()
        agencies = {
            m.agency_id
            for m in person.memberships.all()
            if m.agency_id and m.role in AGENCY_OVERSIGHT_ROLES
        }
        return self.filter(models.Q(recorded_by=person) | models.Q(agency__in=agencies))

    def awaiting_response(self) -> ConferenceReportQuerySet:
        return self.filter(response__isnull=True)


class ConferenceReport(models.Model):
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    recorded_on = models.DateTimeField(default=timezone.now)
    meeting_on = models.DateField()
    # The form asks for "family name, or identifying factors": as little as identifies it.
    family_identifier = models.CharField(max_length=200)
    chair_name = models.CharField(max_length=200)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    agency_representative = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=30, choices=ConferenceReason.choices)
    details = models.TextField(max_length=limits.ACCOUNT)

    objects = ConferenceReportQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_on"]
        indexes = [models.Index(fields=["agency", "recorded_on"], name="conf_agency_recorded")]
        constraints = [limits.text_limit("details", limits.ACCOUNT, prefix="conference")]

    def __str__(self) -> str:
        return f"Conference concern {self.pk}"


class ConferenceResponse(models.Model):
    """The safeguarding lead's answer: what happened and what the agency will do."""

    report = models.OneToOneField(
        ConferenceReport, on_delete=models.PROTECT, related_name="response"
    )
    responded_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    responded_on = models.DateTimeField(default=timezone.now)
    summary = models.TextField(max_length=limits.ACCOUNT)

    class Meta:
        constraints = [limits.text_limit("summary", limits.ACCOUNT, prefix="conference_response")]
