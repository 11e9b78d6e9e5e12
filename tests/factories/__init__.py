"""Test data per app, named by what it builds (data-hub's factories): cases (agencies, people,
children), policies (partnerships with their ladders) and escalations (one factory per state,
each reached through the services). See each module."""

from tests.factories.cases import (
    AgencyFactory,
    ChildFactory,
    MembershipFactory,
    PersonFactory,
    UserFactory,
)
from tests.factories.escalations import (
    AwaitingApprovalEscalationFactory,
    ChildDetailsFactory,
    ClosedEscalationFactory,
    DraftEscalationFactory,
    EscalationAtStage2Factory,
    EscalationAtStageFactory,
    OpenEscalationFactory,
    OverdueEscalationFactory,
    ResolvedEscalationFactory,
    WithdrawnEscalationFactory,
    climb,
)
from tests.factories.policies import PartnershipFactory

__all__ = [
    "AgencyFactory",
    "AwaitingApprovalEscalationFactory",
    "ChildDetailsFactory",
    "ChildFactory",
    "ClosedEscalationFactory",
    "DraftEscalationFactory",
    "EscalationAtStage2Factory",
    "EscalationAtStageFactory",
    "MembershipFactory",
    "OpenEscalationFactory",
    "OverdueEscalationFactory",
    "PartnershipFactory",
    "PersonFactory",
    "ResolvedEscalationFactory",
    "UserFactory",
    "WithdrawnEscalationFactory",
    "climb",
]
