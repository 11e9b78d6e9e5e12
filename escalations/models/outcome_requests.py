"""The partnership asks an agency for the outcomes of its escalations at given steps, and the
agency's lead answers with a summary (Pan-Cheshire, Context: "The LSCB will maintain a record
of all escalations and outcomes at Step 4, but may request from time to time information from
its partners about the outcomes of escalations at Steps 2 and 3"). Which steps, and whether a
partnership asks at all, is ladder data (Partnership.outcomes_on_request_stages).

The answer is a summary for the partnership's dashboard, which shows aggregate information
only (SPEC section 3): it never names a child; the service refuses one that names a child of
the escalations it covers."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from cases import limits
from cases.limits import ACCOUNT, REASON


class OutcomeRequest(models.Model):
    partnership = models.ForeignKey(
        "policies.Partnership", on_delete=models.PROTECT, related_name="outcome_requests"
    )
    agency = models.ForeignKey("cases.Agency", on_delete=models.PROTECT, related_name="+")
    asked_by = models.ForeignKey("cases.Person", on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField(default=timezone.now)
    # The escalations asked about: those raised by or against the agency since this day.
    since = models.DateField()
    question = models.TextField(max_length=REASON)
    answered_by = models.ForeignKey(
        "cases.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.TextField(max_length=ACCOUNT, blank=True)

    class Meta:
        ordering = ["-asked_at"]
        constraints = [
            limits.text_limit("question", REASON, prefix="outcome_request"),
            limits.text_limit("answer", ACCOUNT, prefix="outcome_request"),
        ]

    def __str__(self) -> str:
        return f"{self.partnership} asked {self.agency} for outcomes since {self.since}"
