"""Partnership dashboards, the list behind each figure, the partnership report, the annual
return and their CSV exports. Only the partnership's roles (business manager, chair,
administrator) reach them; anyone else gets the same 404 as for a partnership that does not exist."""

from __future__ import annotations

import dataclasses
from datetime import date
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import caches
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from audit.log import record, record_export
from audit.models import AuditEntry
from cases.models import Person
from cases.people import person_for
from escalations import clock
from escalations.dashboards import materialise, queries
from escalations.dashboards.charts import chart_for
from escalations.dashboards.exports import list_csv, table_csv
from escalations.dashboards.forms import FilterForm, ReferenceData
from escalations.dashboards.tables import (
    FIGURES_CACHE,
    FIGURES_SECONDS,
    annual_return_tables,
    cached_figures,
    child_name,
    dashboard_tables,
    figures_key,
    learning_table,
    partnership_stage,
    report_tables,
)
from escalations.models import PARTNERSHIP_FIGURES_ROLES, Escalation, Pathway
from escalations.services import outcome_requests
from policies.models import Partnership

PAGE_SIZE = 50
PAGES = ("dashboard", "report", "annual-return")


def _person(request: HttpRequest) -> Person | None:
    """The signed-in person with all their memberships (cases.people.person_for: one query
    where the sign-in backend loaded the person with the user, as it does). Also handed to
    user.person, which visible_to and for_partnership_figures read."""
    person = person_for(request.user)
    if person is not None:
        request.user.person = person
    return person


def _partnership(request: HttpRequest, slug: str) -> Partnership:
    person = _person(request)
    if person is not None:
        for m in person.memberships.all():
            if (
                m.partnership_id
                and m.partnership.slug == slug
                and m.role in PARTNERSHIP_FIGURES_ROLES
            ):
                return m.partnership
    raise Http404("No such partnership")


def _filtered(request: HttpRequest, slug: str):
    """The partnership, its reference data and the validated filter form."""
    partnership = _partnership(request, slug)
    ref = ReferenceData.for_partnership(partnership)
    form = FilterForm(request.GET, reference=ref)
    return ref, form


def _base(request: HttpRequest, ref: ReferenceData):
    return Escalation.objects.for_partnership_figures(request.user, ref.partnership)


def _context(ref: ReferenceData, form: FilterForm, page: str, **extra) -> dict:
    query = form.data.urlencode() if hasattr(form.data, "urlencode") else ""
    return {
        "partnership": ref.partnership,
        "ref": ref,
        "form": form,
        "page": page,
        "query": query,
        "active_filters": active_filters(form, ref) if form.is_bound and not form.errors else [],
        **extra,
    }


def _invalid(request, template: str, context: dict) -> HttpResponse:
    return render(request, template, context, status=400)


def _sections(tables: dict) -> list[dict]:
    return [{"table": t, "chart": chart_for(t)} for t in tables.values()]


def _rendered(page: str, ref: ReferenceData, filters, build, *, keep=()):
    """(computed at, the figures' tables and charts as HTML, the tables named in keep, and
    every table when computed by this request, else None).

    The HTML is the same for everyone who may see the figures, and rendering it was most of a
    dashboard's time: it is cached with the figures."""
    key = f"{figures_key(page, ref, filters)}:html"
    hit = caches[FIGURES_CACHE].get(key)
    if hit is not None:
        return (*hit, None)
    computed_at, tables = cached_figures(page, ref, filters, build)
    shown = {name: t for name, t in tables.items() if name not in keep}
    html = render_to_string(
        "dashboards/_sections.html",
        {
            "sections": _sections(shown),
            "partnership": ref.partnership,
            "page": page,
            "query": _list_query(filters),
        },
    )
    value = (computed_at, html, {name: tables[name] for name in keep})
    caches[FIGURES_CACHE].set(key, value, FIGURES_SECONDS)
    return (*value, tables)


# What a manager asks first, on the dashboard itself; every other table has a page of its own
# (dashboard_table), linked from the dashboard, so the page stays short.
LEADING_TABLES = ("open-by-stage", "trend-quarter")


@require_GET
@login_required
@never_cache
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    ref, form = _filtered(request, slug)
    context = _context(ref, form, "dashboard")
    if not form.is_valid():
        return _invalid(request, "dashboards/dashboard.html", context)
    filters = form.filters()
    computed_at, tables = _dashboard_figures(
        filters.apply(_base(request, ref), now=timezone.now()), ref, filters, timezone.now()
    )
    context.update(
        computed_at=timezone.localtime(computed_at),
        headline=tables["headline"],
        tables=tables,
        leading=_sections({name: tables[name] for name in LEADING_TABLES if name in tables}),
        more=[
            {"slug": name, "caption": t.caption}
            for name, t in tables.items()
            if name != "headline" and name not in LEADING_TABLES
        ],
        list_query=_list_query(filters),
        refresh_minutes=max(1, round(settings.FIGURES_REFRESH_SECONDS / 60)),
    )
    return render(request, "dashboards/dashboard.html", context)


