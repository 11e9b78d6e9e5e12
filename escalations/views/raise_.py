"""Raising a challenge as GOV.UK question pages, answers kept in a draft between pages.

Which partnership: the child's home partnership decides the ladder and the emergency route,
and the immediate-risk question comes first, before any child details. So the partnership is
settled before it: it is the raising agency's partnership when the agency has one, and only
an agency in several partnerships (a police force, an NHS trust) is asked "where does the
child live?" first (docs/adr/0004-raise-journey.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cases import emergency
from cases.models import Agency, Membership, Person
from escalations import presenters, services
from escalations.forms import raise_ as q
from escalations.models import DraftChallenge, Nature, Pathway
from escalations.views.common import current_person, visible_escalation
from policies.models import Partnership, Role


@dataclass(frozen=True)
class Step:
    slug: str
    form: type[q.Question] | None  # None: a page that only informs
    applies: Callable[[dict], bool] = lambda answers: True
    answered_by: str = ""  # the answer that shows the step is done


def _yes(key: str) -> Callable[[dict], bool]:
    return lambda answers: answers.get(key) == "yes"


def _may_start_later(answers: dict) -> bool:
    if answers.get("immediate_risk") != "yes":
        return False
    partnership = Partnership.objects.filter(pk=answers.get("partnership")).first()
    return bool(partnership and partnership.start_at_any_stage)


STEPS = [
    Step("agency", q.AgencyQuestion, lambda a: a.get("_agency_count", 1) > 1, "raising_agency"),
    Step(
        "partnership",
        q.PartnershipQuestion,
        lambda a: a.get("_partnership_count", 1) > 1,
        "partnership",
    ),
    Step("immediate-risk", q.ImmediateRiskQuestion, answered_by="immediate_risk"),
    Step("emergency", None, _yes("immediate_risk"), "_emergency_seen"),
    Step("start-stage", q.StartStageQuestion, _may_start_later, "start_stage"),
    Step("conduct", q.ConductQuestion, answered_by="conduct"),
    Step("allegations", None, _yes("conduct"), "_never"),
    Step("child", q.ChildQuestion, answered_by="child_kind"),
    Step("other-agency", q.OtherAgencyQuestion, answered_by="receiving_agency"),
    Step("practitioner", q.PractitionerQuestion, answered_by="_practitioner_seen"),
    Step("pathway", q.PathwayQuestion, answered_by="pathway"),
    Step("nature", q.NatureQuestion, answered_by="natures"),
    Step("details", q.DetailsQuestion, answered_by="details"),
    Step("outcome", q.OutcomeQuestion, answered_by="outcome_sought"),
    Step("interim-safety", q.InterimSafetyQuestion, answered_by="interim_safety"),
    Step("discussion-date", q.DiscussionDateQuestion, answered_by="initial_discussion_on"),
]
BY_SLUG = {step.slug: step for step in STEPS}


def _applicable(answers: dict) -> list[Step]:
    return [step for step in STEPS if step.applies(answers)]


def first_unanswered(answers: dict) -> Step | None:
    for step in _applicable(answers):
        if step.answered_by not in answers:
            return step
    return None


def _draft(request: HttpRequest, draft_id: int) -> tuple[Person, DraftChallenge]:
    person = current_person(request)
    draft = (
        DraftChallenge.objects.owned_by(person)
        .select_related("escalation")
        .filter(pk=draft_id)
        .first()
    )
    if draft is None:
        raise Http404
    return person, draft


def _url(draft: DraftChallenge, slug: str, change: bool = False) -> str:
    return f"/raise/drafts/{draft.pk}/{slug}/" + ("?change=1" if change else "")


def _settle_agency_and_partnership(person: Person, answers: dict) -> None:
    """Fill in what needs no question: the only agency, the agency's only partnership."""
    agencies = q.agencies_of(person)
    answers["_agency_count"] = len(agencies)
    if len(agencies) == 1:
        answers["raising_agency"] = agencies[0][0]
    agency = Agency.objects.filter(pk=answers.get("raising_agency")).first()
    if agency is not None:
        partnerships = list(agency.partnerships.values_list("pk", flat=True))
        answers["_partnership_count"] = len(partnerships)
        if len(partnerships) == 1:
            answers["partnership"] = partnerships[0]


