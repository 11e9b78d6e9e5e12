"""The escalations app's models, one module per concept, every name importable from here.

choices: states, pathways, natures, outcomes; escalation: the escalation and its querysets;
parts: what it is made of (natures, episodes, notes, positions, responses, approvals, outcome,
actions); events: its append-only history; notices: the outbox; conference: child protection
conference concerns; drafts: a challenge being written.
"""

from escalations.models.child_file import ChildFileRecord
from escalations.models.choices import (
    ACTIVE_STATES,
    FINAL_STATES,
    LIVE_STATES,
    PARTNERSHIP_FIGURES_ROLES,
    WITHDRAWABLE_STATES,
    Nature,
    NoteKind,
    OutcomeCategory,
    Pathway,
    State,
)
from escalations.models.conference import (
    ConferenceReason,
    ConferenceReport,
    ConferenceReportQuerySet,
    ConferenceResponse,
)
from escalations.models.drafts import DraftChallenge, DraftChallengeQuerySet
from escalations.models.escalation import (
    Escalation,
    EscalationQuerySet,
    NatureList,
    awaiting_approval_of,
)
from escalations.models.events import (
    TRANSITION_KINDS,
    AppendOnlyError,
    Event,
    EventKind,
    EventQuerySet,
)
from escalations.models.figures import FigureCount, FigureDays, FiguresAsAt
from escalations.models.health import Pulse, PulseKind, PulseQuerySet
from escalations.models.notices import Notice, NoticeKind, NoticeQuerySet, deadline_notice_key
from escalations.models.outcome_requests import OutcomeRequest
from escalations.models.parts import (
    Action,
    Approval,
    EscalationNature,
    Note,
    Outcome,
    Participant,
    Position,
    ReferenceSequence,
    Response,
    StageEpisode,
)

__all__ = [
    "ACTIVE_STATES",
    "FINAL_STATES",
    "LIVE_STATES",
    "PARTNERSHIP_FIGURES_ROLES",
    "TRANSITION_KINDS",
    "WITHDRAWABLE_STATES",
    "Action",
    "AppendOnlyError",
    "Approval",
    "ChildFileRecord",
    "ConferenceReason",
    "ConferenceReport",
    "ConferenceReportQuerySet",
    "ConferenceResponse",
    "DraftChallenge",
    "DraftChallengeQuerySet",
    "Escalation",
    "EscalationNature",
    "EscalationQuerySet",
    "Event",
    "EventKind",
    "EventQuerySet",
    "FigureCount",
    "FigureDays",
    "FiguresAsAt",
    "Nature",
    "NatureList",
    "Note",
    "NoteKind",
    "Notice",
    "NoticeKind",
    "NoticeQuerySet",
    "Outcome",
    "OutcomeCategory",
    "OutcomeRequest",
    "Participant",
    "Pathway",
    "Position",
    "Pulse",
    "PulseKind",
    "PulseQuerySet",
    "ReferenceSequence",
    "Response",
    "StageEpisode",
    "State",
    "awaiting_approval_of",
    "deadline_notice_key",
]
