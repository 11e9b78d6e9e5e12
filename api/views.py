"""The case-system API's endpoints. Every escalation is reached through
Escalation.objects.visible_to(request.user), where request.user is the token's CaseSystem (the
agency's safeguarding lead's view, api.principal): anything else answers exactly as a reference
that does not exist (404). Every read is audited (api.audit); every endpoint is throttled
(settings REST_FRAMEWORK)."""

from __future__ import annotations

import logging

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api import audit
from api.authentication import IsCaseSystem
from api.changes import settled_events
from api.models import CaseReference
from api.serializers import (
    CaseReferenceSerializer,
    ChangesSerializer,
    EscalationDetailSerializer,
    EscalationListItemSerializer,
    EventSerializer,
)
from api.throttling import PerAddressThrottle, PerTokenThrottle
from audit.models import AuditEntry
from escalations.models import Escalation, Event
from escalations.record import engine
from escalations.record.render import render_record_pdf, with_record
from escalations.record.views import pdf_response

logger = logging.getLogger(__name__)

NOT_FOUND = "No escalation with that reference that your agency may see."
REFERENCE = OpenApiParameter(
    "reference",
    str,
    OpenApiParameter.PATH,
    description="The escalation's reference, as the portal shows it (for example KIR-2026-00042).",
)


class PDFRenderer(BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # Errors (a dict) are still written out, as JSON text.
        return data if isinstance(data, bytes) else JSONRenderer().render(data)


class CaseSystemView(APIView):
    permission_classes = [IsCaseSystem]

    def initial(self, request, *args, **kwargs):
        # The address's allowance first, before the token is looked at: guessing tokens is
        # slowed down too (DRF would authenticate, and refuse, before any throttle).
        address = PerAddressThrottle()
        if not address.allow_request(request, self):
            self.throttled(request, address.wait())
        super().initial(request, *args, **kwargs)

    def get_throttles(self):
        return [PerTokenThrottle()]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # DRF put the token's CaseSystem on Django's request too: take it off again, so that
        # the session middleware neither starts nor refreshes a session (no cookie) for a
        # token. Nothing the API answers is kept by a cache on the way (ASVS 14.3.2).
        request._request.user = AnonymousUser()
        response["Cache-Control"] = "no-store, private"
        return response

    def visible(self):
        """The escalations the token's agency's safeguarding lead may see."""
        return Escalation.objects.visible_to(self.request.user)

    def summaries(self):
        return (
            self.visible()
            .select_related("partnership", "child", "stage", "raising_agency", "receiving_agency")
            .prefetch_related(
                Prefetch(
                    "case_references",
                    queryset=CaseReference.objects.filter(agency=self.request.user.agency),
                )
            )
        )

    def escalation(self, reference: str, queryset=None) -> Escalation:
        try:
            return (queryset if queryset is not None else self.visible()).get(reference=reference)
        except Escalation.DoesNotExist:
            raise exceptions.NotFound(NOT_FOUND) from None

    def get_serializer_context(self) -> dict:
        return {"agency": self.request.user.agency, "request": self.request}


class ChildEscalations(CaseSystemView):
    @extend_schema(
        operation_id="child_escalations",
        parameters=[
            OpenApiParameter(
                "case_reference",
                str,
                OpenApiParameter.PATH,
                description="Your agency's own reference for the child's file.",
            )
        ],
        summary="Escalations about a child, by your agency's case reference",
        description=(
            "Every escalation your agency is a party to that your case system gave this case "
            "reference (PUT /api/v1/escalations/{reference}/case-reference/), newest first."
        ),
        responses=EscalationListItemSerializer(many=True),
    )
    def get(self, request, case_reference: str):
        escalations = list(
            self.summaries()
            .filter(
                case_references__agency=request.user.agency,
                case_references__reference=case_reference,
            )
            .order_by("-raised_on", "-pk")
        )
        audit.record_reads(request, escalations, "escalations for a child by case reference")
        return Response(
            EscalationListItemSerializer(
                escalations, many=True, context=self.get_serializer_context()
            ).data
        )


class EscalationDetail(CaseSystemView):
    @extend_schema(
        operation_id="escalation",
        parameters=[REFERENCE],
        summary="One escalation: summary, stage, deadlines, outcomes and events",
        responses={200: EscalationDetailSerializer, 404: OpenApiResponse(description=NOT_FOUND)},
    )
    def get(self, request, reference: str):
        queryset = self.summaries().prefetch_related(
            "natures",
            "outcomes",
            Prefetch(
                "events",
                queryset=Event.objects.select_related("actor", "actor_agency", "escalation"),
            ),
        )
        escalation = self.escalation(reference, queryset)
        audit.record_read(request, escalation, "escalation")
        return Response(
            EscalationDetailSerializer(escalation, context=self.get_serializer_context()).data
        )


class RecordPdf(CaseSystemView):
    renderer_classes = [PDFRenderer, JSONRenderer]

    @extend_schema(
        operation_id="record_pdf",
        parameters=[REFERENCE, OpenApiParameter("format", exclude=True)],
        summary="The Professional Difference Escalation Record, as PDF",
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description=NOT_FOUND),
        },
    )
    def get(self, request, reference: str):
        escalation = self.escalation(reference, with_record(self.visible()))
        try:
            pdf = render_record_pdf(escalation)
        except engine.RenderError:
            logger.exception("api: could not render the record of %s", reference)
            raise exceptions.APIException(
                "The record could not be produced just now. Try again in a minute."
            ) from None
        audit.record(
            request, kind=AuditEntry.Kind.DOWNLOAD, what="API: record PDF", escalation=escalation
        )
        return pdf_response(pdf, f"{escalation.reference}-record.pdf")