@login_required
@never_cache
def start(request: HttpRequest) -> HttpResponse:
    person = current_person(request)
    if not q.agencies_of(person):
        raise Http404
    if request.method == "POST":
        answers: dict = {}
        _settle_agency_and_partnership(person, answers)
        # scoped-lookup: allowed (a new draft, owned by the person signed in)
        draft = DraftChallenge.objects.create(owner=person, answers=answers)
        return redirect(_url(draft, first_unanswered(answers).slug))
    drafts = list(DraftChallenge.objects.owned_by(person).unfinished()[:20])
    return render(request, "escalations/raise/start.html", {"drafts": drafts})


@login_required
@never_cache
def resume(request: HttpRequest, draft_id: int) -> HttpResponse:
    _, draft = _draft(request, draft_id)
    if draft.escalation_id:
        return redirect("raise-confirmation", reference=draft.escalation.reference)
    step = first_unanswered(draft.answers)
    return redirect(_url(draft, step.slug) if step else f"/raise/drafts/{draft.pk}/check/")


def _back(draft: DraftChallenge, slug: str) -> str:
    steps = [s for s in _applicable(draft.answers) if s.slug not in ("allegations",)]
    slugs = [s.slug for s in steps]
    if slug in slugs and slugs.index(slug) > 0:
        return _url(draft, slugs[slugs.index(slug) - 1])
    return "/raise/"


@login_required
@never_cache
def question(request: HttpRequest, draft_id: int, slug: str) -> HttpResponse:
    person, draft = _draft(request, draft_id)
    if draft.escalation_id:
        return redirect("raise-confirmation", reference=draft.escalation.reference)
    step = BY_SLUG.get(slug)
    if step is None or not step.applies(draft.answers):
        raise Http404
    change = request.GET.get("change") == "1"
    answers = dict(draft.answers)
    partnership = Partnership.objects.filter(pk=answers.get("partnership")).first()
    context = {
        "draft": draft,
        "step": step,
        "back": f"/raise/drafts/{draft.pk}/check/" if change else _back(draft, slug),
        "partnership": partnership,
    }
    if step.form is None and slug == "emergency":
        context.update(emergency_contacts(answers, partnership))
    if step.form is None:
        # The emergency route and the allegations procedure: pages to read, then go on.
        if request.method == "POST" and slug == "emergency":
            answers["_emergency_seen"] = True
            return _save_and_go_on(draft, answers, change)
        if request.method == "POST" and slug == "allegations":
            draft.delete()
            return redirect("home")
        return render(request, f"escalations/raise/{slug}.html", context)
    if request.method == "POST" and "save_for_later" in request.POST:
        form = step.form(request.POST, answers=answers, person=person)
        return _save_for_later(draft, answers, step, form)
    if request.method == "POST":
        form = step.form(request.POST, answers=answers, person=person)
        if form.is_valid():
            answers.update(form.to_answers())
            if slug == "practitioner":
                answers["_practitioner_seen"] = True
            if slug == "agency":
                answers.pop("partnership", None)
                _settle_agency_and_partnership(person, answers)
            if slug == "immediate-risk" and answers["immediate_risk"] == "no":
                answers.pop("start_stage", None)
                answers.pop("_emergency_seen", None)
            return _save_and_go_on(draft, answers, change)
    else:
        initial_answers = dict(answers)
        if slug == "discussion-date" and "initial_discussion_on" not in answers:
            initial_answers["initial_discussion_on"] = timezone.localdate().isoformat()
        form = step.form(answers=initial_answers, person=person)
    context["form"] = form
    context.update(_layout(form))
    return render(request, "escalations/raise/question.html", context)


def emergency_contacts(answers: dict, partnership: Partnership | None) -> dict:
    """The policy's contacts made into people and numbers to act on now (cases.emergency),
    and, where the policy names no one in the raiser's own agency, its safeguarding lead and
    line manager by name (the policies send an immediate risk to them first)."""
    agency = Agency.objects.filter(pk=answers.get("raising_agency")).first()
    contacts = emergency.contacts_for(partnership, agency) if partnership else []
    names_own_people = any(
        c.get("in_your_agency") for c in (partnership.emergency_contacts if partnership else [])
    )
    leads = []
    if agency and not names_own_people:
        leads = sorted(
            Membership.objects.filter(
                agency=agency,
                role__in=[Role.SAFEGUARDING_LEAD, Role.LINE_MANAGER],
                person__user__is_active=True,
            )
            .select_related("person")
            .order_by("person__full_name"),
            # Leads first ("safeguarding_lead" sorts after "line_manager": order them here).
            key=lambda m: m.role != Role.SAFEGUARDING_LEAD,
        )
    names_directory = any(c.agencies or c.number_not_set for c in contacts)
    return {
        "raising_agency": agency,
        "contacts": contacts,
        "leads": leads,
        "social_care": (
            emergency.social_care_contacts(partnership)
            if partnership and not names_directory
            else []
        ),
    }


