"""Every API endpoint is rate-limited, per token, in a cache all web processes share."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from api.principal import CaseSystem


class SharedCacheThrottle(SimpleRateThrottle):
    """DRF's throttle, counting in the "api" cache (settings.CACHES): Redis when the portal
    runs on Redis, so that every gunicorn worker counts against the same limit."""

    def __init__(self):
        self.cache = caches["api"]
        super().__init__()

    def get_rate(self) -> str:
        # Read from settings on each request (not once at import), so that a changed limit
        # applies without a restart of the class and tests can set one.
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][self.scope]


class PerTokenThrottle(SharedCacheThrottle):
    """API_RATE_PER_TOKEN requests per token (for example "120/min")."""

    scope = "case_system"

    def get_cache_key(self, request, view):
        user = request.user
        if isinstance(user, CaseSystem):
            return self.cache_format % {"scope": self.scope, "ident": user.token.pk}
        return None


class PerAddressThrottle(SharedCacheThrottle):
    """API_RATE_PER_ADDRESS requests per client address, token or not: a wrong token guessed
    over and over is slowed down too."""

    scope = "address"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
