"""The client's address, read one way for lockout, audit and logs.

Behind TRUSTED_PROXY_COUNT reverse proxies, each appends the address it received from to
X-Forwarded-For, so the client is the entry that many places from the right. Entries further
left were written by the client and can say anything: they are never trusted.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """REMOTE_ADDR with no proxy; else the address the outermost trusted proxy saw."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return _valid(request.META.get("REMOTE_ADDR", ""))
    forwarded = [
        part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
    ]
    if len(forwarded) < proxies:
        # Fewer hops than proxies: misconfigured, or a request that bypassed the proxy.
        return _valid(request.META.get("REMOTE_ADDR", ""))
    return _valid(forwarded[-proxies])