@require_GET
@login_required
@never_cache
def dashboard_table(request: HttpRequest, slug: str, table: str) -> HttpResponse:
    """One of the dashboard's longer tables on a page of its own, with the same filters."""
    ref, form = _filtered(request, slug)
    context = _context(ref, form, "dashboard")
    if not form.is_valid():
        return _invalid(request, "dashboards/dashboard.html", context)
    filters = form.filters()
    now = timezone.now()
    computed_at, tables = _dashboard_figures(
        filters.apply(_base(request, ref), now=now), ref, filters, now
    )
    if table == "learning":
        found = learning_table(filters.apply(_base(request, ref), now=now), user=request.user)
        # Outcomes the agencies sent when asked (Pan-Cheshire steps 2-3), summaries only.
        context["outcome_answers"] = list(outcome_requests.answered_for(ref.partnership))
    elif table in tables and table != "headline":
        found = tables[table]
    else:
        raise Http404("No such table")
    context.update(
        computed_at=timezone.localtime(computed_at),
        section=_sections({table: found})[0],
        list_query=_list_query(filters),
    )
    return render(request, "dashboards/table_page.html", context)


@require_GET
@login_required
@never_cache
def escalation_list(request: HttpRequest, slug: str) -> HttpResponse:
    ref, form = _filtered(request, slug)
    context = _context(ref, form, "list")
    if not form.is_valid():
        return _invalid(request, "dashboards/list.html", context)
    filters = form.filters()
    qs = filters.apply(_base(request, ref), now=timezone.now())
    page = queries.page_of(qs, request.user, request.GET.get("page"), PAGE_SIZE)
    shown = [present_row(esc) for esc in page.rows]
    audit_list_read(request, ref.partnership, sum(row["full"] for row in shown))
    context.update(
        page_obj=page,
        rows=shown,
        list_query=_list_query(filters),
        page_links=_page_links(filters, page),
    )
    return render(request, "dashboards/list.html", context)


@require_GET
@login_required
@never_cache
def report(request: HttpRequest, slug: str) -> HttpResponse:
    ref, form = _filtered(request, slug)
    context = _context(ref, form, "report")
    if not form.is_valid():
        return _invalid(request, "dashboards/report.html", context)
    filters = form.filters()
    qs = filters.apply(_base(request, ref), now=timezone.now())
    computed_at, html, _, _ = _rendered(
        "report", ref, filters, lambda: report_tables(qs, ref=ref, filters=filters)
    )
    first = partnership_stage(ref)
    reached = queries.reached_stages(qs, first)
    page = queries.page_of(reached, request.user, request.GET.get("page"), PAGE_SIZE)
    shown = [present_row(esc) for esc in page.rows]
    audit_list_read(request, ref.partnership, sum(row["full"] for row in shown))
    reached_filters = dataclasses.replace(filters, reached_stage=first)
    context.update(
        computed_at=timezone.localtime(computed_at),
        sections_html=html,
        partnership_stage=first,
        partnership_stage_name=ref.stage_name(first),
        reported_stages=[n for n in ref.stage_numbers if 1 < n < first],
        page_obj=page,
        rows=shown,
        reached_query=_list_query(reached_filters),
        page_links=_page_links(filters, page),
    )
    return render(request, "dashboards/report.html", context)


def financial_year_before(today: date) -> tuple[date, date]:
    """The last complete April-to-March year: the period most partnerships report on."""
    end_year = today.year if today.month >= 4 else today.year - 1
    return date(end_year - 1, 4, 1), date(end_year, 3, 31)


def _annual_filters(form: FilterForm):
    filters = form.filters()
    if not filters.date_from and not filters.date_to:
        start, end = financial_year_before(timezone.localdate())
        filters = dataclasses.replace(filters, date_from=start, date_to=end)
    return filters


@require_GET
@login_required
@never_cache
def annual_return(request: HttpRequest, slug: str) -> HttpResponse:
    ref, form = _filtered(request, slug)
    context = _context(ref, form, "annual-return")
    if not form.is_valid():
        return _invalid(request, "dashboards/annual_return.html", context)
    filters = _annual_filters(form)
    qs = filters.apply(_base(request, ref), now=timezone.now())
    computed_at, html, kept, _ = _rendered(
        "annual-return",
        ref,
        filters,
        lambda: annual_return_tables(qs, ref=ref, filters=filters, now=timezone.now()),
        keep=("under-use",),
    )
    under_use = kept["under-use"]
    context.update(
        computed_at=timezone.localtime(computed_at),
        sections_html=html,
        under_use=under_use,
        period=(filters.date_from, filters.date_to),
        export_query=_list_query(filters),
    )
    return render(request, "dashboards/annual_return.html", context)


