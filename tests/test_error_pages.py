"""Error pages are the portal's GOV.UK pages whether DEBUG is on (the demo) or off; a refusal is
logged in one line, a server error once with its traceback, each with the request id."""

import io
import logging
import re
from contextlib import contextmanager

import pytest
from django.db import OperationalError
from django.test import Client

from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in

DEBUG_ON_AND_OFF = pytest.mark.parametrize("debug", [True, False], ids=["debug-on", "debug-off"])
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


@contextmanager
def console_log():
    """What the portal's console handler writes (LOGGING's "console"), as a string."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


@pytest.fixture
def alice_whose_home_page_fails(world, monkeypatch) -> Client:
    """Alice, signed in, and her home page's database query fails (fault injected)."""

    def database_gone(request):
        raise OperationalError("the database went away")

    monkeypatch.setattr("escalations.views.home.visible_escalations", database_gone)
    client = Client(raise_request_exception=False)
    sign_in(client, world.alice)
    return client


def lines_for(log: str, request_id: str) -> list[str]:
    return [line for line in log.splitlines() if f"[{request_id}]" in line]


def only_line_logged(log: io.StringIO, response) -> str:
    """What answering the request logged: one line, naming its request id, no traceback."""
    written = log.getvalue()
    assert written.count("\n") == 1 and "Traceback" not in written, written
    (line,) = lines_for(written, response.headers["X-Request-ID"])
    return line


def is_portal_page(response, title: str) -> bool:
    html = response.content.decode()
    return (
        'class="govuk-template' in html
        and f"<title>{title} \u2013 Escalation Portal</title>" in html
        and "Traceback" not in html
        and "DEBUG = True" not in html
    )


@DEBUG_ON_AND_OFF
def test_a_wrong_address_shows_the_portals_page_not_found(debug, settings, client, db):
    settings.DEBUG = debug
    with console_log() as log:
        response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert is_portal_page(response, "Page not found")
    assert "Using the URLconf" not in response.content.decode()
    # The page still passes through the security headers' middleware (django-csp leaves a 404
    # without its header while DEBUG is on, for Django's own debug pages).
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert ("Content-Security-Policy" in response.headers) is not debug
    assert REQUEST_ID.match(response.headers["X-Request-ID"])
    line = only_line_logged(log, response)
    assert "WARNING django.request" in line and "Not Found: /no-such-page/" in line


@DEBUG_ON_AND_OFF
def test_an_escalation_not_shared_with_you_is_page_not_found_too(debug, settings, world):
    settings.DEBUG = debug
    escalation = OpenEscalationFactory()
    client = Client()
    sign_in(client, world.charlie)  # a practitioner at Kirklees Health, no part in it
    response = client.get(f"/escalations/{escalation.reference}/")
    assert response.status_code == 404
    assert is_portal_page(response, "Page not found")
    assert escalation.reference not in response.content.decode()


@DEBUG_ON_AND_OFF
def test_a_refusal_shows_the_portals_page_and_logs_one_line_without_a_traceback(
    debug, settings, world
):
    settings.DEBUG = debug
    client = Client()
    sign_in(client, world.alice)  # a practitioner: approvals are not hers to give
    with console_log() as log:
        response = client.get("/approvals/")
    assert response.status_code == 403
    assert is_portal_page(response, "You cannot do that")
    line = only_line_logged(log, response)
    assert "WARNING django.request" in line and "Forbidden (Permission denied): /approvals/" in line


@DEBUG_ON_AND_OFF
def test_a_form_posted_without_its_csrf_token_shows_the_expired_form_page(debug, settings, db):
    settings.DEBUG = debug
    client = Client(enforce_csrf_checks=True)
    with console_log() as log:
        response = client.post("/sign-in/", {"username": "alice", "password": "x"})
    assert response.status_code == 403
    assert is_portal_page(response, "Your form has expired")
    line = only_line_logged(log, response)
    assert "WARNING django.security.csrf" in line and "CSRF" in line


