"""Partnerships, their versioned ladders and closure days. Knows nothing of escalations."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Subquery
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from policies.calendar import WorkingCalendar


class TimeUnit(models.TextChoices):
    WORKING_DAYS = "working_days", "working days"
    HOURS = "hours", "hours"
    NONE = "none", "no time limit"


class LimitSource(models.TextChoices):
    POLICY = "policy", "policy"
    LOCAL_DEFAULT = "local-default", "local default"
    NONE = "none", "none"


class Role(models.TextChoices):
    """Roles per membership (SPEC section 2). The first four belong to an agency."""

    PRACTITIONER = "practitioner", "Practitioner"
    LINE_MANAGER = "line_manager", "Line manager / supervisor"
    SAFEGUARDING_LEAD = "safeguarding_lead", "Safeguarding lead"
    SENIOR_MANAGER = "senior_manager", "Head of service / senior manager"
    BUSINESS_MANAGER = "business_manager", "Partnership business manager"
    CHAIR = "chair", "Partnership chair / independent person"
    PARTNERSHIP_ADMIN = "partnership_admin", "Partnership administrator"


AGENCY_ROLES = frozenset(
    {Role.PRACTITIONER, Role.LINE_MANAGER, Role.SAFEGUARDING_LEAD, Role.SENIOR_MANAGER}
)
PARTNERSHIP_ROLES = frozenset({Role.BUSINESS_MANAGER, Role.CHAIR, Role.PARTNERSHIP_ADMIN})
# Agency roles that see every escalation their agency is a party to (SPEC section 3).
AGENCY_OVERSIGHT_ROLES = frozenset({Role.LINE_MANAGER, Role.SAFEGUARDING_LEAD, Role.SENIOR_MANAGER})
# Who approves entry to a stage that needs a safeguarding lead's approval when the raising
# agency has no active safeguarding lead in the portal (a small group, a lead who left), in
# order: its senior managers, else its line managers; never whoever asked. The policies name
# the line manager as the lead's alternative (Kirklees: "the challenging agency's Safeguarding
# Lead and/ or the relevant Line Manager"; Berkshire: "line manager (where there is no
# safeguarding lead ...)"; Pan-Cheshire step 2 "Safeguarding Lead/Line Manager"), but the line
# manager is usually the one asking or acting at the gated stage (Berkshire 2, Pan-Cheshire 2,
# playgroup 3 to 4), so a senior manager (Berkshire: "a senior manager with responsibility for
# safeguarding"; SPEC section 2: a VCF management committee member acts as one) gives the
# independent check the lead would have given, and a line manager approves only where the
# agency has no other senior manager. docs/adr/0007-approval-without-a-safeguarding-lead.md.
APPROVAL_FALLBACK_ROLES = (Role.SENIOR_MANAGER, Role.LINE_MANAGER)


class Partnership(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    reference_prefix = models.CharField(max_length=5, unique=True)
    emergency_summary = models.TextField()
    emergency_contacts = models.JSONField(default=list, blank=True)
    start_at_any_stage = models.BooleanField(default=True)
    allegations = models.TextField(blank=True)
    parents_and_carers = models.TextField(blank=True)
    # Whether the policy requires parents and carers to be told (Pan-Cheshire only): then the
    # escalation closes only once whether they were told is recorded.
    parents_and_carers_required = models.BooleanField(default=False)
    # Where each partnership-wide rule comes from: {rule: {policy_section, quote} or
    # {local_choice: {by, reason}}} (ladders/SCHEMA.md).
    rules = models.JSONField(default=dict, blank=True)
    # What the policy sends to the partnership (issue 15 point 8): the outcome of a
    # resolution at this stage or later (null: none); learning; gaps in policy.
    outcomes_from_stage = models.PositiveSmallIntegerField(null=True, blank=True)
    learning_to_partnership = models.BooleanField(default=False)
    policy_gaps_to_partnership = models.BooleanField(default=False)
    # Whether the policy asks each agency to record the escalation on its own file for the
    # child: then each confirms it, with the date and its file reference.
    child_file_record = models.BooleanField(default=False)
    # Where the policy asks for it "at all stages" (Kirklees), each agency confirms it at each
    # stage too, not only once the escalation is resolved.
    child_file_at_each_stage = models.BooleanField(default=False)
    # The steps whose outcomes the partnership may ask its agencies for (Pan-Cheshire: "may
    # request ... the outcomes of escalations at Steps 2 and 3"); [] where it does not.
    outcomes_on_request_stages = models.JSONField(default=list, blank=True)
    # Agencies that have not confirmed are reminded every so many working days, at most so many
    # times (0: never): a partnership's local choice, no policy gives an interval.
    child_file_reminder_every = models.PositiveSmallIntegerField(default=0)
    child_file_reminders_at_most = models.PositiveSmallIntegerField(default=0)
    default_time_limit_value = models.PositiveSmallIntegerField(default=5)
    default_time_limit_unit = models.CharField(
        max_length=20, choices=TimeUnit.choices, default=TimeUnit.WORKING_DAYS
    )
    reminder_working_days = models.PositiveSmallIntegerField(default=1)
    # The ClosureDay dates as ISO strings, kept in step by the signals below, so that every
    # query that joins the partnership brings its working calendar with it.
    closure_dates_kept = models.JSONField(default=list, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def current_ladder(self) -> Ladder | None:
        return self.ladders.order_by("-version").first()

    def closure_dates(self) -> frozenset[date]:
        return frozenset(date.fromisoformat(day) for day in self.closure_dates_kept)

    def keep_closure_dates(self) -> None:
        """Copy the partnership's ClosureDay rows into closure_dates_kept, here and in the
        database (called whenever a closure day is saved or deleted)."""
        days = sorted(ClosureDay.objects.filter(partnership=self).values_list("date", flat=True))
        self.closure_dates_kept = [day.isoformat() for day in days]
        Partnership.objects.filter(pk=self.pk).update(closure_dates_kept=self.closure_dates_kept)

    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar(self.closure_dates())


class ClosureDay(models.Model):
    """A day the partnership's administrator declares not a working day."""

    partnership = models.ForeignKey(
        Partnership, on_delete=models.PROTECT, related_name="closure_days"
    )
    date = models.DateField()
    reason = models.CharField(max_length=200, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    added_on = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["partnership", "date"], name="one_closure_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.partnership.slug} closed {self.date:%d %B %Y}"


class Ladder(models.Model):
    """One version of a partnership's escalation ladder, as loaded from its data file."""

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="ladders")
    version = models.PositiveIntegerField()
    source_title = models.CharField(max_length=300)
    # Only where the policy states one.
    effective_date = models.DateField(null=True, blank=True)
    review_date = models.DateField(null=True, blank=True)
    content_hash = models.CharField(max_length=64)
    loaded_on = models.DateTimeField(auto_now_add=True)
    # How the policy escalates a child protection conference concern (Kirklees Appendix 3),
    # as the ladder file's ladder.conference_concerns gives it (SCHEMA.md); {} where the
    # policy has no such route.
    conference_concerns = models.JSONField(default=dict, blank=True)
    # Separate processes the policy gives beside the ladder (policies.pathways): Kirklees
    # Appendix 4, given only as a flow chart image and not yet transcribed.
    pathways = models.JSONField(default=list, blank=True)
    # Where the ladder's dates come from (see Partnership.rules).
    rules = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["partnership", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "version"], name="one_ladder_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partnership.slug} ladder v{self.version}"

    def pathways_not_transcribed(self) -> list[dict]:
        return [p for p in self.pathways or [] if not p.get("transcribed")]

    def escalation_stages(self) -> list[Stage]:
        return [stage for stage in self.stages.all() if not stage.after_resolution]

    def last_escalation_stage_number(self) -> int:
        return max(stage.number for stage in self.escalation_stages())


