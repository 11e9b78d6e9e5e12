from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from escalation_portal import health


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers, compose and operators: 200 when the database and broker answer and
    the worker and beat have been seen lately, else 503 naming what is down
    (escalation_portal.health says what each part means). Answers within 2 s, Redis frozen
    or not: the broker is given one second."""
    healthy, body = health.report()
    return JsonResponse(body, status=200 if healthy else 503)
