"""Route census: every route the URL resolver knows is classified, and every route that is not
public turns away both a signed-out visitor and a signed-in one without a second factor.

Adding a route without classifying it here fails, naming the route. Classify it:
- PROTECTED: the route pattern -> how the isolation matrix (test_isolation.py) exercises it;
- SIGN_IN_STEPS: part of signing in (needs the password, not yet the second factor);
- PUBLIC: anyone may fetch it. Keep this list short.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

PUBLIC = {
    "healthz": "load balancer health check: no data",
    "admin/login/": "Django admin's sign-in page (password step)",
    "sign-in/": "the portal's sign-in page",
    "password-reset/": "asks for an email address; says nothing about accounts",
    "invitation/<str:token>/": "an invitee's link: its secret is the key (tests/people/test_invitations)",
    "invitation/<str:token>/ask-again/": "POST from an expired link: a new link to the same address",
    "api/schema/": "the case-system API's OpenAPI description: no data",
    "api/docs/": "the case-system API's documentation page: no data",
    "sso/<slug:key>/start/": "sends to a configured provider's sign-in (404 for any other key)",
    "sso/callback/": "the provider's answer: signs in only a matched person (tests/sso)",
    "notifications/govuk-notify/receipts/": "GOV.UK Notify's delivery receipts: POST with the configured bearer token, else 401; an unknown message 404 (tests/escalations/test_govuk_notify_receipts)",
}
PUBLIC_PREFIXES = ("static/", "password-reset/", "sign-in/reset/", "invitation/")

SIGN_IN_STEPS = {
    "account/two-factor/": "sends to set-up or verify",
    "account/two-factor/set-up/": "enrol an authenticator app",
    "account/two-factor/verify/": "second factor for this session",
    "sign-out/": "ends the session",
}

# The case-system API: a token, never a session, opens it; anything else gets 401.
TOKEN_ONLY = {
    "api/v1/*": "test_isolation_api: a token of every agency on every endpoint, as the oracle says",
}

# Route pattern (a prefix ending in * covers what a framework generates under it) -> how the
# isolation matrix exercises it.
PROTECTED = {
    "bench/baseline/": "development only (settings.BENCH_ROUTES, test_bench_routes_exist_only_in_development); needs sign-in",
    "admin/*": "staff only (AdminSite); matrix: 'admin change page' for every person in every relationship",
    "account/two-factor/backup-codes/": "needs a verified session; test_two_factor",
    "account/": "the signed-in person's own details only; test_work_phone",
    "account/work-phone/": "POST; the signed-in person's own work phone only (test_work_phone)",
    "audit/": "matrix: audit log page for every person; audit entries per person and escalation",
    "audit/export.csv": "as audit/, same scope (test_audit_views)",
    "audit/subject-access/": "safeguarding leads and partnership administrators, within visible_to (test_subject_access)",
    "escalations/<str:reference>/record.pdf": "matrix: 'record PDF', every refusal; rendered once per relationship and per escalation",
    "escalations/<str:reference>/records/": "matrix: 'record copies' for every person and escalation",
    "escalations/<str:reference>/records/<int:version>.pdf": "matrix: 'record copy v1' for every person and escalation with a copy",
    "": "matrix: 'home' lists only escalations the oracle allows, every one the person raised",
    "escalations/<str:reference>/": "matrix: 'escalation page', refusals the missing record's 404",
    "escalations/<str:reference>/raised/": "matrix: 'raised confirmation' for every person and escalation",
    "escalations/<str:reference>/<slug:action>/": "matrix: every slug, GET and POST, in every relationship; refused POSTs change nothing",
    "escalations/<str:reference>/actions/<int:action_id>/done/": "matrix: 'mark action done' POST for every person; refused ones change nothing",
    "raise/": "signed-in people with an agency (test_pages_raise)",
    "raise/drafts/<int:draft_id>/*": "the owner's drafts only (test_pages_raise)",
    "approvals/": "matrix: safeguarding leads only (every matrix agency has one); lists exactly their agency's awaiting approval. Managers standing in for an absent lead: test_approval_without_a_lead",
    "agency/escalations/": "matrix: managers, leads, seniors only; lists exactly their agencies' escalations",
    "directory/": "people of the person's partnerships (test_pages_conference_directory)",
    "partnerships/<slug:slug>/outcome-requests/": "the partnership's dashboard roles where its policy provides for it; only the business manager asks (test_outcome_requests)",
    "outcome-requests/<int:pk>/": "the asked agency's safeguarding lead or senior manager; 404 for anyone else (test_outcome_requests)",
    "conference/*": "ConferenceReport.visible_to (test_pages_conference_directory)",
    "partnerships/*": "matrix: that partnership's roles only (oracle), others the missing partnership's 404; references only where visible",
    "notifications/": "matrix: a notice to everyone about everything; listed exactly where the oracle allows",
    "notifications/<int:pk>/read/": "matrix: POST own notice per escalation, another's; refusals the missing notice's 404",
    "notifications/read/": "POST; own notices only (test_notifications)",
    "notifications/emails/": "POST; the signed-in person's own email preference (test_notifications)",
    "notifications/mobile/": "POST; the signed-in person's own mobile number (test_govuk_notify_mobile)",
    "manage/": "partnership administrators and safeguarding leads only (tests/people/test_pages)",
    "manage/partnerships/<slug:key>/*": "test_isolation_people: every page, every visitor, every scope; refused POSTs change nothing",
    "manage/agencies/<int:key>/*": "test_isolation_people: every page, every visitor, every scope; refused POSTs change nothing",
    "case-systems/*": "the agency's safeguarding lead and its partnerships' administrators only (tests/api/test_schema_and_pages)",
}

SAMPLE = {"app_label": "auth", "url": "nowhere/", "content_type_id": "1"}


def routes(patterns=None, prefix: str = "") -> list[str]:
    found = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            found += routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append(prefix + str(entry.pattern))
    return found


def classification(route: str) -> str | None:
    if route in PUBLIC or route.startswith(PUBLIC_PREFIXES):
        return "public"
    if route in SIGN_IN_STEPS:
        return "sign-in step"
    if any(route.startswith(pattern[:-1]) for pattern in TOKEN_ONLY):
        return "token only"
    for pattern in PROTECTED:
        if route == pattern or (pattern.endswith("*") and route.startswith(pattern[:-1])):
            return "protected"
    return None


def concrete(route: str) -> str:
    """A path for the route, with a sample value in each parameter."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLE.get(m.group(1), "1"), route)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: SAMPLE.get(m.group(1), "1"), path)
    return "/" + path.replace("^", "").replace("$", "")


