from datetime import timedelta

import pytest
import time_machine
from celery.schedules import crontab
from django.utils import timezone

from audit.models import AuditEntry
from cases.models import Child
from escalations.models import Escalation, EventKind
from security.retention import anonymise_due
from security.tasks import anonymise_after_retention
from tests.factories import OpenEscalationFactory, WithdrawnEscalationFactory

pytestmark = pytest.mark.django_db

YEAR = timedelta(days=365)


@pytest.fixture
def withdrawn(world):
    return WithdrawnEscalationFactory(why_withdrawn="Resolved by a phone call.")


def test_a_childs_identifiers_are_kept_until_the_retention_period_ends(withdrawn):
    with time_machine.travel(timezone.now() + 6 * YEAR - timedelta(days=3)):
        assert anonymise_due() == 0

    child = Child.objects.get(pk=withdrawn.child_id)
    assert child.given_names == "Poppy" and child.anonymised_on is None


def test_six_years_after_withdrawal_the_child_is_anonymised_and_the_escalation_kept(withdrawn):
    with time_machine.travel(timezone.now() + 6 * YEAR + timedelta(days=3)):
        assert anonymise_after_retention.apply().get() == 1

    child = Child.objects.get(pk=withdrawn.child_id)
    assert (child.given_names, child.family_name, child.date_of_birth, child.address) == (
        "",
        "",
        None,
        "",
    )
    assert child.anonymised_on is not None and child.display_name == "Anonymised"
    escalation = Escalation.objects.get(pk=withdrawn.pk)
    assert escalation.details == "CSC declined the referral despite new disclosures."
    assert escalation.events.last().kind == EventKind.ANONYMISED
    entry = AuditEntry.objects.get(kind=AuditEntry.Kind.SYSTEM)
    assert entry.reference == escalation.reference and entry.user is None


def test_running_the_sweep_twice_anonymises_once(withdrawn):
    with time_machine.travel(timezone.now() + 7 * YEAR):
        assert anonymise_due() == 1
        assert anonymise_due() == 0

    assert Escalation.objects.get(pk=withdrawn.pk).events.filter(kind="anonymised").count() == 1


def test_a_child_with_an_escalation_still_open_is_not_anonymised(world, withdrawn):
    OpenEscalationFactory(child=Child.objects.get(pk=withdrawn.child_id))

    with time_machine.travel(timezone.now() + 10 * YEAR):
        assert anonymise_due() == 0


def test_the_period_is_a_setting(withdrawn, settings):
    settings.RETENTION_YEARS_AFTER_CLOSURE = 2

    with time_machine.travel(timezone.now() + 2 * YEAR + timedelta(days=3)):
        assert anonymise_due() == 1


def test_the_sweep_runs_daily_from_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["anonymise-after-retention"]
    assert entry["task"] == anonymise_after_retention.name
    schedule = entry["schedule"]
    # Once a day, every day: one hour and one minute, any day of the week, month and year.
    assert isinstance(schedule, crontab)
    assert (len(schedule.hour), len(schedule.minute)) == (1, 1)
    assert schedule.day_of_week == set(range(7))
    assert schedule.day_of_month == set(range(1, 32))
    assert schedule.month_of_year == set(range(1, 13))
    assert settings.RETENTION_YEARS_AFTER_CLOSURE == 6
