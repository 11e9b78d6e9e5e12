"""What the console log keeps of a refusal or an error: each is logged once, by django.request
(or django.security), with the request id; a refusal in one line, a server error with its
traceback."""

from __future__ import annotations

import logging


def _status(record: logging.LogRecord) -> int:
    return getattr(record, "status_code", None) or 0


class RefusalsWithoutTraceback(logging.Filter):
    """A refusal (403, 404, any 4xx) is the portal working as meant, not a fault: Django logs a
    PermissionDenied or a SuspiciousOperation with its traceback, kept only for 5xx."""

    def filter(self, record: logging.LogRecord) -> bool:
        if 400 <= _status(record) < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class SuccessfulRequestsOnly(logging.Filter):
    """runserver's access line for a 4xx or 5xx response repeats what django.request has just
    logged with the reason and the request id: dropped, so the error is logged once."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _status(record) < 400
