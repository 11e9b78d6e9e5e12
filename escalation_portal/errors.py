"""What a server error report may say: never what people typed, never the values in play.

Django emails ADMINS a report of every 500 (when ADMINS is set and DEBUG is off) with the
request's POST data and, in its HTML form, each frame's local variables: a child's name, date
of birth and address among them, in an email, which is not a secure channel. With DEBUG off
this filter keeps the field names and hides every value; DEBUG's own error page is unchanged."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from escalation_portal import request_ids


class NoPersonalDataReporterFilter(SafeExceptionReporterFilter):
    def get_post_parameters(self, request):
        if request is None:
            return {}
        if not self.is_active(request):
            return super().get_post_parameters(request)
        return dict.fromkeys(request.POST, self.cleansed_substitute)

    def get_traceback_frame_variables(self, request, tb_frame):
        if not self.is_active(request):
            return super().get_traceback_frame_variables(request, tb_frame)
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]


# --- the portal's own error pages, DEBUG on or off -----------------------------------------
# With DEBUG on (the demo, `make run`) Django answers a missing page and an exception with its
# technical pages: the URL patterns, the settings, a traceback with local values. The demo is
# shown to practitioners and must behave as the service does, so the portal answers with its
# own GOV.UK pages in every mode; the traceback of a server error is in the log, once, with
# the request id the page shows.


class PortalExceptionReporter(ExceptionReporter):
    """Django builds the DEBUG answer to an exception from this (DEFAULT_EXCEPTION_REPORTER):
    here the portal's own page. Emails to ADMINS keep Django's full report (filtered above)."""

    def _bad_request(self) -> bool:
        # Django answers these with 400, through this same page builder.
        return isinstance(self.exc_value, BadRequest | SuspiciousOperation)

    def get_traceback_html(self) -> str:
        if self.is_email:
            return super().get_traceback_html()
        from escalations.views import errors

        page = errors.bad_request if self._bad_request() else errors.server_error
        return page(self.request).content.decode()

    def get_traceback_text(self) -> str:
        if self.is_email:
            return super().get_traceback_text()
        if self._bad_request():
            return "Sorry, there is a problem with what was sent.\n"
        reference = request_ids.for_request(self.request) if self.request else request_ids.current()
        return f"Sorry, there is a problem with the service. Reference: {reference}\n"


class ErrorPagesMiddleware:
    """With DEBUG on, a missing page is the portal's "Page not found", as with DEBUG off.

    Just before AxesMiddleware (last), so the page it puts in place of Django's technical one
    still passes through the security, CSP and no-store middleware outside it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # No view was found for the address: the 404 is Django's own answer, not a view's.
        if settings.DEBUG and response.status_code == 404 and request.resolver_match is None:
            return self._not_found(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if settings.DEBUG and isinstance(exception, Http404):
            return self._not_found(request)
        return None

    @staticmethod
    def _not_found(request: HttpRequest) -> HttpResponse:
        from escalations.views import errors

        return errors.not_found(request)