class Stage(models.Model):
    ladder = models.ForeignKey(Ladder, on_delete=models.PROTECT, related_name="stages")
    number = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    who = models.TextField()
    acting_roles = models.JSONField(default=list)
    counterpart_roles = models.JSONField(default=list)
    time_limit_value = models.PositiveSmallIntegerField(null=True, blank=True)
    time_limit_unit = models.CharField(max_length=20, choices=TimeUnit.choices)
    time_limit_source = models.CharField(max_length=20, choices=LimitSource.choices)
    steps = models.JSONField(default=list, blank=True)
    brings_in_partnership = models.BooleanField(default=False)
    record_required = models.BooleanField(default=False)
    approval_required = models.BooleanField(default=False)
    after_resolution = models.BooleanField(default=False)
    # Reached straight from any earlier stage, with the reason (Kirklees step 6: "and/or the
    # discussions raise significant policy issues, the matter should be referred urgently").
    reached_directly = models.BooleanField(default=False)
    guidance = models.TextField(blank=True)
    # The roles that may move an escalation into this stage, where the policy names them
    # (Pan-Cheshire step 3: "escalated by a Senior Manager"); [] where anyone who may
    # escalate may.
    moved_by = models.JSONField(default=list, blank=True)
    # What the stage's clock measures, in words ("the time to raise the issue with the other
    # agency"): the page and the reminders say it, not "deadline to resolve".
    clock_measures = models.TextField(blank=True)
    # Where each of the stage's rules comes from: {rule: {policy_section, quote} or
    # {local_choice: {by, reason}}} (ladders/SCHEMA.md).
    rules = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["ladder", "number"]
        constraints = [
            models.UniqueConstraint(fields=["ladder", "number"], name="one_stage_per_number")
        ]

    def __str__(self) -> str:
        return f"Stage {self.number}: {self.name}"

    def time_limit(self, partnership: Partnership | None = None) -> dict | None:
        """The limit that applies: the policy's, or the partnership default where it is silent."""
        if self.time_limit_source == LimitSource.NONE:
            return None
        if self.time_limit_source == LimitSource.LOCAL_DEFAULT:
            partnership = partnership or self.ladder.partnership
            return {
                "value": partnership.default_time_limit_value,
                "unit": partnership.default_time_limit_unit,
                "source": LimitSource.LOCAL_DEFAULT.value,
            }
        return {
            "value": self.time_limit_value,
            "unit": self.time_limit_unit,
            "source": LimitSource.POLICY.value,
        }

    def time_limit_in_words(self, partnership: Partnership | None = None) -> str:
        limit = self.time_limit(partnership)
        if limit is None:
            return "No time limit"
        unit = TimeUnit(limit["unit"]).label
        if limit["value"] == 1:
            unit = unit.rstrip("s")
        words = f"{limit['value']} {unit}"
        if limit["source"] == LimitSource.LOCAL_DEFAULT:
            words += " (local default: the policy sets no time limit)"
        return words


