"""What a server error report may say: never what people typed, never the values in play.

Django emails ADMINS a report of every 500 (when ADMINS is set and DEBUG is off) with the
request's POST data and, in its HTML form, each frame's local variables: a child's name, date
of birth and address among them, in an email, which is not a secure channel. With DEBUG off
this filter keeps the field names and hides every value; DEBUG's own error page is unchanged."""

from __future__ import annotations

from django.views.debug import SafeExceptionReporterFilter


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
