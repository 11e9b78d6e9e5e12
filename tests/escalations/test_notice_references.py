"""A notice's escalation, episode and recipient are not foreign-key constraints in the database
(ADR 0035: checking them at commit was a third of the first sweep at 1,000,000): what a notice
names can still not be deleted while it names it."""

import pytest
from django.db.models import ProtectedError

from escalations.models import Notice
from tests.factories import OpenEscalationFactory


def test_what_a_notice_names_cannot_be_deleted_while_it_names_it(world):
    escalation = OpenEscalationFactory()
    notice = Notice.objects.filter(escalation=escalation).exclude(episode=None).first()
    assert notice is not None, "raising tells the receiving side"
    for named in (notice.recipient, notice.escalation, notice.episode):
        with pytest.raises(ProtectedError) as refused:
            named.delete()
        assert notice in refused.value.protected_objects
    assert Notice.objects.filter(pk=notice.pk).exists()
