"""Kept importable for callers: the notices live in escalations.notices (relay, summary)."""

from escalations.notices.relay import (
    RELAY_TASK,
    RelayResult,
    in_working_hours,
    open_partnerships,
    publish_urgent_relay,
    relay,
    relay_urgent_after_commit,
    send_digests,
)
from escalations.notices.summary import GUIDANCE, notice_summary, visible_notices

__all__ = [
    "GUIDANCE",
    "RELAY_TASK",
    "RelayResult",
    "in_working_hours",
    "notice_summary",
    "open_partnerships",
    "publish_urgent_relay",
    "relay",
    "relay_urgent_after_commit",
    "send_digests",
    "visible_notices",
]
