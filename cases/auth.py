"""The portal's sign-in backend."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class PortalBackend(ModelBackend):
    """Django's ModelBackend, loading the user's Person in the same query: every signed-in page
    needs both, and this is the query that runs on every request."""

    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related("person")
        try:
            user = users.get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        if not self.user_can_authenticate(user):
            return None
        user.person_loaded_with_user = True  # cases.people.person_for reads it
        return user
