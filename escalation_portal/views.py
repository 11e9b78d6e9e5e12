import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from escalation_portal.celery import app as celery_app

logger = logging.getLogger(__name__)


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("healthz: database did not answer", exc_info=True)
        return False


def broker_answers() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            return True
    except Exception:
        logger.warning("healthz: broker did not answer", exc_info=True)
        return False


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and compose: 200 when the database and broker answer, else 503."""
    checks = {"database": database_answers(), "broker": broker_answers()}
    down = [name for name, ok in checks.items() if not ok]
    body = {"status": "ok" if not down else "down", "down": down}
    body.update({name: "ok" if ok else "down" for name, ok in checks.items()})
    return JsonResponse(body, status=503 if down else 200)
