"""What people do to an escalation, one function each, by job: raising, moving up the ladder,
resolution and recording, all through acting_on (escalations.services.acting).

Every change runs in one transaction with the escalation row locked: check the person may act,
call the transition, move the stage and clock, write the event and the outbox notices. Two
people acting at once: the second waits for the lock, then finds the escalation changed
(revision) and is told so; nothing is half-saved.

Callers import from here; the modules import each other directly.
"""

from cases.people import members, partnership_members
from escalations.approvals import Approvers, approvers, nobody_to_approve
from escalations.clock import current_episode, set_clock
from escalations.services.acting import (
    ActionRefused,
    StaleEscalation,
    acting_on,
    notify,
    record_event,
)
from escalations.services.child_file import (
    asks_now as child_file_asked_now,
)
from escalations.services.child_file import (
    child_file_status,
    record_on_child_file,
    remind_to_record_on_child_file,
)
from escalations.services.ladder import (
    FALLBACK_ROLES,
    acting_person,
    advance_step,
    approve,
    ask_to_escalate,
    counterpart_person,
    direct_stage,
    escalate,
    may_move_into,
    next_stage,
    refer_directly,
    return_with_comments,
    who_may_move_into,
)
from escalations.services.raising import ChildDetails, raise_escalation, submit_escalation
from escalations.services.recording import (
    add_note,
    add_participant,
    mark_action_done,
    record_debrief,
    record_learning,
    record_parents_informed,
    record_position,
    record_response,
    share_with_partnership,
)
from escalations.services.resolution import ActionItem, close, reopen, resolve, withdraw

__all__ = [
    "FALLBACK_ROLES",
    "ActionItem",
    "ActionRefused",
    "Approvers",
    "ChildDetails",
    "StaleEscalation",
    "acting_on",
    "acting_person",
    "add_note",
    "add_participant",
    "advance_step",
    "approve",
    "approvers",
    "ask_to_escalate",
    "child_file_asked_now",
    "child_file_status",
    "close",
    "counterpart_person",
    "current_episode",
    "direct_stage",
    "escalate",
    "mark_action_done",
    "may_move_into",
    "members",
    "next_stage",
    "nobody_to_approve",
    "notify",
    "partnership_members",
    "raise_escalation",
    "record_debrief",
    "record_event",
    "record_learning",
    "record_on_child_file",
    "record_parents_informed",
    "record_position",
    "record_response",
    "refer_directly",
    "remind_to_record_on_child_file",
    "reopen",
    "resolve",
    "return_with_comments",
    "set_clock",
    "share_with_partnership",
    "submit_escalation",
    "who_may_move_into",
    "withdraw",
]
