"""A local fake of GOV.UK Notify's HTTP API (POST /v2/notifications/email and /sms), through the
`responses` library: the official client talks HTTP to it exactly as to Notify. It checks the
client's JSON Web Token against the service's secret, as Notify does (403 otherwise), keeps
every message it accepted, and answers the next requests with the failures a test queues
(an HTTP status and Notify's error body, or a requests exception such as a timeout)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

import requests
import responses
from notifications_python_client.authentication import decode_jwt_token
from notifications_python_client.errors import TokenError

BASE_URL = "https://notify.invalid"
SERVICE_ID = "3f5a2c1e-8d4b-4e6f-9a7c-1b2d3e4f5a6b"
SECRET = "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
API_KEY = f"portal_test-{SERVICE_ID}-{SECRET}"
WRONG_KEY = f"portal_test-{SERVICE_ID}-00000000-0000-4000-8000-000000000000"

ERROR_NAMES = {
    400: "BadRequestError",
    403: "AuthError",
    429: "RateLimitError",
    500: "Exception",
}


@dataclass
class FakeNotify:
    mock: responses.RequestsMock
    messages: list[dict] = field(default_factory=list)
    queued: list = field(default_factory=list)

    def fail_next(self, *answers) -> None:
        """Queue answers: (status, message) pairs, or an exception to raise."""
        self.queued.extend(answers)

    def emails(self) -> list[dict]:
        return [m for m in self.messages if m["type"] == "email"]

    def texts(self) -> list[dict]:
        return [m for m in self.messages if m["type"] == "sms"]

    def _answer(self, kind: str, request):
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            decode_jwt_token(token, SECRET)
        except TokenError as error:
            return self._error(403, f"Invalid token: {error.message}")
        if self.queued:
            answer = self.queued.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return self._error(*answer)
        body = json.loads(request.body)
        notify_id = str(uuid.uuid4())
        self.messages.append({"type": kind, "id": notify_id, **body})
        return 201, {}, json.dumps({"id": notify_id, "reference": body.get("reference")})

    @staticmethod
    def _error(status: int, message: str):
        body = {
            "errors": [{"error": ERROR_NAMES.get(status, "Exception"), "message": message}],
            "status_code": status,
        }
        return status, {}, json.dumps(body)


def start(mock: responses.RequestsMock) -> FakeNotify:
    fake = FakeNotify(mock)
    for kind in ("email", "sms"):
        mock.add_callback(
            responses.POST,
            f"{BASE_URL}/v2/notifications/{kind}",
            callback=lambda request, kind=kind: fake._answer(kind, request),
            content_type="application/json",
        )
    return fake


TIMEOUT = requests.exceptions.ReadTimeout("Read timed out. (read timeout=10)")
