"""Child protection conference concerns: models, services, forms, views and urls, driven by the
ladder files (docs/adr/0012-conference-concerns-as-ladder-data.md)."""

from escalations.conference.models import ConferenceReason, ConferenceReport, ConferenceResponse

__all__ = ["ConferenceReason", "ConferenceReport", "ConferenceResponse"]
