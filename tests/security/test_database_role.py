"""The portal runs as the restricted database role (README, "Deployment: security"): compose
connects web, worker and beat as portal_app, migrates as the owner and then restricts
portal_app, and the web server refuses to start as a role that could change the audit log."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.core.management import call_command
from django.db import connection

from audit.checks import audit_role_problems, check_audit_role

ROOT = Path(__file__).resolve().parents[2]
postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="roles and privileges are PostgreSQL's"
)


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def service_env(service: dict, anchor: dict) -> dict:
    return {**anchor.get("environment", {}), **service.get("environment", {})}


def test_compose_runs_the_portal_as_the_restricted_role_and_migrates_as_the_owner():
    services = compose()["services"]
    for name in ("web", "worker", "beat"):
        url = urlsplit(services[name]["environment"]["DATABASE_URL"])
        assert url.username == "portal_app", name
    migrate = services["migrate"]
    assert urlsplit(migrate["environment"]["DATABASE_URL"]).username == "portal"
    assert "restrict_audit_privileges portal_app" in migrate["command"]
    assert "check --deploy --tag database_role" in services["web"]["command"]


def test_the_readme_says_which_role_make_run_uses():
    readme = (ROOT / "README.md").read_text()
    assert "`make run` connects" in readme


def test_sqlite_has_no_roles_to_check(db):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only")
    assert audit_role_problems() == []
    assert check_audit_role() == []


@postgresql_only
def test_the_deploy_check_refuses_the_owner_and_an_unrestricted_role_and_passes_a_restricted_one(
    db,
):
    [error] = check_audit_role()  # the tests connect as the owner, a superuser
    assert error.id == "audit.E001" and "superuser" in error.msg
    role = f"portal_app_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO {role}"
        )
        cursor.execute(f"SET ROLE {role}")
    try:
        unrestricted = audit_role_problems()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert f"{role} may UPDATE audit_auditentry" in unrestricted
    assert f"{role} may TRUNCATE escalations_event" in unrestricted
    call_command("restrict_audit_privileges", role, stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {role}")
    try:
        assert audit_role_problems() == []
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
