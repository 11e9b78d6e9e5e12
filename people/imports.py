"""Bulk import and export of people (issue 19, point 5).

A file (CSV, or an Excel workbook read with openpyxl) of name, email, agency, role and job
title is checked whole before anything is stored: every row gets its result, every problem its
row and column. Then either every row is valid and all are imported, or the administrator
confirms the valid rows only. Either way it is one transaction: nothing is half-stored.
Importing the same file again changes nothing (each row says "No change"). A cell that starts
like a formula (= + - @, a tab or a line break) is refused, never stored; the export (tablib)
neutralises such cells as every export of the portal does.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field

import tablib
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q

from cases.models import Membership, Person
from escalations.dashboards.exports import FORMULA_STARTS, safe_cell
from people import accounts, invitations
from people.audit import audited
from people.invitations import RoleSpec
from people.models import Invitation, InvitedRole
from people.scope import Can, Refused, Scope
from policies.models import AGENCY_ROLES, Role

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 20
# Column key -> (label, header texts accepted, required).
COLUMNS = {
    "name": ("Name", {"name", "full name"}, True),
    "email": ("Email", {"email", "email address"}, True),
    "agency": ("Agency", {"agency", "agency or partnership"}, True),
    "role": ("Role", {"role"}, True),
    "job_title": ("Job title", {"job title", "job_title", "title"}, False),
    # The export's column: a row marked "Left" is a leaver, never re-invited by an import.
    "status": ("Status", {"status"}, False),
}
EXPORT_HEADER = [label for label, _, _ in COLUMNS.values()]


class FileRefused(Exception):
    """The file as a whole cannot be read; the message says why and what to do."""


# Each role by its value, its label, and each part of its label ("Line manager / supervisor").
ROLE_WORDS = {
    word.strip().lower(): role
    for role in Role
    for word in [role.value, role.value.replace("_", " "), role.label, *role.label.split("/")]
}


# What importing a row does: invite a new address (in bulk), add a role to an account or to an
# invitation already waiting (one at a time), change a job title, or nothing.
INVITE, ADD_ROLE, JOB_TITLE = "invite", "add role", "job title"


@dataclass
class Row:
    number: int  # as a spreadsheet numbers it: the header is row 1
    values: dict[str, str]
    errors: list[tuple[str, str]] = field(default_factory=list)
    outcome: str = ""  # in words, for the preview
    action: str = ""  # INVITE, ADD_ROLE, JOB_TITLE, or "" for no change
    spec: RoleSpec | None = None
    person: Person | None = None  # the account the address already has, if any
    membership: Membership | None = None  # the role whose job title changes

    def error(self, column: str, message: str) -> None:
        self.errors.append((COLUMNS[column][0], message))

    @property
    def email(self) -> str:
        return self.values.get("email", "").strip().lower()

    @property
    def changes(self) -> bool:
        return not self.errors and bool(self.action)


@dataclass
class Checked:
    filename: str
    rows: list[Row]

    @property
    def valid(self) -> list[Row]:
        return [r for r in self.rows if not r.errors]

    @property
    def with_errors(self) -> list[Row]:
        return [r for r in self.rows if r.errors]

    @property
    def to_change(self) -> list[Row]:
        return [r for r in self.rows if r.changes]

    def payload(self) -> dict:
        """The rows as read, for carrying from the preview to the confirmation (signed)."""
        return {
            "filename": self.filename,
            "rows": [[r.number] + [r.values.get(k, "") for k in COLUMNS] for r in self.rows],
        }


def rows_from(payload: dict) -> tuple[str, list[Row]]:
    """The file's name and rows back from Checked.payload(), to be checked again."""
    rows = [
        Row(int(number), dict(zip(COLUMNS, values, strict=True)))
        for number, *values in payload["rows"]
    ]
    return str(payload["filename"]), rows


# --- reading --------------------------------------------------------------------------------


def read(upload) -> tuple[str, list[list[str]]]:
    """The file's name and its rows of text cells (the header first)."""
    name = (upload.name or "").rsplit("/", 1)[-1][:100]
    if upload.size > MAX_BYTES:
        raise FileRefused("The file must be smaller than 5 MB.")
    data = upload.read()
    if name.lower().endswith(".csv"):
        return name, _read_csv(data)
    if name.lower().endswith(".xlsx"):
        return name, _read_xlsx(data)
    raise FileRefused("The file must be a CSV file (.csv) or an Excel workbook (.xlsx).")


def _read_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's plain "CSV (Comma delimited)" on Windows.
        text = data.decode("cp1252", errors="replace")
    try:
        rows = []
        for row in csv.reader(io.StringIO(text, newline="")):
            rows.append(row[:MAX_COLUMNS])
            if len(rows) > MAX_ROWS + 1:
                break
    except csv.Error as exc:
        raise FileRefused(f"The file could not be read as CSV ({exc}).") from exc
    return rows


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        # data_only=False: a formula cell reads as its formula ("=..."), and so is refused.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileRefused("The file could not be read as an Excel workbook (.xlsx).") from exc
    rows = []
    try:
        for values in book.active.iter_rows(max_col=MAX_COLUMNS, values_only=True):
            rows.append(["" if v is None else str(v) for v in values])
            if len(rows) > MAX_ROWS + 1:
                break
    finally:
        book.close()
    return rows


