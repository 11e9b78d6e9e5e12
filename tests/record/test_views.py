"""Downloading the record: only for those who may see the escalation, audited, never cached."""

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEntry
from escalations.record import services as record_services
from escalations.record.models import RecordCopy
from tests.factories import EscalationAtStageFactory, OpenEscalationFactory
from tests.helpers import sign_in
from tests.record.helpers import text_of


def record_url(escalation) -> str:
    return f"/escalations/{escalation.reference}/record.pdf"


def test_a_party_downloads_the_record_and_the_download_is_audited(client, world):
    esc = OpenEscalationFactory()
    sign_in(client, world.alice)
    response = client.get(record_url(esc))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert f'filename="{esc.reference}-record.pdf"' in response["Content-Disposition"]
    assert esc.reference in text_of(response.content)
    entry = AuditEntry.objects.get(kind=AuditEntry.Kind.DOWNLOAD)
    assert entry.user == world.alice.user
    assert entry.what == "record PDF"
    assert entry.reference == esc.reference


def test_the_other_agencys_practitioner_may_download_it_too(client, world):
    esc = OpenEscalationFactory()
    sign_in(client, world.erin)
    assert client.get(record_url(esc)).status_code == 200


def test_someone_with_no_part_in_it_gets_not_found_and_nothing_is_audited(client, world):
    esc = OpenEscalationFactory()
    sign_in(client, world.charlie)
    assert client.get(record_url(esc)).status_code == 404
    assert client.get(f"/escalations/{esc.reference}/records/").status_code == 404
    assert not AuditEntry.objects.filter(kind=AuditEntry.Kind.DOWNLOAD).exists()


def test_the_partnership_cannot_download_it_before_the_record_stage(client, world):
    esc = OpenEscalationFactory()
    sign_in(client, world.ivan)
    assert client.get(record_url(esc)).status_code == 404


def test_an_unknown_reference_answers_not_found_like_anothers(client, world):
    sign_in(client, world.alice)
    assert client.get("/escalations/KIR-2026-99999/record.pdf").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    esc = OpenEscalationFactory()
    response = client.get(record_url(esc))
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_the_download_needs_a_fixed_number_of_queries(
    client, resolved_at_stage_five, world, django_assert_max_num_queries
):
    sign_in(client, world.dan)
    with django_assert_max_num_queries(24):
        assert client.get(record_url(resolved_at_stage_five)).status_code == 200


# --- frozen copies -------------------------------------------------------------------------


@pytest.fixture
def frozen(world):
    esc = EscalationAtStageFactory(stage=5)
    record_services.freeze_due_records()
    return esc


def test_the_business_manager_lists_and_downloads_a_frozen_copy(client, world, frozen):
    sign_in(client, world.ivan)
    page = client.get(f"/escalations/{frozen.reference}/records/")
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    assert f"/escalations/{frozen.reference}/records/1.pdf" in page.content.decode()
    response = client.get(f"/escalations/{frozen.reference}/records/1.pdf")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    copy = RecordCopy.objects.get(escalation=frozen)
    assert response.content == copy.file.open("rb").read()
    assert AuditEntry.objects.filter(
        kind=AuditEntry.Kind.DOWNLOAD, what="record PDF copy v1", user=world.ivan.user
    ).exists()


def test_a_frozen_copy_is_not_found_for_outsiders_or_for_a_version_that_does_not_exist(
    client, world, frozen
):
    sign_in(client, world.charlie)
    assert client.get(f"/escalations/{frozen.reference}/records/1.pdf").status_code == 404
    sign_in(client, world.alice)
    assert client.get(f"/escalations/{frozen.reference}/records/2.pdf").status_code == 404


def test_a_copy_altered_on_disk_is_refused(client, world, frozen):
    copy = RecordCopy.objects.get(escalation=frozen)
    with open(copy.file.path, "ab") as stored:
        stored.write(b"tampered")
    sign_in(client, world.alice)
    response = client.get(f"/escalations/{frozen.reference}/records/1.pdf")
    assert response.status_code == 500
    assert b"does not match" in response.content


# --- the command ----------------------------------------------------------------------------


def test_render_record_writes_the_pdf_of_that_escalation(world, tmp_path):
    esc = OpenEscalationFactory()
    out = tmp_path / "record.pdf"
    call_command("render_record", esc.reference, str(out))
    assert esc.reference in text_of(out.read_bytes())
    assert AuditEntry.objects.filter(reference=esc.reference, user=None).exists()


def test_render_record_says_clearly_when_the_reference_is_unknown(world, tmp_path):
    with pytest.raises(CommandError, match="No escalation has the reference 'KIR-1999-00001'"):
        call_command("render_record", "KIR-1999-00001", str(tmp_path / "x.pdf"))
