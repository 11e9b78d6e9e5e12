from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Security and data protection"

    def ready(self) -> None:
        from security import sessions  # noqa: F401  (stamps the sign-in moment)
