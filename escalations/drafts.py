"""A challenge being written, page by page: the model lives in escalations.models.drafts."""

from escalations.models.drafts import DraftChallenge, DraftChallengeQuerySet

__all__ = ["DraftChallenge", "DraftChallengeQuerySet"]
