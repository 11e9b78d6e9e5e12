"""Every route and every form, fed arbitrary text: no server error, ever.

Hypothesis picks a route the URL resolver knows, fills its parameters with real values (an
escalation the visitor may open, their partnership, a real id) except one, which it fuzzes, and
sends GET and POST; and it posts fuzzed values in every field the route's own page offers.
Control characters (a NUL from `%00`, an escape) answer the 400 page that says what was wrong,
wherever they are (security.middleware.RefuseControlCharactersMiddleware). The examples are
bounded so the file runs in well under a minute; FUZZ_EXAMPLES=500 digs deeper. Run it on
PostgreSQL too (DATABASE_URL): a NUL reaches PostgreSQL as an error, SQLite as a miss."""

from __future__ import annotations

import os
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import OpenEscalationFactory, ResolvedEscalationFactory
from tests.helpers import sign_in
from tests.security.test_fuzz_forms import field_value
from tests.security.test_route_census import routes

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")
CONTROL = st.sampled_from(["\x00", "\x01", "\x1b[31m", "\x7f", "\x08", "\x0b", "\x1f"])
# What may land in a parameter or a field: anything typed, numbers, dates, and control
# characters alone or inside otherwise good values.
parameter_value = st.one_of(
    field_value,
    st.tuples(field_value, CONTROL, field_value).map("".join),
)
NAME = re.compile(r'<(?:input|textarea|select)[^>]*\bname="([^"]+)"')
SKIPPED = ("static/", "admin/")  # Django's own admin is staff-only and fuzzed by Django


@pytest.fixture
def visitors(world, client):
    """Carol (a safeguarding lead, who sees her school's escalations) and Kim (Kirklees'
    administrator, who runs its people pages), each signed in with both factors."""
    esc = OpenEscalationFactory()
    ResolvedEscalationFactory()
    kim = client.__class__()
    sign_in(client, world.carol)
    sign_in(kim, world.kim)
    real = {
        "reference": esc.reference,
        "slug": "kirklees",
        "key": str(world.kirklees.slug),
        "action": "note",
        "version": "1",
        "action_id": "1",
        "pk": "1",
        "draft_id": "1",
        "token": "abc",
        "table": "by-stage",
        "page": "dashboard",
    }
    return [client, kim], real


def fuzzable_routes() -> list[str]:
    return [route for route in routes() if not route.startswith(SKIPPED) and "(?P" not in route]


def path_for(route: str, real: dict, fuzzed: str | None = None, value: str = "") -> str:
    def fill(match):
        name = match.group(2)
        text = value if name == fuzzed else real.get(name, "1")
        return quote(text, safe="")

    return "/" + PARAMETER.sub(fill, route)


def field_names(client, path: str) -> list[str]:
    response = client.get(path)
    if response.status_code != 200:
        return []
    names = set(NAME.findall(response.content.decode(errors="replace")))
    return sorted(names - {"csrfmiddlewaretoken"})


def test_no_route_fails_on_any_parameter(visitors):
    clients, real = visitors
    choices = fuzzable_routes()

    @FUZZ
    @given(
        route=st.sampled_from(choices),
        who=st.sampled_from([0, 1]),
        value=parameter_value,
        data=st.data(),
    )
    def request(route, who, value, data):
        names = [m.group(2) for m in PARAMETER.finditer(route)]
        fuzzed = data.draw(st.sampled_from(names)) if names else None
        if fuzzed and data.draw(st.booleans()):
            value = real.get(fuzzed, "1") + value  # a good value with something after it
        path = path_for(route, real, fuzzed, value)
        client = clients[who]
        for response in (
            client.get(path, {"q": value}),
            client.post(path, {"q": value}),
        ):
            # /healthz answers 503 while no worker has been seen (as here), by design.
            server_error = response.status_code >= 500 and route != "healthz"
            assert not server_error, (path, response.status_code)

    request()


def test_no_form_fails_on_any_field(visitors):
    clients, real = visitors
    forms = []
    for route in fuzzable_routes():
        for who, client in enumerate(clients):
            path = path_for(route, real)
            names = field_names(client, path)
            if names:
                forms.append((who, path, names))
    assert len(forms) >= 10, forms  # the fuzz reaches real forms, not only refusals

    @FUZZ
    @given(form=st.sampled_from(forms), data=st.data())
    def post(form, data):
        who, path, names = form
        values = data.draw(
            st.fixed_dictionaries({}, optional=dict.fromkeys(names, parameter_value))
        )
        response = clients[who].post(path, values)
        assert response.status_code < 500, (path, values, response.status_code)

    post()


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x1b", "\x7f"], ids=repr)
def test_a_control_character_anywhere_is_refused_with_a_page_saying_so(visitors, character):
    clients, real = visitors
    client = clients[0]
    tried = 0
    for route in fuzzable_routes():
        names = [m.group(2) for m in PARAMETER.finditer(route)]
        for name in names:
            path = path_for(route, real, name, real.get(name, "1") + character)
            for response in (client.get(path), client.post(path, {"text": "x"})):
                tried += 1
                assert response.status_code == 400, (path, response.status_code)
                assert b"a control character" in response.content
    note = path_for("escalations/<str:reference>/<slug:action>/", real)
    response = client.post(note, {"text": f"Spoke to CSC{character} today"})
    assert response.status_code == 400
    response = client.get("/", {"q": f"x{character}"})
    assert response.status_code == 400
    assert tried > 20


def test_typed_text_keeps_its_tabs_and_line_breaks(visitors):
    clients, real = visitors
    note = path_for("escalations/<str:reference>/<slug:action>/", real)
    response = clients[0].post(note, {"text": "Line one\r\n\tLine two"})
    assert response.status_code != 400