@DEBUG_ON_AND_OFF
def test_a_server_error_shows_the_portals_page_with_the_reference_logged_once_with_its_traceback(
    debug, settings, alice_whose_home_page_fails
):
    settings.DEBUG = debug
    client = alice_whose_home_page_fails
    with console_log() as log:
        response = client.get("/")
    assert response.status_code == 500
    assert is_portal_page(response, "Sorry, there is a problem with the service")
    request_id = response.headers["X-Request-ID"]
    assert f"quote this reference: <strong>{request_id}</strong>" in response.content.decode()
    written = log.getvalue()
    (line,) = lines_for(written, request_id)
    assert "ERROR django.request" in line and "Internal Server Error: /" in line
    assert written.count("Traceback (most recent call last)") == 1
    assert "OperationalError: the database went away" in written


@DEBUG_ON_AND_OFF
def test_a_request_the_portal_cannot_read_is_a_bad_request_page_logged_in_one_line(
    debug, settings, db
):
    settings.DEBUG = debug
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    client = Client(raise_request_exception=False)
    with console_log() as log:
        response = client.post("/sign-in/", {f"field{n}": "x" for n in range(10)})
    assert response.status_code == 400
    assert is_portal_page(response, "Sorry, there is a problem with what was sent")
    assert "django.security.TooManyFieldsSent" in only_line_logged(log, response)


def test_a_client_cannot_choose_its_request_id_without_a_trusted_proxy(settings, client, db):
    settings.TRUSTED_PROXY_COUNT = 0
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="chosen-by-the-client")
    assert REQUEST_ID.match(response.headers["X-Request-ID"])


def test_a_trusted_proxys_request_id_is_kept_if_it_is_well_formed(settings, client, db):
    settings.TRUSTED_PROXY_COUNT = 1
    given = "3f2a9c1e7b6d4a5f8e0c1b2a3d4e5f60"
    assert client.get("/healthz", HTTP_X_REQUEST_ID=given).headers["X-Request-ID"] == given
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="a\nWARNING forged log line")
    assert REQUEST_ID.match(forged.headers["X-Request-ID"])


def test_runservers_access_line_for_an_error_is_left_to_django_request():
    handler = next(h for h in logging.getLogger("django.server").handlers if h.name)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        server = logging.getLogger("django.server")
        server.info('"GET / HTTP/1.1" 200 512', extra={"status_code": 200})
        server.warning('"GET /approvals/ HTTP/1.1" 403 2048', extra={"status_code": 403})
        server.error('"GET / HTTP/1.1" 500 1024', extra={"status_code": 500})
    finally:
        handler.setStream(previous)
    assert '"GET / HTTP/1.1" 200' in stream.getvalue()
    assert "403" not in stream.getvalue() and "500" not in stream.getvalue()


def test_a_django_log_line_is_written_once_with_debug_on(settings, monkeypatch):
    # Django's own logging adds a console handler to "django" that writes while DEBUG is on:
    # with the portal's root handler, every refusal was written twice.
    settings.DEBUG = True
    written = []
    for logger in (logging.getLogger("django.request"), logging.getLogger("django"), logging.root):
        for handler in logger.handlers:
            if handler.name:  # configured by LOGGING or Django, not pytest's capture
                monkeypatch.setattr(handler, "emit", lambda record, h=handler: written.append(h))
    logging.getLogger("django.request").warning("Forbidden (Permission denied): /approvals/")
    assert [handler.name for handler in written] == ["console"]


def test_with_debug_on_a_client_not_asking_for_html_gets_the_reference_not_a_traceback(
    settings, alice_whose_home_page_fails
):
    settings.DEBUG = True
    client = alice_whose_home_page_fails
    response = client.get("/", HTTP_ACCEPT="application/json")
    assert response.status_code == 500
    assert response.content.decode() == (
        "Sorry, there is a problem with the service. "
        f"Reference: {response.headers['X-Request-ID']}\n"
    )
