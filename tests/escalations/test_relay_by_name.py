"""The urgent relay is queued by the task's name (no domain module imports Celery tasks), so a
renamed task must fail loudly: the system check names it, and the message a raise publishes
is one a worker can run.

The broker here is Kombu's in-process memory transport: the message is really published and
read back, as a worker would, and nothing is left in the developer's queue folder."""

from datetime import date

import pytest
from django.core import mail
from django.core.checks import run_checks

from escalation_portal.celery import app
from escalations import checks
from escalations.models import NoticeKind
from escalations.notices import relay
from tests.factories import OpenEscalationFactory


@pytest.fixture
def memory_broker(monkeypatch):
    monkeypatch.setattr(app.conf, "broker_write_url", "memory://localhost/")
    with app.connection_for_write() as conn:
        queue = conn.SimpleQueue("celery")
        queue.clear()
        yield queue
        queue.clear()
        queue.close()


def test_every_task_queued_by_name_is_registered():
    assert checks.tasks_queued_by_name_exist() == []
    assert relay.RELAY_TASK in checks.queued_by_name()
    assert app.tasks[relay.RELAY_TASK].name == "escalations.tasks.relay_notices"


def test_a_renamed_relay_task_fails_the_system_check(monkeypatch):
    monkeypatch.setattr(relay, "RELAY_TASK", "escalations.tasks.relay_notices_renamed")
    errors = [e for e in run_checks(tags=["celery"]) if e.id == "escalations.E001"]
    assert len(errors) == 1
    assert "'escalations.tasks.relay_notices_renamed'" in errors[0].msg


def test_raising_with_immediate_risk_queues_the_relay_a_worker_can_run(
    world, memory_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        OpenEscalationFactory(immediate_risk=True, initial_discussion_on=date(2026, 11, 2))
    message = memory_broker.get(timeout=2)
    message.ack()
    name, kwargs = message.headers["task"], message.decode()[1]
    assert (name, kwargs) == (relay.RELAY_TASK, {"urgent_only": True})
    # What a worker does with it: it imports the task modules when it starts, then runs the
    # task of that name, which sends the urgent alert.
    app.loader.import_default_modules()
    result = app.tasks[name](**kwargs)
    assert result["sent"] == 1
    assert [m.to for m in mail.outbox] == [["carol@example.invalid"]]
    assert mail.outbox[0].extra_headers["X-Portal-Notice"].split(":")[2] == (
        NoticeKind.IMMEDIATE_RISK
    )
