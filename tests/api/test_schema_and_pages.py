"""The OpenAPI schema validates and its docs page describes every endpoint; tokens are made
(shown once) and revoked on a page, by the agency's safeguarding lead or a partnership
administrator, and both are in the audit log."""

from __future__ import annotations

import json

import pytest
import yaml
from openapi_spec_validator import validate

from api.models import CaseSystemToken
from audit.models import AuditEntry
from tests.api.conftest import api_client
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    ("get", "/api/v1/children/{case_reference}/escalations/"),
    ("get", "/api/v1/escalations/{reference}/"),
    ("get", "/api/v1/escalations/{reference}/record.pdf"),
    ("put", "/api/v1/escalations/{reference}/case-reference/"),
    ("get", "/api/v1/changes/"),
}


def test_the_openapi_schema_validates_and_names_every_endpoint(client, db):
    answer = client.get("/api/schema/")
    assert answer.status_code == 200
    schema = yaml.safe_load(answer.content)
    validate(schema)  # raises on an invalid OpenAPI 3 document
    assert schema["openapi"].startswith("3.")
    found = {(method, path) for path, ops in schema["paths"].items() for method in ops}
    assert found == ENDPOINTS
    assert schema["components"]["securitySchemes"]["caseSystemToken"]["scheme"] == "bearer"
    as_json = client.get("/api/schema/?format=json")
    validate(json.loads(as_json.content))


def test_the_docs_page_describes_each_endpoint(client, db):
    answer = client.get("/api/docs/")
    assert answer.status_code == 200
    page = answer.content.decode()
    for method, path in ENDPOINTS:
        assert f"{method.upper()} {path}" in page
    assert "Authorization: Bearer" in page


def test_the_lead_makes_a_token_seen_once_and_revokes_it(world, client):
    sign_in(client, world.grace)
    page = client.get(f"/case-systems/agencies/{world.csc.pk}/")
    assert page.status_code == 200
    made = client.post(
        f"/case-systems/agencies/{world.csc.pk}/", {"name": "  Mosaic  CSC "}, follow=True
    )
    assert made.redirect_chain == [(f"/case-systems/agencies/{world.csc.pk}/", 302)]
    secret = made.context["secret"]
    assert secret and secret in made.content.decode()
    token = CaseSystemToken.objects.get()
    assert token.name == "Mosaic CSC" and token.agency == world.csc
    assert token.created_by == world.grace
    # Shown once: the page never shows it again.
    assert secret not in client.get(f"/case-systems/agencies/{world.csc.pk}/").content.decode()
    assert api_client(secret).get("/api/v1/changes/").status_code == 200
    entry = AuditEntry.objects.get(object_type="case-system token", kind="change")
    assert entry.user == world.grace.user and entry.agency_ids == [world.csc.pk]
    assert secret not in json.dumps(entry.changes) + entry.what

    revoked = client.post(f"/case-systems/agencies/{world.csc.pk}/tokens/{token.pk}/revoke/")
    assert revoked.status_code == 302
    assert api_client(secret).get("/api/v1/changes/").status_code == 401
    token.refresh_from_db()
    assert token.revoked_by == world.grace and token.revoked_on is not None
    assert AuditEntry.objects.filter(
        object_type="case-system token", what__startswith="case-system token revoked"
    ).exists()
    assert AuditEntry.objects.visible_to(world.grace).filter(object_type="case-system token")


def test_a_name_is_asked_for(world, client):
    sign_in(client, world.grace)
    answer = client.post(f"/case-systems/agencies/{world.csc.pk}/", {"name": "   "})
    assert "Enter what the case system is called" in answer.content.decode()
    assert not CaseSystemToken.objects.exists()


@pytest.mark.parametrize(
    ("who", "agency", "allowed"),
    [
        ("grace", "csc", True),  # the CSC's safeguarding lead
        ("kim", "csc", True),  # Kirklees' partnership administrator
        ("kim", "constabulary", True),  # an agency Kirklees shares with Berkshire
        ("carol", "csc", False),  # another agency's safeguarding lead
        ("frank", "csc", False),  # the CSC's line manager
        ("heidi", "csc", False),  # the CSC's senior manager
        ("ivan", "csc", False),  # Kirklees' business manager
        ("pat", "csc", False),
        ("kim", "berkshire_school", False),  # another partnership's agency
    ],
)
def test_only_the_agency_s_lead_and_its_partnership_s_administrators_manage_tokens(
    world, client, who, agency, allowed
):
    sign_in(client, getattr(world, who))
    agency_id = getattr(world, agency).pk
    page = client.get(f"/case-systems/agencies/{agency_id}/")
    post = client.post(f"/case-systems/agencies/{agency_id}/", {"name": "Mosaic"})
    assert (page.status_code, post.status_code) == ((200, 302) if allowed else (404, 404))
    assert CaseSystemToken.objects.exists() is allowed


def test_someone_else_cannot_revoke_a_token(world, client):
    from api import tokens

    token, secret = tokens.issue(world.csc, "Mosaic", world.grace)
    sign_in(client, world.carol)
    answer = client.post(f"/case-systems/agencies/{world.csc.pk}/tokens/{token.pk}/revoke/")
    assert answer.status_code == 404
    answer = client.post(f"/case-systems/agencies/{world.school.pk}/tokens/{token.pk}/revoke/")
    assert answer.status_code == 404
    assert api_client(secret).get("/api/v1/changes/").status_code == 200


@pytest.mark.parametrize(("who", "shown"), [("grace", True), ("kim", True), ("frank", False)])
def test_the_navigation_offers_case_systems_to_those_who_manage_tokens(world, client, who, shown):
    sign_in(client, getattr(world, who))
    page = client.get("/directory/").content.decode()
    assert ('href="/case-systems/"' in page) is shown


def test_kim_chooses_among_the_partnership_s_agencies(world, client):
    sign_in(client, world.kim)
    page = client.get("/case-systems/")
    assert page.status_code == 200
    assert f'href="/case-systems/agencies/{world.csc.pk}/"' in page.content.decode()
    assert f'href="/case-systems/agencies/{world.berkshire_school.pk}/"' not in (
        page.content.decode()
    )
    sign_in(client, world.grace)
    assert client.get("/case-systems/")["Location"] == f"/case-systems/agencies/{world.csc.pk}/"


def test_drf_spectacular_generates_the_schema_without_a_warning(tmp_path, db):
    from django.core.management import call_command

    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )
    assert "/api/v1/changes/" in (tmp_path / "schema.yaml").read_text()
