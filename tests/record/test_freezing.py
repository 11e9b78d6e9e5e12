"""At the stages a ladder marks record_required a copy is frozen: marked due with the stage
change, rendered by the sweep, announced to the business manager, never changed."""

import hashlib
import threading

import pytest
from django.conf import settings
from django.db import connection, transaction

from escalations import services
from escalations.models import Notice, NoticeKind
from escalations.record import services as record_services
from escalations.record.models import DueRecord, RecordCopy, RecordCopyChangeError
from escalations.record.tasks import freeze_due_records
from tests.factories import EscalationAtStageFactory, OpenEscalationFactory
from tests.record.helpers import text_of


def test_no_record_is_due_below_the_record_stages(world):
    EscalationAtStageFactory(stage=4)
    assert not DueRecord.objects.exists()


def test_reaching_stage_five_marks_the_record_due_without_rendering_it(world):
    esc = EscalationAtStageFactory(stage=5)
    due = DueRecord.objects.get()
    assert due.escalation == esc and due.stage_number == 5 and due.copy is None
    # Rendering waits for the sweep, outside the transaction that moved the escalation.
    assert not RecordCopy.objects.exists()


def test_the_sweep_freezes_the_copy_with_its_sha256_and_tells_the_business_manager(world):
    esc = EscalationAtStageFactory(stage=5)
    assert record_services.freeze_due_records() == 1
    copy = RecordCopy.objects.get()
    assert (copy.escalation, copy.version, copy.stage_number) == (esc, 1, 5)
    assert copy.produced_by is None
    data = copy.file.open("rb").read()
    assert hashlib.sha256(data).hexdigest() == copy.sha256 and copy.size == len(data)
    assert str(settings.MEDIA_ROOT) in copy.file.path
    assert esc.reference in text_of(data)
    assert DueRecord.objects.get().copy == copy
    assert Notice.objects.filter(
        escalation=esc, kind=NoticeKind.RECORD_READY, recipient=world.ivan
    ).exists()


def test_the_sweep_run_again_freezes_nothing_more_and_tells_nobody_twice(world):
    EscalationAtStageFactory(stage=5)
    freeze_due_records.apply()
    assert freeze_due_records.apply().get() == 0
    assert RecordCopy.objects.count() == 1
    assert Notice.objects.filter(kind=NoticeKind.RECORD_READY).count() == 1


def test_stage_six_freezes_a_second_version_and_leaves_the_first_as_it_was(world):
    esc = EscalationAtStageFactory(stage=5)
    record_services.freeze_due_records()
    first = RecordCopy.objects.get()
    first_bytes = first.file.open("rb").read()
    services.escalate(esc, by=world.dan, reason="Heads of service could not agree.")
    record_services.freeze_due_records()
    copies = record_services.record_copies_for(esc)
    assert [(c.version, c.stage_number) for c in copies] == [(1, 5), (2, 6)]
    assert copies[0].file.open("rb").read() == first_bytes
    assert copies[0].sha256 == first.sha256 != copies[1].sha256
    assert "Stage 6: Escalation to KSCP Business Unit Manager" in text_of(
        copies[1].file.open("rb").read()
    )


def test_an_escalation_raised_straight_at_a_record_stage_is_frozen_too(world):
    esc = OpenEscalationFactory(by=world.alice, immediate_risk=True, start_stage_number=5)
    assert DueRecord.objects.get().escalation == esc


def test_a_frozen_copy_can_be_neither_changed_nor_deleted(world):
    EscalationAtStageFactory(stage=5)
    record_services.freeze_due_records()
    copy = RecordCopy.objects.get()
    copy.sha256 = "0" * 64
    with pytest.raises(RecordCopyChangeError):
        copy.save()
    with pytest.raises(RecordCopyChangeError):
        copy.delete()


def test_a_failed_render_leaves_the_record_due_for_the_next_sweep(world, settings):
    EscalationAtStageFactory(stage=5)
    settings.RECORD_RENDER_SECONDS = 0.01
    assert record_services.freeze_due_records() == 0
    due = DueRecord.objects.get()
    assert due.copy is None and due.attempts == 1 and "longer than" in due.last_error
    assert not RecordCopy.objects.exists()
    settings.RECORD_RENDER_SECONDS = 20
    assert record_services.freeze_due_records() == 1


def test_beat_runs_the_sweep_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["freeze-due-records"]
    assert entry["task"] == "escalations.record.tasks.freeze_due_records"
    assert entry["schedule"] == 60.0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL; SQLite locks the file"
)
def test_a_due_record_another_worker_holds_is_skipped_not_waited_for(world):
    EscalationAtStageFactory(stage=5)
    due = DueRecord.objects.get()
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        with transaction.atomic():
            DueRecord.objects.select_for_update().get(pk=due.pk)
            locked.set()
            release.wait(10)
        connection.close()

    worker = threading.Thread(target=other_worker)
    worker.start()
    assert locked.wait(10)
    try:
        assert record_services.freeze_record(due.pk) is None
        assert not RecordCopy.objects.exists()
    finally:
        release.set()
        worker.join()
    assert record_services.freeze_record(due.pk).version == 1
