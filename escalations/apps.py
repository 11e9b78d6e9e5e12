from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "escalations"
    verbose_name = "Escalations"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_delete, post_save

        from escalations import checks  # noqa: F401 (registers the system checks)
        from escalations.conference.services import remember_conference_link
        from escalations.notices.access import follow_membership

        # Notices follow access (ADR 0028): whoever changes a role, the admin included.
        membership = "cases.Membership"
        post_save.connect(follow_membership, sender=membership, dispatch_uid="notices-follow-save")
        post_delete.connect(follow_membership, sender=membership, dispatch_uid="notices-follow-del")
        # The navigation's conference link, kept in the session from sign-in (issue 18).
        user_logged_in.connect(remember_conference_link, dispatch_uid="conference-link")
