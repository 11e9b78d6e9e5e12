"""The conference concern and its response. The tables belong to the escalations app (its
migrations), so the classes are defined in escalations.models.conference; named here for the
package."""

from escalations.models.conference import (
    ConferenceReason,
    ConferenceReport,
    ConferenceReportQuerySet,
    ConferenceResponse,
)

__all__ = ["ConferenceReason", "ConferenceReport", "ConferenceReportQuerySet", "ConferenceResponse"]