@require_GET
@login_required
@never_cache
def export_list(request: HttpRequest, slug: str) -> HttpResponse:
    ref, form = _filtered(request, slug)
    if not form.is_valid():
        return _invalid(request, "dashboards/list.html", _context(ref, form, "list"))
    filters = form.filters()
    rows = queries.list_rows(filters.apply(_base(request, ref), now=timezone.now()), request.user)
    response, n = list_csv(rows, f"{ref.partnership.slug}-escalations.csv")
    record_export(
        request, "partnership escalation list CSV", partnership_id=ref.partnership.pk, rows=n
    )
    return response


@require_GET
@login_required
@never_cache
def export_table(request: HttpRequest, slug: str, page: str, table: str) -> HttpResponse:
    if page not in PAGES:
        raise Http404("No such page")
    ref, form = _filtered(request, slug)
    if not form.is_valid():
        return _invalid(request, "dashboards/dashboard.html", _context(ref, form, "dashboard"))
    now = timezone.now()
    filters = _annual_filters(form) if page == "annual-return" else form.filters()
    qs = filters.apply(_base(request, ref), now=now)
    if page == "annual-return":
        _, tables = _annual_figures(qs, ref, filters)
    elif page == "report":
        _, tables = _report_figures(qs, ref, filters)
    else:
        _, tables = _dashboard_figures(qs, ref, filters, now)
        tables = {**tables, "learning": learning_table(qs, user=request.user)}
    if table not in tables:
        raise Http404("No such table")
    response, n = table_csv(tables[table], f"{ref.partnership.slug}-{page}-{table}.csv")
    record_export(request, f"{page} table {table} CSV", partnership_id=ref.partnership.pk, rows=n)
    return response


def _dashboard_figures(qs, ref, filters, now):
    """From the materialised summary rows where they answer the filters (as at their last
    refresh, the moment the page shows), else counted from the escalations."""
    as_at = materialise.as_at(ref.partnership) if materialise.serves(filters) else None
    if as_at is None:
        return cached_figures(
            "dashboard",
            ref,
            filters,
            lambda: dashboard_tables(qs, ref=ref, filters=filters, now=now),
        )
    source = materialise.Materialised(
        ref.partnership, filters, known_agencies=[a.pk for a in ref.agencies]
    )
    return cached_figures(
        f"dashboard@{as_at.timestamp()}",
        ref,
        filters,
        lambda: dashboard_tables(qs, ref=ref, filters=filters, now=as_at, source=source),
        computed_at=as_at,
    )


def _report_figures(qs, ref, filters):
    return cached_figures(
        "report", ref, filters, lambda: report_tables(qs, ref=ref, filters=filters)
    )


def _annual_figures(qs, ref, filters):
    return cached_figures(
        "annual-return",
        ref,
        filters,
        lambda: annual_return_tables(qs, ref=ref, filters=filters, now=timezone.now()),
    )


@require_GET
@login_required
def baseline(request: HttpRequest) -> HttpResponse:
    """A plain page with no data: the yardstick the benchmark compares real pages against."""
    return render(request, "dashboards/baseline.html")


def _list_query(filters: queries.Filters) -> str:
    return urlencode(filters.params())


def _page_links(filters: queries.Filters, page) -> dict:
    def link(number):
        return "?" + urlencode({**filters.params(), "page": number})

    return {
        "previous": link(page.number - 1) if page.has_previous else "",
        "next": link(page.number + 1) if page.has_next else "",
    }


def present_row(esc) -> dict:
    """What a list row shows; child details and the reference only when shown in full."""
    return {
        "full": esc.shown_in_full,
        "reference": esc.reference if esc.shown_in_full else "",
        "child": child_name(esc),
        "raised_on": timezone.localtime(esc.raised_on) if esc.raised_on else None,
        "raising_agency": esc.raising_agency.name,
        "receiving_agency": esc.receiving_agency.name,
        "pathway": Pathway(esc.pathway).label if esc.pathway in Pathway.values else esc.pathway,
        "natures": esc.nature_labels(),
        "state": esc.get_state_display(),
        "stage": f"{esc.stage.number}: {esc.stage.name}",
        "due_at": timezone.localtime(esc.due_at) if esc.due_at and esc.is_live else None,
        "overdue": clock.is_overdue(esc, timezone.now()),
    }


def active_filters(form: FilterForm, ref: ReferenceData) -> list[dict]:
    """The filters in force, in words, each with a link that removes it."""
    data = form.cleaned_data
    words = []
    for name, field in form.fields.items():
        value = data.get(name)
        if value in (None, "", False):
            continue
        if hasattr(field, "choices"):
            shown = dict(field.choices).get(str(value), value)
        elif isinstance(value, date):
            shown = value.strftime("%-d %B %Y")
        else:
            shown = "yes"
        rest = {k: v for k, v in form.data.items() if k not in (name, "page") and v}
        words.append({"label": field.label, "value": shown, "remove": "?" + urlencode(rest)})
    return words


def audit_list_read(request: HttpRequest, partnership: Partnership, shown: int) -> None:
    if shown:
        record(
            request,
            kind=AuditEntry.Kind.READ,
            what=f"partnership list ({shown} rows identifying a child)",
            partnership_id=partnership.pk,
        )