class DirectoryEntry(models.Model):
    """Who to escalate to: roles and job titles per agency, from a policy's own table
    (Lincolnshire's Senior Liaison Officers). Loaded from policies/directory/<slug>-*.yaml."""

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="directory")
    agency_name = models.CharField(max_length=200)
    role = models.CharField(max_length=200)
    job_title = models.CharField(max_length=200)
    source = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["partnership", "agency_name", "role"]
        verbose_name_plural = "directory entries"

    def __str__(self) -> str:
        return f"{self.agency_name}: {self.job_title}"


@receiver([post_save, post_delete], sender=ClosureDay, dispatch_uid="policies.keep_closure_dates")
def _keep_closure_dates(sender, instance: ClosureDay, **kwargs) -> None:
    # instance.partnership is the caller's own object where it passed one, so that object
    # sees the change at once (deadlines.add_closure_day recalculates with it).
    instance.partnership.keep_closure_dates()


def current_ladders(partnerships) -> models.QuerySet[Ladder]:
    """Each partnership's current ladder, with the partnership, in one query; `partnerships`
    may be a queryset."""
    latest = (
        Ladder.objects.filter(partnership=OuterRef("partnership"))
        .order_by("-version")
        .values("pk")[:1]
    )
    return (
        Ladder.objects.filter(partnership__in=partnerships, pk=Subquery(latest))
        .select_related("partnership")
        .order_by("partnership__name")
    )


def current_stages(partnerships) -> models.QuerySet[Stage]:
    """The escalation stages (not the after-resolution ones) of each partnership's current
    ladder, with the partnership, in one query; `partnerships` may be a queryset."""
    latest = (
        Ladder.objects.filter(partnership=OuterRef("ladder__partnership"))
        .order_by("-version")
        .values("pk")[:1]
    )
    return (
        Stage.objects.filter(
            ladder__partnership__in=partnerships, after_resolution=False, ladder=Subquery(latest)
        )
        .select_related("ladder__partnership")
        .order_by("ladder__partnership__name", "number")
    )
