"""Bulk import and export of people: every row's result and every error by row and column;
nothing stored until the whole file is valid or the valid rows are confirmed; the same file
twice changes nothing; formula-like cells refused on the way in and neutralised on the way out."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEntry
from cases.models import Membership, Person
from people.models import Invitation
from policies.models import Role
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db
IMPORT = "/manage/partnerships/kirklees/people/import/"
HEADER = ["Name", "Email", "Agency", "Role", "Job title"]


def csv_file(rows, header=HEADER, name="people.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode("utf-8"), content_type="text/csv")


def xlsx_file(rows, header=HEADER) -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    return SimpleUploadedFile("people.xlsx", data.getvalue())


def newcomers(n: int, agency: str = "Meadow School"):
    return [
        [f"New Person {i}", f"new{i}@example.invalid", agency, "Practitioner", ""] for i in range(n)
    ]


def upload(client, file):
    return client.post(IMPORT, {"file": file})


def confirm(client, preview, rows: str = "all"):
    payload = re.search(r'name="payload" value="([^"]+)"', preview.content.decode()).group(1)
    return client.post(IMPORT, {"payload": payload, "rows": rows})


def test_a_valid_file_is_previewed_then_imported_as_invitations(client, world):
    sign_in(client, world.kim)
    rows = [
        *newcomers(3),
        ["Erin Earl", "erin@example.invalid", "Meadow School", "Line manager", ""],
    ]
    preview = upload(client, csv_file(rows))
    assert preview.status_code == 200
    content = preview.content.decode()
    assert content.count(">Invite<") == 3
    assert "Add the role to their existing account" in content
    assert not Invitation.objects.exists()  # nothing stored by the preview
    response = confirm(client, preview)
    assert response.status_code == 302
    assert Invitation.objects.filter(kind=Invitation.Kind.ACCOUNT).count() == 3
    assert world.erin.memberships.filter(role=Role.LINE_MANAGER, agency=world.school).exists()


def test_errors_are_reported_by_row_and_column_and_nothing_is_stored(client, world):
    sign_in(client, world.kim)
    rows = newcomers(5)
    rows[1][1] = "not-an-email"
    rows[2][2] = "Nowhere Academy"
    rows[3][0] = '=HYPERLINK("http://example.invalid")'
    rows[4][3] = "Head teacher of everything"
    preview = upload(client, csv_file(rows))
    assert preview.status_code == 400
    content = preview.content.decode()
    assert "Row 3, Email: “not-an-email” is not an email address" in content
    assert "Row 4, Agency: “Nowhere Academy” is not one of your agencies" in content
    assert "Row 5, Name: Starts with “=”, which a spreadsheet would run as a formula" in content
    assert "Row 6, Role: The role must be one of" in content
    assert "4 rows of people.csv have errors. Nothing has been imported." in content
    assert 'value="all"' not in content  # the whole file cannot be imported
    assert not Invitation.objects.exists()
    # Confirming everything anyway (a forged button) stores nothing.
    confirm(client, preview, rows="all")
    assert not Invitation.objects.exists()
    # The valid rows only, when the administrator says so.
    confirm(client, preview, rows="valid")
    assert list(Invitation.objects.values_list("email", flat=True)) == ["new0@example.invalid"]


def test_the_same_file_twice_changes_nothing(client, world):
    sign_in(client, world.kim)
    rows = [
        *newcomers(4),
        ["Erin Earl", "erin@example.invalid", "Meadow School", "Practitioner", ""],
    ]
    confirm(client, upload(client, csv_file(rows)))
    invitations, memberships = Invitation.objects.count(), Membership.objects.count()
    preview = upload(client, csv_file(rows))
    content = preview.content.decode()
    assert content.count("No change") == 5
    assert "there is nothing to import" in content
    confirm(client, preview)
    assert (Invitation.objects.count(), Membership.objects.count()) == (invitations, memberships)


def test_an_excel_workbook_is_read_and_a_formula_cell_refused(client, world):
    sign_in(client, world.kim)
    rows = newcomers(2)
    rows[1][4] = "=1+1"  # openpyxl writes it as a formula
    preview = upload(client, xlsx_file(rows))
    content = preview.content.decode()
    assert "Row 3, Job title: Starts with “=”" in content
    assert ">Invite<" in content


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (
            b"just,some\nthings,here\n",
            "people.csv",
            "This file has no Name or Email or Agency or Role column",
        ),
        (b"not a zip", "people.xlsx", "could not be read as an Excel workbook"),
        (b"Name,Email,Agency,Role\n", "people.csv", "no people in it"),
        (b"x", "people.pdf", "must be a CSV file (.csv) or an Excel workbook"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(client, world, content, name, message):
    sign_in(client, world.kim)
    response = upload(client, SimpleUploadedFile(name, content))
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_tab_or_line_break_at_the_start_of_a_cell_is_refused(client, world):
    sign_in(client, world.kim)
    rows = newcomers(2)
    rows[0][0] = "\tTab Start"
    rows[1][4] = "\rReturn"
    content = upload(client, csv_file(rows)).content.decode()
    assert "Row 2, Name: Starts with a tab" in content
    assert "Row 3, Job title: Starts with a line break" in content


def test_the_export_neutralises_formulas_and_imports_back_as_no_change(client, world):
    world.alice.full_name = "=cmd|' /C calc'!A0"
    world.alice.save()
    sign_in(client, world.kim)
    response = client.get("/manage/partnerships/kirklees/people/export.csv")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.csv"')
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [*HEADER, "Status"]
    assert [
        "'=cmd|' /C calc'!A0",
        "alice@example.invalid",
        "Meadow School",
        "Practitioner",
        "Class Teacher",
        "Active",
    ] in rows
    # Berkshire's people are not in Kirklees' export; the shared constabulary's are.
    emails = {row[1] for row in rows[1:]}
    assert "oscar@example.invalid" not in emails and "pat@example.invalid" in emails
    xlsx = client.get("/manage/partnerships/kirklees/people/export.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    names = [cell.value for cell in sheet["A"]]
    assert "'=cmd|' /C calc'!A0" in names
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    # Re-importing the export changes nothing.
    before = (Invitation.objects.count(), Membership.objects.count(), Person.objects.count())
    preview = upload(client, SimpleUploadedFile("people.csv", response.content))
    content = preview.content.decode()
    assert "there is nothing to import" in content, content
    assert (
        Invitation.objects.count(),
        Membership.objects.count(),
        Person.objects.count(),
    ) == before


def test_a_preview_cannot_be_tampered_with(client, world):
    sign_in(client, world.kim)
    response = client.post(IMPORT, {"payload": "forged", "rows": "all"})
    assert response.status_code == 400
    assert b"upload the file again" in response.content


def test_five_hundred_rows_are_checked_and_imported_in_one_go(
    client, world, django_assert_max_num_queries
):
    sign_in(client, world.kim)
    rows = newcomers(500)
    with django_assert_max_num_queries(20):
        preview = upload(client, csv_file(rows))
    assert preview.content.decode().count(">Invite<") == 500
    with django_assert_max_num_queries(40):  # new addresses are invited in bulk
        confirm(client, preview)
    assert Invitation.objects.filter(kind=Invitation.Kind.ACCOUNT).count() == 500
    assert AuditEntry.objects.filter(object_type="invitation").count() == 500


def test_import_and_export_are_for_partnership_administrators_only(client, world):
    sign_in(client, world.carol)
    base = f"/manage/agencies/{world.school.pk}/people/"
    assert client.get(f"{base}import/").status_code == 404
    assert client.get(f"{base}export.csv").status_code == 404


def test_two_rows_for_one_new_address_make_one_invitation_and_a_leaver_comes_back(client, world):
    world.charlie.user.is_active = False
    world.charlie.user.save()
    sign_in(client, world.kim)
    rows = [
        ["Nia New", "nia@example.invalid", "Meadow School", "Practitioner", ""],
        ["Nia New", "nia@example.invalid", "Kirklees Health", "Line manager", "Lead Nurse"],
        ["Charlie Chase", "charlie@example.invalid", "Kirklees Health", "Practitioner", ""],
    ]
    preview = upload(client, csv_file(rows))
    content = preview.content.decode()
    assert "Add the role to their invitation (row 2)" in content
    assert "Invite (returning leaver)" in content
    confirm(client, preview)
    nia = Invitation.objects.get(email="nia@example.invalid")
    assert sorted(nia.roles.values_list("role", "job_title")) == [
        ("line_manager", "Lead Nurse"),
        ("practitioner", "Practitioner"),
    ]
    assert Invitation.objects.get(email="charlie@example.invalid").person == world.charlie
