from django.apps import AppConfig


class RecordConfig(AppConfig):
    name = "escalations.record"
    label = "record"
    verbose_name = "Escalation records"
