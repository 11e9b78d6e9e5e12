"""The second factor a provider did: a django-otp device that can only be used by single
sign-on, when the provider is trusted to replace the portal's second factor and its token says
it asked for more than one factor. It never accepts a code, so it opens nothing by itself."""

from __future__ import annotations

from django_otp.models import Device


class ProviderMFADevice(Device):
    def verify_token(self, token) -> bool:
        return False