def columns_of(header: list[str]) -> dict[str, int]:
    """Which column holds what; refuses a file without the required columns."""
    found: dict[str, int] = {}
    for index, text in enumerate(header):
        words = re.sub(r"\s+", " ", text.strip().lower().lstrip("\ufeff"))
        for key, (_, names, _) in COLUMNS.items():
            if words in names and key not in found:
                found[key] = index
    missing = [
        label for key, (label, _, required) in COLUMNS.items() if required and key not in found
    ]
    if missing:
        raise FileRefused(
            f"The first row must name the columns: Name, Email, Agency, Role (and Job title "
            f"if you have it). This file has no {' or '.join(missing)} column."
        )
    return found


def rows_of(table: list[list[str]]) -> list[Row]:
    if not table:
        raise FileRefused("The file is empty.")
    if len(table) > MAX_ROWS + 1:
        raise FileRefused(f"The file has more than {MAX_ROWS} rows: split it into smaller files.")
    where = columns_of(table[0])
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {key: cells[i] if i < len(cells) else "" for key, i in where.items()}
        if any(v.strip() for v in values.values()):
            rows.append(Row(number, values))
    if not rows:
        raise FileRefused("The file has a header row but no people in it.")
    return rows


# --- checking -------------------------------------------------------------------------------


def formula_like(value: str) -> str | None:
    """How the cell starts, in words, if a spreadsheet would take it for a formula."""
    for text in (value, value.strip(" ")):
        if text.startswith(FORMULA_STARTS):
            return {"\t": "a tab", "\r": "a line break"}.get(text[0], f"“{text[0]}”")
    return None


def check(filename: str, rows: list[Row], scope: Scope) -> Checked:
    """Every row's result, or every problem in it, by column; nothing is stored."""
    scope.require(Can.IMPORT)
    agencies = {_words(a.name): a for a in scope.agencies()}
    partnership = scope.partnership
    for row in rows:
        _check_cells(row, scope, agencies, partnership)
    _outcomes([r for r in rows if not r.errors])
    return Checked(filename, rows)


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def _check_cells(row: Row, scope: Scope, agencies: dict, partnership) -> None:
    for key, value in row.values.items():
        start = formula_like(value)
        if start:
            row.error(
                key,
                f"Starts with {start}, which a spreadsheet would run as a formula. Remove it "
                "and upload the file again.",
            )
    if row.errors:
        return
    name, email = row.values.get("name", "").strip(), row.email
    if not name:
        row.error("name", "Enter the person's full name.")
    elif len(name) > 200:
        row.error("name", "The name must be 200 characters or fewer.")
    if not email:
        row.error("email", "Enter the person's email address.")
    else:
        try:
            validate_email(email)
        except ValidationError:
            row.error("email", f"“{email}” is not an email address, like name@example.org.")
    role = ROLE_WORDS.get(_words(row.values.get("role", "")))
    agency_text = row.values.get("agency", "").strip()
    if role is None:
        allowed = ", ".join(label for _, label in scope.agency_roles() + scope.partnership_roles())
        row.error("role", f"The role must be one of: {allowed}.")
    elif role not in scope.roles:
        row.error("role", f"You cannot give the role {Role(role).label.lower()}.")
    agency = agencies.get(_words(agency_text))
    if role in AGENCY_ROLES and agency is None:
        row.error(
            "agency",
            f"“{agency_text}” is not one of your agencies: use its name as the Agencies page "
            "shows it."
            if agency_text
            else "Enter the agency.",
        )
    elif (
        role is not None
        and role not in AGENCY_ROLES
        and (partnership is None or _words(agency_text) not in ("", _words(partnership.name)))
    ):
        row.error(
            "agency",
            f"A {Role(role).label.lower()} belongs to the partnership: leave the agency empty.",
        )
    job_title = row.values.get("job_title", "").strip()
    if len(job_title) > 200:
        row.error("job_title", "The job title must be 200 characters or fewer.")
    if not row.errors:
        row.spec = RoleSpec(
            role=role,
            job_title=job_title,
            agency=agency if role in AGENCY_ROLES else None,
            partnership=None if role in AGENCY_ROLES else partnership,
        )


