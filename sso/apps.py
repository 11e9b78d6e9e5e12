from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = "Single sign-on"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A mistyped SSO_PROVIDERS stops the portal at start, naming the entry and field.
        from sso.providers import providers

        providers()
