"""GOV.UK Notify's delivery-receipt callback: the one route Notify calls, with the bearer token
set in GOVUK_NOTIFY_CALLBACK_TOKEN and in Notify's callback settings. It is exempt from CSRF
(Notify has no session and no form; the token is the proof) and from sign-in; nothing else is."""

from __future__ import annotations

import hmac
import json

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from escalations.notices import receipts


def _token_given(request: HttpRequest) -> bool:
    expected = settings.GOVUK_NOTIFY_CALLBACK_TOKEN
    given = request.headers.get("Authorization", "")
    # No token configured: no receipt is taken, rather than every receipt.
    return bool(expected) and hmac.compare_digest(given.encode(), f"Bearer {expected}".encode())


@csrf_exempt
@require_POST
def delivery_receipt(request: HttpRequest) -> JsonResponse:
    if not _token_given(request):
        response = JsonResponse({"error": "A valid bearer token is required."}, status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    try:
        payload = json.loads(request.body)
        count = receipts.record_receipt(payload, request)
    except (ValueError, receipts.BadReceipt) as error:
        message = str(error) if isinstance(error, receipts.BadReceipt) else "The body is not JSON."
        return JsonResponse({"error": message}, status=400)
    except receipts.UnknownReceipt:
        return JsonResponse({"error": "No notice was sent with that id and reference."}, status=404)
    return JsonResponse({"recorded": count})