def _layout(form: q.Question) -> dict:
    """The field that is the page's heading, a conditional reveal, and the rest."""
    conditional = form["nature_other"] if "nature_other" in form.fields else None
    heading = form[form.heading_field] if form.heading_field else None
    skip = {form.heading_field, "nature_other"}
    return {
        "heading": heading,
        "conditional": conditional,
        "others": [form[name] for name in form.fields if name not in skip],
    }


def _save_for_later(
    draft: DraftChallenge, answers: dict, step: Step, form: q.Question
) -> HttpResponse:
    """Save and come back later: keep what was typed on this page, then confirm. A page
    answered in full counts as answered; one with a mistake keeps its valid answers, without
    counting as answered, so the person is brought back to it to finish it."""
    complete = form.is_valid()
    typed = form.to_answers()
    if not complete:
        typed.pop(step.answered_by, None)
    answers.update(typed)
    if complete and step.slug == "practitioner":
        answers["_practitioner_seen"] = True
    draft.answers = answers
    draft.updated_on = timezone.now()
    draft.save(update_fields=["answers", "updated_on"])
    return redirect(f"/raise/drafts/{draft.pk}/saved/" + ("" if complete else "?unfinished=1"))


@login_required
@never_cache
def saved(request: HttpRequest, draft_id: int) -> HttpResponse:
    """The confirmation after saving a draft: it is kept, and where to find it again."""
    _, draft = _draft(request, draft_id)
    if draft.escalation_id:
        return redirect("raise-confirmation", reference=draft.escalation.reference)
    context = {"draft": draft, "unfinished": request.GET.get("unfinished") == "1"}
    return render(request, "escalations/raise/saved.html", context)


def _save_and_go_on(draft: DraftChallenge, answers: dict, change: bool) -> HttpResponse:
    draft.answers = answers
    draft.updated_on = timezone.now()
    draft.save(update_fields=["answers", "updated_on"])
    if answers.get("conduct") == "yes":
        return redirect(_url(draft, "allegations"))
    step = first_unanswered(answers)
    if step is None:
        return redirect(f"/raise/drafts/{draft.pk}/check/")
    return redirect(_url(draft, step.slug, change=change))


def summary_rows(draft: DraftChallenge) -> list[dict]:
    """Check-your-answers rows, each with the page that changes it."""
    a = draft.answers
    agency = Agency.objects.filter(pk=a.get("raising_agency")).first()
    other = Agency.objects.filter(pk=a.get("receiving_agency")).first()
    partnership = Partnership.objects.filter(pk=a.get("partnership")).first()
    receiving = Person.objects.filter(pk=a.get("receiving_person")).first()
    kind = {"child": "A child", "unborn": "An unborn baby", "family": "A family group"}
    natures = [Nature(n).label for n in a.get("natures", []) if n in Nature.values]
    if a.get("nature_other") and Nature.OTHER in a.get("natures", []):
        natures.append(f"Other: {a['nature_other']}")
    dob = a.get("date_of_birth")
    rows = [
        (
            "Your agency",
            agency.name if agency else "",
            "agency" if a.get("_agency_count", 1) > 1 else "",
        ),
        (
            "Partnership",
            partnership.name if partnership else "",
            "partnership" if a.get("_partnership_count", 1) > 1 else "",
        ),
        (
            "Immediate risk of significant harm",
            (a.get("immediate_risk") or "").capitalize(),
            "immediate-risk",
        ),
    ]
    if a.get("start_stage"):
        rows.append(("Starting stage", f"Stage {a['start_stage']}", "start-stage"))
    rows += [
        ("About a person's conduct", (a.get("conduct") or "").capitalize(), "conduct"),
        ("About", kind.get(a.get("child_kind"), ""), "child"),
        ("Name", " ".join(p for p in (a.get("given_names"), a.get("family_name")) if p), "child"),
        ("Date of birth", _date_words(dob) if dob else "Not given", "child"),
        ("Address", a.get("address") or "Not given", "child"),
        ("Agency challenged", other.name if other else "", "other-agency"),
        (
            "Practitioner or team",
            ", ".join(
                p
                for p in (receiving.full_name if receiving else "", a.get("receiving_team", ""))
                if p
            )
            or "Not known",
            "practitioner",
        ),
        (
            "Pathway",
            Pathway(a["pathway"]).label if a.get("pathway") in Pathway.values else "",
            "pathway",
        ),
        ("Nature of the difference", "\n".join(natures), "nature"),
        ("Details", a.get("details", ""), "details"),
        ("Outcome sought", a.get("outcome_sought", ""), "outcome"),
        ("Keeping the child safe meanwhile", a.get("interim_safety", ""), "interim-safety"),
        (
            "Initial discussion",
            _date_words(a["initial_discussion_on"]) if a.get("initial_discussion_on") else "",
            "discussion-date",
        ),
    ]
    return [
        {"key": key, "value": value, "href": _url(draft, slug, change=True) if slug else ""}
        for key, value, slug in rows
    ]


