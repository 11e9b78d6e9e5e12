import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import sign_in

ROOT = Path(__file__).resolve().parents[2]
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def directives(header: str) -> dict[str, str]:
    parts = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {name: value if value else "" for name, *rest in parts for value in [" ".join(rest)]}


def test_every_page_sends_a_strict_content_security_policy(client, db):
    response = client.get("/")

    policy = directives(response["Content-Security-Policy"])
    assert policy == POLICY
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


@pytest.mark.urls("tests.support.csp_urls")
def test_the_policy_is_django_csps_and_follows_the_settings(client, db, settings):
    # The portal's middleware builds the settings' policy once (ADR 0036): the same header.
    assert directives(client.get("/plain/")["Content-Security-Policy"]) == POLICY
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"script-src": ["'self'"]}}
    response = client.get("/plain/")
    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert directives(response["Content-Security-Policy-Report-Only"]) == {
        "default-src": "'self'",
        "script-src": "'self'",
    }
    settings.CONTENT_SECURITY_POLICY["EXCLUDE_URL_PREFIXES"] = ["/plain/"]
    assert "Content-Security-Policy" not in client.get("/plain/")


@pytest.mark.urls("tests.support.csp_urls")
def test_a_page_with_a_policy_of_its_own_an_exemption_or_a_nonce_still_gets_it(client, db):
    own = directives(client.get("/own-policy/")["Content-Security-Policy"])
    assert own == {**POLICY, "img-src": "'self' data: https://maps.example.org"}
    assert "Content-Security-Policy" not in client.get("/exempt/")
    response = client.get("/nonce/")
    nonce = response.content.decode()
    assert directives(response["Content-Security-Policy"])["default-src"] == "'self'"
    assert nonce and len(nonce) >= 16


def test_pages_refuse_framing_and_send_the_referrer_only_to_the_same_origin(client, db):
    response = client.get("/")

    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_https_responses_carry_hsts_when_configured(client, db, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True

    response = client.get("/", secure=True)

    assert response["Strict-Transport-Security"].startswith("max-age=31536000; includeSubDomains")


def test_nothing_shown_to_a_signed_in_person_may_be_cached(world, client):
    sign_in(client, world.alice)

    for path in ("/", "/account/two-factor/backup-codes/", "/admin/"):
        response = client.get(path)
        assert "no-store" in response["Cache-Control"], path


def test_an_unverified_persons_redirects_are_not_cached_either(world, client):
    sign_in(client, world.alice, second_factor=False)

    assert "no-store" in client.get("/")["Cache-Control"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=|\son[a-z]+=", re.IGNORECASE)


# Rendered to PDF by WeasyPrint only, never served to a browser: the CSP does not apply.
PDF_ONLY_TEMPLATES = {"record/record.html"}


def test_no_template_has_inline_script_style_or_event_handlers():
    offenders = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        if path.relative_to(ROOT / "templates").as_posix() in PDF_ONLY_TEMPLATES:
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, INLINE_STYLE):
            offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in pattern.finditer(text)]
    assert offenders == [], "the CSP blocks these; move them to static files"


def production_env(tmp_path, **extra: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "portal.example.org",
        "VAR_DIR": str(tmp_path),
        **extra,
    }


def test_check_deploy_reports_no_issues_with_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_use_secure_cookies_and_hsts(tmp_path):
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'escalation_portal.settings';"
        "django.setup(); from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS,"
        " s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_HTTPONLY)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "31536000", "True", "True"]
