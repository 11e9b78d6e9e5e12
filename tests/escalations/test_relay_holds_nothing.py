"""The relay never sends while it holds the database: it claims a notice (a short transaction
and a lease), commits, sends with no transaction open, then records the result in one UPDATE.
A hung or refusing mail server holds no row a person acts on, and the first failure of the
server ends the run rather than making every following notice wait for its timeout."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from escalations import notifications
from escalations.models import Notice, NoticeKind, Pulse, PulseKind
from escalations.notices.relay import claim_lease, notice_email
from escalations.tasks import relay_notices, send_digests
from tests.browser import clear_append_only_tables
from tests.factories import OpenEscalationFactory
from tests.support.email_backends import HoldingEmailBackend, RefusingRecipientBackend

LONDON = ZoneInfo("Europe/London")
TUESDAY = datetime(2026, 11, 10, 10, 0, tzinfo=LONDON)


@pytest.fixture
def cleared_after(transactional_db):
    """SQLite's flush DELETEs, which the append-only triggers refuse."""
    yield
    clear_append_only_tables()


@pytest.fixture
def holding(settings, cleared_after):
    settings.EMAIL_BACKEND = "tests.support.email_backends.HoldingEmailBackend"
    HoldingEmailBackend.seen = []
    HoldingEmailBackend.during = None
    yield HoldingEmailBackend
    HoldingEmailBackend.during = None


def raise_urgent(moment=TUESDAY):
    with time_machine.travel(moment, tick=False):
        return OpenEscalationFactory(
            immediate_risk=True, initial_discussion_on=moment.date(), start_stage_number=1
        )


def urgent_alert() -> Notice:
    return Notice.objects.get(kind=NoticeKind.IMMEDIATE_RISK)


@pytest.mark.django_db(transaction=True)
def test_the_mail_server_is_spoken_to_with_no_transaction_open(world, holding):
    raise_urgent()
    with time_machine.travel(TUESDAY, tick=False):
        assert notifications.relay().sent == 3
    assert len(holding.seen) == 3
    assert not any(note["in_transaction"] for note in holding.seen)


@pytest.mark.django_db(transaction=True)
def test_a_person_marks_a_notice_read_while_its_email_is_being_sent(world, holding):
    raise_urgent()
    alert = urgent_alert()

    def mark_read_as_a_person_would():
        # The person's request runs on its own connection. On PostgreSQL a row lock held by
        # the relay would make this wait; the lock timeout turns that wait into an error.
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL lock_timeout = '2s'")
                Notice.objects.filter(pk=alert.pk).update(read_at=timezone.now())
        finally:
            connection.close()

    holding.during = mark_read_as_a_person_would
    assert notifications.relay(urgent_only=True).sent == 1
    assert holding.seen[0]["during_finished"] is True
    alert.refresh_from_db()
    assert alert.read_at is not None and alert.emailed_at is not None


def test_a_mail_server_that_refuses_ends_the_run_and_each_notice_waits_its_turn(world, settings):
    settings.EMAIL_BACKEND = "tests.support.email_backends.FailingEmailBackend"
    raise_urgent()
    with time_machine.travel(TUESDAY, tick=False):
        result = notifications.relay()
    # Three notices are due; the first failure says the server is down, the other two wait.
    assert (result.sent, result.failed) == (0, 1)
    tried = Notice.objects.filter(email_attempts=1)
    assert tried.count() == 1
    assert Notice.objects.filter(email_attempts=0).count() == 2
    failed = tried.get()
    assert failed.email_claimed_until is None  # the claim is released for the retry
    assert failed.email_retry_at == TUESDAY + timedelta(
        seconds=django_settings.NOTICE_EMAIL_RETRY_SECONDS
    )
    assert "refused" in Pulse.objects.get(kind=PulseKind.MAIL_FAILED).detail


def test_one_refused_address_does_not_stop_the_others(world, settings):
    settings.EMAIL_BACKEND = "tests.support.email_backends.RefusingRecipientBackend"
    RefusingRecipientBackend.delivered = []
    raise_urgent()
    world.alice.email = RefusingRecipientBackend.refused
    world.alice.save()
    with time_machine.travel(TUESDAY, tick=False):
        result = notifications.relay()
    assert (result.sent, result.failed) == (2, 1)
    assert "alice" not in " ".join(m.to[0] for m in RefusingRecipientBackend.delivered)
    assert Pulse.objects.get(kind=PulseKind.MAIL_SENT).at == TUESDAY


def test_a_notice_claimed_by_a_relay_that_died_is_sent_once_its_lease_runs_out(world):
    raise_urgent()
    alert = urgent_alert()
    # A relay claimed it and died before sending: the claim stands until the lease runs out.
    Notice.objects.filter(pk=alert.pk).update(
        email_claimed_until=TUESDAY + claim_lease(), email_attempts=1
    )
    with time_machine.travel(TUESDAY + timedelta(minutes=1), tick=False):
        assert notifications.relay(urgent_only=True).sent == 0
    with time_machine.travel(TUESDAY + claim_lease() + timedelta(seconds=1), tick=False):
        assert notifications.relay(urgent_only=True).sent == 1
    alert.refresh_from_db()
    assert alert.email_attempts == 2 and alert.email_claimed_until is None
    assert len(mail.outbox) == 1


def test_a_resend_carries_the_same_message_id_and_notice_key(world):
    raise_urgent()
    alert = urgent_alert()
    first, second = notice_email(alert).message(), notice_email(alert).message()
    assert first["Message-ID"] == second["Message-ID"]
    assert first["X-Portal-Notice"] == second["X-Portal-Notice"] == alert.key
    other = Notice.objects.exclude(pk=alert.pk).first()
    assert notice_email(other).message()["Message-ID"] != first["Message-ID"]


def test_every_task_has_a_soft_and_a_hard_time_limit(settings):
    from escalation_portal.celery import app

    app.loader.import_default_modules()
    ours = [name for name in app.tasks if not name.startswith("celery.")]
    assert {"escalations.tasks.relay_notices", "escalation_portal.tasks.heartbeat"} <= set(ours)
    for name in ours:
        task = app.tasks[name]
        soft = task.soft_time_limit or app.conf.task_soft_time_limit
        hard = task.time_limit or app.conf.task_time_limit
        assert soft and hard and soft < hard, name
    for task in (relay_notices, send_digests):
        assert task.time_limit < claim_lease().total_seconds()
    assert 0 < settings.EMAIL_TIMEOUT < relay_notices.soft_time_limit
