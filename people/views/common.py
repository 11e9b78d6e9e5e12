"""What every administration page needs: its scope, or a missing page."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponseRedirect
from django.views.decorators.cache import never_cache

from people.scope import Can, Scope, agency_scope, partnership_scope


def scoped(*needs: Can):
    """The view gets the scope named by the URL (a partnership its administrator runs, or an
    agency its safeguarding lead runs) as its second argument; anyone else, or a scope that
    cannot do what the page is for, gets the missing page."""

    def decorate(view):
        @login_required
        @never_cache
        @wraps(view)
        def wrapped(request: HttpRequest, kind: str, key, **kwargs):
            scope = (
                partnership_scope(request, key)
                if kind == "partnership"
                else agency_scope(request, key)
            )
            for need in needs:
                scope.require(need)
            return view(request, scope, **kwargs)

        return wrapped

    return decorate


def done(request: HttpRequest, message: str, to: str) -> HttpResponseRedirect:
    messages.success(request, message)
    return HttpResponseRedirect(to)


def context(scope: Scope, **extra) -> dict:
    return {"scope": scope, "Can": {c.name: c in scope.can for c in Can}, **extra}


def posted(request: HttpRequest):
    """The POST data, bound even when empty (a confirmation button posts no field)."""
    return request.POST if request.method == "POST" else None
