from datetime import date

import pytest

from escalations import services
from escalations.services import ActionItem
from tests.factories import EscalationAtStageFactory


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Frozen copies go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def resolved_at_stage_five(world):
    """Zoë's escalation: stage 5, CSC's response, resolved with two actions, learning recorded."""
    esc = EscalationAtStageFactory(
        stage=5,
        child=services.ChildDetails(
            home_partnership=world.kirklees,
            given_names="Zoë",
            family_name="O'Brien-Łukasiewicz",
            date_of_birth=date(2018, 7, 14),
            address="Flat 2, 3 Invented Terrace\nNowhere Vale\nNW1 0ZZ",
        ),
        natures=["referral_decision", "information_sharing", "roles", "other"],
        nature_other="Transport to the contact centre",
    )
    services.record_response(
        esc,
        by=world.erin,
        summary="CSC has reviewed the referral with the team manager.",
        responded_on=date(2026, 11, 20),
    )
    services.resolve(
        esc,
        by=world.dan,
        category="partly_upheld",
        summary="The referral is reopened and a strategy discussion held.",
        raiser_satisfied=True,
        actions=[
            ActionItem("Hold a strategy discussion", "Frank Ford", date(2026, 12, 4)),
            ActionItem(
                "Share the school's chronology with CSC",
                "Carol Cole",
                date(2026, 12, 2),
                owner_agency=world.school,
            ),
        ],
    )
    services.record_learning(
        esc, by=world.carol, learning="Send new disclosures in writing the same day."
    )
    esc.refresh_from_db()
    return esc
