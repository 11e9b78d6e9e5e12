import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from escalation_portal import health

logger = logging.getLogger(__name__)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers, compose and operators: 200 when the database and broker answer and
    the worker and beat have been seen lately, else 503 naming what is down
    (escalation_portal.health says what each part means). Answers within 2 s, Redis frozen
    or not: the broker is given one second."""
    healthy, body = health.report()
    response = JsonResponse(body, status=200 if healthy else 503)
    if not healthy:
        # One warning naming what is down, rather than Django's "Service Unavailable" error
        # line: a load balancer asks every few seconds, and the log is for what changed.
        logger.warning("healthz: down: %s", ", ".join(body["down"]))
        response._has_been_logged = True
    return response
