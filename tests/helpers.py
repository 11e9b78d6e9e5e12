"""Signing in for tests: one place, so a change to sign-in (a second factor) changes it once."""

from django.contrib.sessions.backends.base import SessionBase
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice


def sign_in(client, person, *, second_factor: bool = True) -> None:
    """Signs the person in with a verified second factor, as after the real two-step sign-in.

    second_factor=False leaves the session unverified, as after the password step alone."""
    client.force_login(person.user)
    if not second_factor:
        return
    device = TOTPDevice.objects.filter(user=person.user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=person.user, name="Test app", confirmed=True)
    session: SessionBase = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
