"""The portal's sign-in backend."""

from __future__ import annotations

from contextvars import ContextVar

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Exists, OuterRef
from django_otp.models import Device

# The second factor the session says verified it (django_otp's persistent id, such as
# "otp_totp.totpdevice/12"), set by security.middleware.SignedInMiddleware while it loads the
# user, so that whether that device still stands is read in the same query (issue 18 point 5).
SESSION_DEVICE: ContextVar[str | None] = ContextVar("session_device", default=None)


def device_standing(persistent_id: str | None):
    """EXISTS: the session's device is a confirmed device of the user being loaded; None for
    no device or an id that names no device model."""
    if not persistent_id:
        return None
    label, _, pk = persistent_id.rpartition("/")
    if label.count(".") > 1:  # django_otp's legacy form, the full import path
        parts = label.split(".")
        label = f"{parts[-3]}.{parts[-1]}"
    try:
        # scoped-lookup: allowed (only a django_otp device model is used, checked below)
        model = apps.get_model(label)
        pk = int(pk)
    except (LookupError, ValueError):
        return None
    if not issubclass(model, Device):
        return None
    return Exists(model._default_manager.filter(pk=pk, user=OuterRef("pk"), confirmed=True))


class PortalBackend(ModelBackend):
    """Django's ModelBackend, loading the user's Person in the same query: every signed-in page
    needs both, and this is the query that runs on every request. Whether the session's second
    factor still stands is read in it too (SESSION_DEVICE): `second_factor_stands`."""

    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related("person")
        standing = device_standing(SESSION_DEVICE.get())
        if standing is not None:
            users = users.annotate(second_factor_stands=standing)
        try:
            user = users.get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        if not self.user_can_authenticate(user):
            return None
        user.person_loaded_with_user = True  # cases.people.person_for reads it
        return user
