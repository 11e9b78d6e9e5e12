"""Each agency's confirmation that the escalation is recorded on its own file for the child
(issue 15, point 9): Pan-Cheshire "Details of the disagreement, the decisions taken, and the
outcomes must be recorded on the child's file"; Lincolnshire "on child's files as relevant";
Kirklees "a clear record ... kept by all agencies involved"; Berkshire "recorded on the
child's file". Which partnerships ask is ladder data (Partnership.child_file_record)."""

from __future__ import annotations

from django.db import models


class ChildFileRecord(models.Model):
    """One agency's confirmation: who confirmed it, the date it was recorded on the agency's
    own file, and that file's reference (the agency's own, never the portal's)."""

    escalation = models.ForeignKey(
        "escalations.Escalation", on_delete=models.PROTECT, related_name="child_file_records"
    )
    agency = models.ForeignKey("cases.Agency", on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey("cases.Person", on_delete=models.PROTECT, related_name="+")
    recorded_on = models.DateField()
    file_reference = models.CharField(max_length=100)
    confirmed_at = models.DateTimeField(auto_now_add=True)
    # Which confirmation this is: 0 for the outcome, once resolved; a stage's number where
    # the policy asks for it at every stage (Kirklees: "At all stages").
    stage_number = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["stage_number", "confirmed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["escalation", "agency", "stage_number"],
                name="one_child_file_record_per_agency_and_stage",
            )
        ]

    def __str__(self) -> str:
        return f"{self.agency} recorded {self.escalation} on {self.recorded_on:%d %B %Y}"