class SetCaseReference(CaseSystemView):
    @extend_schema(
        operation_id="set_case_reference",
        parameters=[REFERENCE],
        summary="Give an escalation your agency's case reference for the child",
        description="Replaces the reference your agency gave it before, if any.",
        request=CaseReferenceSerializer,
        responses={200: CaseReferenceSerializer, 404: OpenApiResponse(description=NOT_FOUND)},
    )
    def put(self, request, reference: str):
        escalation = self.escalation(reference)
        serializer = CaseReferenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        value = serializer.validated_data["case_reference"]
        agency = request.user.agency
        with transaction.atomic():
            link, created = escalation.case_references.select_for_update().get_or_create(
                agency=agency,
                escalation=escalation,
                defaults={"reference": value, "recorded_by_token": request.user.token},
            )
            before = "" if created else link.reference
            if not created and link.reference != value:
                link.reference = value
                link.recorded_by_token = request.user.token
                link.recorded_on = timezone.now()
                link.save(update_fields=["reference", "recorded_by_token", "recorded_on"])
            if created or before != value:
                entry = audit.entry(
                    request,
                    kind=AuditEntry.Kind.CHANGE,
                    what="API: case reference given",
                    escalation=escalation,
                )
                entry.changes = [[f"{agency.name} case reference", before, value]]
                entry.save()
        return Response({"case_reference": link.reference})


class Changes(CaseSystemView):
    @extend_schema(
        operation_id="changes",
        summary="Events since a cursor, for polling",
        description=(
            "Every event on an escalation your agency may see, in the order they happened, "
            "after the cursor (start with 0). Events appear once they are "
            "API_CHANGES_SETTLE_SECONDS old, so that one written in a longer transaction is "
            "never passed over. Keep next_cursor and send it as ?after= next time; while more "
            "is true, ask again at once."
        ),
        parameters=[
            OpenApiParameter("after", int, description="The last cursor you were given."),
            OpenApiParameter("limit", int, description="At most this many events (1 to 500)."),
        ],
        responses=ChangesSerializer,
    )
    def get(self, request):
        after = self.whole_number(request, "after", default=0, low=0, high=2**62)
        limit = self.whole_number(request, "limit", default=100, low=1, high=500)
        page, more = settled_events(self.visible(), after, limit)
        next_cursor = page[-1].pk if page else after
        escalations = {event.escalation_id: event.escalation for event in page}
        audit.record_reads(request, escalations.values(), "changes")
        return Response(
            {
                "events": EventSerializer(page, many=True).data,
                "next_cursor": next_cursor,
                "more": more,
            }
        )

    @staticmethod
    def whole_number(request, name: str, *, default: int, low: int, high: int) -> int:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise exceptions.ValidationError(
                {name: [f"{name} must be a whole number from {low} to {high}."]}
            )
        return int(raw)
