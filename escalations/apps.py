from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "escalations"
    verbose_name = "Escalations"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from escalations import checks  # noqa: F401 (registers the system checks)
        from escalations.notices.access import follow_membership

        # Notices follow access (ADR 0028): whoever changes a role, the admin included.
        membership = "cases.Membership"
        post_save.connect(follow_membership, sender=membership, dispatch_uid="notices-follow-save")
        post_delete.connect(follow_membership, sender=membership, dispatch_uid="notices-follow-del")
