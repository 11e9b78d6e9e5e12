"""The longest free text the portal keeps, one home for every limit: the forms refuse longer
text with a message saying the limit (escalations.fields.too_long), the database refuses it
with a check constraint (text_limit), and README's security section lists them.

Why limits at all: unbounded text let one record grow to megabytes, and its PDF then held a
worker for longer than any request may take. The limits are generous for what people write
(a 5,000-character account is about 800 words; the policies' own forms give a few lines per
box), so nobody meets them in ordinary use.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

# An account in the person's own words: the details, the outcome sought, who keeps the child
# safe, a note, a position, a response, an agreed outcome, learning, a debrief, a conference
# concern and its response.
ACCOUNT = 5000
# A reason or comment: why escalate, reopen, withdraw or share; approval comments; why parents
# were not told; why the debrief was declined; an action to be done.
REASON = 2000
# A child's address.
ADDRESS = 500


def text_limit(field: str, limit: int, *, prefix: str) -> models.CheckConstraint:
    """The database's half of a limit: PostgreSQL and SQLite both refuse a longer value."""
    return models.CheckConstraint(
        condition=LessThanOrEqual(Length(field), limit),
        name=f"{prefix}_{field}_max_{limit}",
    )
