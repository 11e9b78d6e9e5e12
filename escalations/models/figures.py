"""The partnership dashboard's figures, materialised (ADR 0031).

Counting 100,000 escalations for every dashboard request took 50 times a plain page. A
periodic refresh (escalations.dashboards.materialise) groups a partnership's escalations by
every dimension the dashboard filters on and writes the counts here in one transaction, with
the moment they describe: the page shows that moment, and every figure is exact as at it.

Rows come in grains, one per table of the dashboard: "all" counts each escalation once,
"nature" the escalations with each nature of difference, "agency" each pair of raising and
receiving agencies, "raised" and "resolved" each month."""

from django.db import models

from cases.models import Agency
from policies.models import Partnership


class FigureDimensions(models.Model):
    """What a figure may be narrowed by. Every row carries the dimensions every grain shares
    (pathway, state, stage, highest stage, overdue, resolved, learning, policy gap); a grain
    adds those its table needs (the nature, the two agencies, or a month) and leaves the
    others empty, so a partnership has a few thousand rows however many escalations it has."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+")
    grain = models.CharField(max_length=20)
    pathway = models.CharField(max_length=30)
    state = models.CharField(max_length=30)
    stage_number = models.PositiveSmallIntegerField()
    highest_stage_number = models.PositiveSmallIntegerField()
    # Overdue as at the refresh (escalations.clock.overdue_condition at FiguresAsAt.as_at).
    is_overdue = models.BooleanField()
    is_resolved = models.BooleanField()
    has_learning = models.BooleanField()
    has_policy_gap = models.BooleanField()
    # Grain "nature", "agency", "raised" and "resolved" alone.
    nature = models.CharField(max_length=30, null=True)  # noqa: DJ001 (empty outside its grain, as the others)
    raising_agency = models.ForeignKey(
        Agency, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    receiving_agency = models.ForeignKey(
        Agency, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    # First day of the local month.
    raised_month = models.DateField(null=True)
    resolved_month = models.DateField(null=True)

    class Meta:
        abstract = True


class FigureCount(FigureDimensions):
    """How many escalations share these dimensions."""

    n = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["partnership", "grain"], name="figure_count_grain")]


class FigureDays(FigureDimensions):
    """How many ended stages (grain "stage", stage_ended 1..n) or resolved escalations (grain
    "resolution", stage_ended 0) took this many working days: a histogram, from which medians
    and 90th percentiles are exact."""

    stage_ended = models.PositiveSmallIntegerField()
    days = models.PositiveIntegerField()
    n = models.PositiveIntegerField()

    class Meta:
        verbose_name_plural = "figure days"
        indexes = [models.Index(fields=["partnership", "grain"], name="figure_days_grain")]


class FiguresAsAt(models.Model):
    """The moment a partnership's materialised figures describe."""

    partnership = models.OneToOneField(Partnership, on_delete=models.CASCADE, related_name="+")
    as_at = models.DateTimeField()
    seconds = models.FloatField(default=0)
