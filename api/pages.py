"""The pages where an agency's safeguarding lead, or a partnership administrator, makes and
revokes the agency's case-system tokens, and the API's documentation page. Thin: the rules
are api.access (who) and api.tokens (how)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from drf_spectacular.generators import SchemaGenerator

from api import tokens, webhooks
from api.access import manageable_agencies
from api.forms import NewTokenForm, WebhookForm
from api.models import CaseSystemToken, Webhook
from audit import log as audit_log
from audit.models import AuditEntry
from cases.people import person_for

NEW_TOKEN = "api_new_token"
NEW_WEBHOOK = "api_new_webhook"


def _agency(request: HttpRequest, agency_id: int):
    person = person_for(request.user)
    agency = manageable_agencies(person).filter(pk=agency_id).first()
    if agency is None:
        raise Http404
    return person, agency


@never_cache
@login_required
def start(request: HttpRequest) -> HttpResponse:
    agencies = list(manageable_agencies(person_for(request.user)).order_by("name"))
    if not agencies:
        raise Http404
    if len(agencies) == 1:
        return HttpResponseRedirect(f"/case-systems/agencies/{agencies[0].pk}/")
    return render(
        request, "api/start.html", {"agencies": agencies, "portal_section": "case-systems"}
    )


@never_cache
@login_required
def agency_tokens(request: HttpRequest, agency_id: int) -> HttpResponse:
    person, agency = _agency(request, agency_id)
    form = NewTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        made, secret = tokens.issue(agency, form.cleaned_data["name"], person)
        audit_log.record(
            request,
            kind=AuditEntry.Kind.CHANGE,
            what=f"case-system token made: {made}",
            object_type="case-system token",
            object_id=str(made.pk),
            agency_ids=[agency.pk],
            changes=[("Case-system token", "", f"{made} (active)")],
        )
        # Post, then redirect: reloading the page must not make a second token. The secret
        # waits in the session for the one page that shows it, which takes it out again.
        request.session[NEW_TOKEN] = {"id": made.pk, "secret": secret}
        return HttpResponseRedirect(request.path)
    shown = request.session.pop(NEW_TOKEN, None) if request.method == "GET" else None
    made = secret = None
    if shown:
        made = CaseSystemToken.objects.filter(agency=agency, pk=shown["id"]).first()
        secret = shown["secret"] if made else None
    return render(
        request,
        "api/tokens.html",
        {
            "portal_section": "case-systems",
            "agency": agency,
            "form": form,
            "made": made,
            "secret": secret,
            "tokens": CaseSystemToken.objects.filter(agency=agency).select_related(
                "created_by", "revoked_by"
            ),
            **_webhook_context(request, agency),
        },
    )


def _webhook_context(request: HttpRequest, agency, form=None) -> dict:
    shown = request.session.pop(NEW_WEBHOOK, None) if request.method == "GET" else None
    live = Webhook.objects.filter(agency=agency, stopped_on__isnull=True).first()
    return {
        "webhook": live,
        "webhook_form": form or WebhookForm(),
        "webhook_secret": shown["secret"] if shown and live and shown["id"] == live.pk else None,
    }


@never_cache
@login_required
@require_POST
def webhook_set(request: HttpRequest, agency_id: int) -> HttpResponse:
    """Send each event to this address from now on (replacing any earlier one), signed with a
    new secret shown once."""
    person, agency = _agency(request, agency_id)
    form = WebhookForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "api/tokens.html",
            {
                "portal_section": "case-systems",
                "agency": agency,
                "form": NewTokenForm(),
                "tokens": CaseSystemToken.objects.filter(agency=agency),
                **_webhook_context(request, agency, form),
            },
            status=400,
        )
    made = webhooks.set_up(agency, form.cleaned_data["url"], person)
    audit_log.record(
        request,
        kind=AuditEntry.Kind.CHANGE,
        what=f"case-system webhook set: {made.url}"[:200],
        object_type="case-system webhook",
        object_id=str(made.pk),
        agency_ids=[agency.pk],
        changes=[("Webhook", "", made.url)],
    )
    request.session[NEW_WEBHOOK] = {"id": made.pk, "secret": made.secret}
    return HttpResponseRedirect(f"/case-systems/agencies/{agency.pk}/")


@never_cache
@login_required
@require_POST
def webhook_stop(request: HttpRequest, agency_id: int) -> HttpResponse:
    _, agency = _agency(request, agency_id)
    live = Webhook.objects.filter(agency=agency, stopped_on__isnull=True).first()
    if live is not None and webhooks.stop(live):
        audit_log.record(
            request,
            kind=AuditEntry.Kind.CHANGE,
            what=f"case-system webhook stopped: {live.url}"[:200],
            object_type="case-system webhook",
            object_id=str(live.pk),
            agency_ids=[agency.pk],
            changes=[("Webhook", live.url, "stopped")],
        )
        messages.success(request, "The webhook is stopped: no more events are sent.")
    return HttpResponseRedirect(f"/case-systems/agencies/{agency.pk}/")


@never_cache
@login_required
@require_POST
def revoke(request: HttpRequest, agency_id: int, token_id: int) -> HttpResponse:
    person, agency = _agency(request, agency_id)
    token = CaseSystemToken.objects.filter(agency=agency, pk=token_id).first()
    if token is None:
        raise Http404
    if tokens.revoke(token, person):
        audit_log.record(
            request,
            kind=AuditEntry.Kind.CHANGE,
            what=f"case-system token revoked: {token}",
            object_type="case-system token",
            object_id=str(token.pk),
            agency_ids=[agency.pk],
            changes=[("Case-system token", f"{token} (active)", f"{token} (revoked)")],
        )
        messages.success(request, f"{token} is revoked: it no longer works.")
    return HttpResponseRedirect(f"/case-systems/agencies/{agency.pk}/")


def api_docs(request: HttpRequest) -> HttpResponse:
    """The API described for people, from the same OpenAPI schema /api/schema/ serves."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = [
        {"path": path, "method": method.upper(), **operation}
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]
    return render(request, "api/docs.html", {"schema": schema, "operations": operations})