def _outcomes(rows: list[Row]) -> None:
    """What importing each valid row would do, read in a few queries for the whole file."""
    emails = {r.email for r in rows}
    accounts_by_email = _accounts(emails)
    waiting = defaultdict(set)
    for role in _waiting_roles(emails):
        waiting[role.invitation.email.lower()].add((role.role, role.agency_id, role.partnership_id))
    first_row: dict[str, int] = {}
    seen: dict[tuple, int] = {}
    for row in rows:
        key, email = row.spec.key(), row.email
        if row.values.get("status", "").strip().lower() == "left":
            row.outcome = "No change: marked as left in the file"
            continue
        if (email, key) in seen:
            row.outcome = f"No change: the same as row {seen[email, key]}"
            continue
        seen[email, key] = row.number
        row.person = person = accounts_by_email.get(email)
        if person is not None and person.user.is_active:
            held = {(m.role, m.agency_id, m.partnership_id): m for m in person.memberships.all()}
            if key not in held:
                row.outcome, row.action = "Add the role to their existing account", ADD_ROLE
            elif row.spec.job_title and held[key].job_title != row.spec.job_title:
                row.outcome = f"Change the job title from “{held[key].job_title}”"
                row.action, row.membership = JOB_TITLE, held[key]
            else:
                row.outcome = "No change: already holds this role"
        elif key in waiting[email]:
            row.outcome = "No change: already invited"
        elif waiting[email]:
            row.outcome, row.action = "Add the role to their invitation", ADD_ROLE
        elif email in first_row:
            row.outcome = f"Add the role to their invitation (row {first_row[email]})"
            row.action = INVITE
        else:
            first_row[email] = row.number
            row.outcome = "Invite" + (" (returning leaver)" if person is not None else "")
            row.action = INVITE


def _accounts(emails: set[str]) -> dict[str, Person]:
    if not emails:
        return {}
    found = (
        Person.objects.filter(
            Q(email__in=emails) | Q(user__email__in=emails) | Q(user__username__in=emails)
        )
        .select_related("user")
        .prefetch_related("memberships")
        .order_by("user__is_active", "pk")
    )
    by_email = {}
    for person in found:  # active accounts last, so they win
        for email in {
            person.email.lower(),
            person.user.email.lower(),
            person.user.username.lower(),
        }:
            if email in emails:
                by_email[email] = person
    return by_email


def _waiting_roles(emails: set[str]):
    pending = Invitation.objects.pending().filter(kind=Invitation.Kind.ACCOUNT, email__in=emails)
    return InvitedRole.objects.filter(invitation__in=pending).select_related("invitation")


# --- importing ------------------------------------------------------------------------------


def apply(checked: Checked, *, scope: Scope, by: Person, valid_only: bool, request=None) -> dict:
    """Store the file's changes in one transaction; with errors, only if valid_only."""
    scope.require(Can.IMPORT)
    if checked.with_errors and not valid_only:
        raise Refused("The file has errors: nothing was imported.")
    counts = {"invited": 0, "roles added": 0, "job titles changed": 0}
    newcomers: dict[str, invitations.Newcomer] = {}
    others: dict[str, list[Row]] = defaultdict(list)
    with transaction.atomic():
        for row in checked.to_change:
            if row.action == JOB_TITLE:
                accounts.change_job_title(
                    row.membership,
                    scope=scope,
                    job_title=row.spec.job_title,
                    by=by,
                    request=request,
                )
                counts["job titles changed"] += 1
            elif row.action == INVITE:
                newcomer = newcomers.setdefault(
                    row.email,
                    invitations.Newcomer(row.email, row.values["name"].strip(), row.person),
                )
                newcomer.roles.append(row.spec)
            else:
                others[row.email].append(row)
        # New addresses, the bulk of a large file, in a few queries; the rest one by one.
        counts["invited"] = invitations.invite_many(
            list(newcomers.values()), scope=scope, by=by, request=request
        )
        for email, rows in others.items():
            invitations.invite(
                scope=scope,
                email=email,
                full_name=rows[0].values["name"],
                roles=[r.spec for r in rows],
                by=by,
                request=request,
                kick=False,
            )
            counts["roles added"] += len(rows)
        audited(
            by=by,
            what=f"People imported from {checked.filename}",
            object_type="people import",
            partnership_id=scope.audit_partnership_id(),
            agency_ids=[],
            changes=[(what.capitalize(), "", str(n)) for what, n in counts.items()]
            + [("Rows with errors, not imported", "", str(len(checked.with_errors)))],
            request=request,
        )
    invitations.kick_sending()
    return counts


# --- exporting ------------------------------------------------------------------------------


def export(scope: Scope, fmt: str) -> bytes:
    """The scope's people, one row per role, in the columns the import reads; formula-like
    cells neutralised."""
    scope.require(Can.IMPORT)
    dataset = tablib.Dataset(headers=EXPORT_HEADER, title="People")
    memberships = (
        scope.memberships()
        .select_related("person__user", "agency", "partnership")
        .order_by("person__full_name", "person_id", "id")
    )
    for m in memberships.iterator(chunk_size=1000):
        dataset.append(
            [
                safe_cell(cell)
                for cell in (
                    m.person.full_name,
                    m.person.email,
                    (m.agency or m.partnership).name,
                    m.get_role_display(),
                    m.job_title,
                    "Active" if m.person.user.is_active else "Left",
                )
            ]
        )
    data = dataset.export(fmt)
    return data.encode("utf-8-sig") if isinstance(data, str) else data