def test_every_route_is_classified():
    unclassified = [route for route in routes() if classification(route) is None]

    assert unclassified == [], (
        "Routes nobody has classified (add each to PROTECTED with how the isolation matrix "
        "exercises it, or, if it really is public, to PUBLIC in tests/security/"
        "test_route_census.py):\n  " + "\n  ".join(unclassified)
    )


def test_every_protected_route_turns_away_the_signed_out_and_the_unverified(world, client):
    unverified = client.__class__()
    sign_in(unverified, world.carol, second_factor=False)
    failures = []
    tried = 0
    for route in routes():
        if classification(route) != "protected":
            continue
        path = concrete(route)
        tried += 1
        for who, visitor, expected in (
            ("signed out", client, None),
            ("no second factor", unverified, "/account/two-factor/"),
        ):
            response = visitor.get(path)
            location = response.get("Location", "")
            if response.status_code != 302 or (expected and not location.startswith(expected)):
                failures.append(f"{route} ({path}) {who}: {response.status_code} {location}")
    print(f"\nroute census: {len(routes())} routes, {tried} protected, each tried twice")
    assert failures == []


def test_sign_in_steps_need_at_least_the_password(client, db):
    for route in SIGN_IN_STEPS:
        if route not in routes():
            continue  # sign-out/ arrives with the portal's sign-in pages
        response = client.get(concrete(route))
        assert response.status_code in (302, 405), route


def test_token_only_routes_answer_401_to_the_signed_out_and_to_every_session(world, client):
    signed_in = client.__class__()
    sign_in(signed_in, world.grace)
    failures = []
    for route in routes():
        if classification(route) != "token only":
            continue
        path = concrete(route)
        for who, visitor in (("signed out", client), ("signed in, no token", signed_in)):
            status = visitor.get(path).status_code
            if status != 401:
                failures.append(f"{route} ({path}) {who}: {status}")
    assert failures == []


# README, "Deployment: security": the routes anyone may fetch. Changing PUBLIC means changing
# the README too.
DOCUMENTED_ALLOW_LIST = {
    "healthz",
    "admin/login/",
    "sign-in/",
    "password-reset/",
    "invitation/<str:token>/",
    "invitation/<str:token>/ask-again/",
    "api/schema/",
    "api/docs/",
    "sso/<slug:key>/start/",
    "sso/callback/",
    "notifications/govuk-notify/receipts/",
}


def test_the_allow_list_is_the_documented_one_and_each_answers_the_signed_out(client, db):
    assert set(PUBLIC) == DOCUMENTED_ALLOW_LIST
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for route in DOCUMENTED_ALLOW_LIST:
        assert f"`/{route}`" in readme, route
    for route in routes():
        if classification(route) != "public" or route.startswith("static/"):
            continue
        response = client.get(concrete(route))
        # Answered (a page, a form, a refusal of the sample token), not sent to sign in; a
        # provider's answer that is not one (no state) goes back to sign in, saying so.
        if route != "sso/callback/":
            assert not response.get("Location", "").startswith("/sign-in/"), route
        # /healthz answers 503 while no worker has been seen (as here): an answer all the same.
        assert response.status_code < 500 or route == "healthz", route


def test_bench_routes_exist_only_in_development(settings, world, client):
    from tests.helpers import sign_in

    assert "bench/baseline/" in routes()  # the test settings are development's
    assert client.get("/bench/baseline/").status_code == 302  # and it needs sign-in
    sign_in(client, world.alice)
    assert client.get("/bench/baseline/").status_code == 200
    settings.BENCH_ROUTES = False
    try:
        reload_urls()
        assert "bench/baseline/" not in routes()
        assert client.get("/bench/baseline/").status_code == 404
    finally:
        settings.BENCH_ROUTES = True
        reload_urls()
    assert "bench/baseline/" in routes()


def reload_urls() -> None:
    import importlib

    from django.urls import clear_url_caches

    import escalation_portal.urls
    import escalations.dashboards.urls

    importlib.reload(escalations.dashboards.urls)
    importlib.reload(escalation_portal.urls)
    clear_url_caches()
