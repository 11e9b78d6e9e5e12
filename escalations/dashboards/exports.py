"""CSV exports of tables and lists. Every export is audited by the view that serves it, carries
no-store, and cannot smuggle a formula into a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterable

from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from escalations.dashboards.tables import Table, child_name
from escalations.models import Pathway, State

# OWASP CSV injection: a cell starting with one of these may run as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    value = str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_response(
    filename: str, header: list[str], rows: Iterable[Iterable]
) -> tuple[HttpResponse, int]:
    """The response and how many data rows it holds (for the audit entry)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    add_never_cache_headers(response)
    response.write("\ufeff")  # so spreadsheet programs read UTF-8
    writer = csv.writer(response)
    writer.writerow([safe_cell(h) for h in header])
    n = 0
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
        n += 1
    return response, n


def table_csv(table: Table, filename: str) -> tuple[HttpResponse, int]:
    rows = (
        [cell.value if cell.numeric and cell.value is not None else cell.text for cell in row]
        for row in table.rows
    )
    return csv_response(filename, table.headers, rows)


LIST_HEADER = [
    "Reference",
    "Child or family",
    "Date of birth",
    "Raised on",
    "Raised by agency",
    "Received by agency",
    "Pathway",
    "Nature of difference",
    "Status",
    "Stage now",
    "Highest stage reached",
    "Due",
    "Resolved on",
]


def list_csv(rows, filename: str) -> tuple[HttpResponse, int]:
    """The filtered list; child details and references only in rows shown in full."""
    pathways = dict(Pathway.choices)
    states = dict(State.choices)

    def local(moment):
        return timezone.localtime(moment).strftime("%d/%m/%Y") if moment else ""

    def line(esc):
        full = esc.shown_in_full
        return [
            esc.reference if full else "Not shared with the partnership",
            child_name(esc) if full else "",
            esc.child_date_of_birth.strftime("%d/%m/%Y")
            if full and esc.child_date_of_birth
            else "",
            local(esc.raised_on),
            esc.raising_agency.name,
            esc.receiving_agency.name,
            pathways.get(esc.pathway, esc.pathway),
            "; ".join(esc.nature_labels()),
            states.get(esc.state, esc.state),
            f"{esc.stage.number}: {esc.stage.name}",
            esc.highest_stage_number,
            local(esc.due_at),
            local(esc.resolved_on),
        ]

    return csv_response(
        filename, LIST_HEADER, (line(esc) for esc in rows.iterator(chunk_size=2000))
    )