def _date_words(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%B %Y}"


def _raise(draft: DraftChallenge, person: Person):
    a = draft.answers
    partnership = Partnership.objects.get(pk=a["partnership"])
    receiving_person = Person.objects.filter(
        pk=a.get("receiving_person"), memberships__agency=a.get("receiving_agency")
    ).first()
    return services.raise_escalation(
        by=person,
        child=services.ChildDetails(
            home_partnership=partnership,
            given_names=a.get("given_names", "").strip(),
            family_name=a.get("family_name", "").strip(),
            date_of_birth=date.fromisoformat(a["date_of_birth"])
            if a.get("date_of_birth")
            else None,
            address=a.get("address", "").strip(),
            is_unborn=a.get("child_kind") == "unborn",
            is_family_group=a.get("child_kind") == "family",
        ),
        raising_agency=Agency.objects.get(pk=a["raising_agency"]),
        receiving_agency=Agency.objects.get(pk=a["receiving_agency"]),
        receiving_person=receiving_person,
        receiving_team=a.get("receiving_team", ""),
        pathway=a["pathway"],
        natures=a["natures"],
        nature_other=a.get("nature_other", ""),
        details=a["details"],
        outcome_sought=a["outcome_sought"],
        interim_safety=a["interim_safety"],
        initial_discussion_on=date.fromisoformat(a["initial_discussion_on"]),
        immediate_risk=a.get("immediate_risk") == "yes",
        start_stage_number=int(a.get("start_stage") or 1),
    )


@login_required
@never_cache
def check(request: HttpRequest, draft_id: int) -> HttpResponse:
    person, draft = _draft(request, draft_id)
    if draft.escalation_id:
        return redirect("raise-confirmation", reference=draft.escalation.reference)
    missing = first_unanswered(draft.answers)
    if missing is not None or draft.answers.get("conduct") == "yes":
        return redirect(_url(draft, missing.slug if missing else "allegations"))
    error = ""
    if request.method == "POST":
        try:
            # The draft row is locked and consumed in the same transaction as the raise: a
            # second submit waits, then finds it consumed and lands on the confirmation.
            with transaction.atomic():
                locked = (
                    DraftChallenge.objects.owned_by(person).select_for_update().get(pk=draft.pk)
                )
                if locked.escalation_id is None:
                    locked.escalation = _raise(locked, person)
                    locked.save(update_fields=["escalation"])
                reference = locked.escalation.reference
        except services.ActionRefused as refused:
            error = str(refused)
        else:
            return redirect("raise-confirmation", reference=reference)
    return render(
        request,
        "escalations/raise/check.html",
        {
            "draft": draft,
            "rows": summary_rows(draft),
            "error": error,
            "back": _back_from_check(draft),
        },
    )


def _back_from_check(draft: DraftChallenge) -> str:
    steps = [s for s in _applicable(draft.answers) if s.slug != "allegations"]
    return _url(draft, steps[-1].slug)


@login_required
@never_cache
@require_POST
def delete(request: HttpRequest, draft_id: int) -> HttpResponse:
    _, draft = _draft(request, draft_id)
    if draft.escalation_id is None:
        draft.delete()
    return redirect("home")


@login_required
@never_cache
def confirmation(request: HttpRequest, reference: str) -> HttpResponse:
    escalation = visible_escalation(request, reference)
    calendar = escalation.partnership.calendar()
    return render(
        request,
        "escalations/raise/confirmation.html",
        {
            "escalation": escalation,
            "deadline": presenters.deadline(escalation, now=timezone.now(), calendar=calendar),
        },
    )
