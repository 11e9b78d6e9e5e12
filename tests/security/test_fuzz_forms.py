"""Hypothesis throws arbitrary input at every form in the security layer: no input may produce a
server error, and nothing typed comes back as live markup."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.log import record
from audit.models import AuditEntry
from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

MARKER = "<b id=fuzz>"
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Anything a browser could send in a form field: no lone surrogates (not encodable).
typed = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
field_value = st.one_of(
    typed,
    typed.map(lambda text: MARKER + text),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.dates().map(str),
    st.sampled_from(["", " ", "\x00", "0" * 6, "123 456", "abcd-efgh", "2026-02-30", "9" * 40]),
)


def assert_answered_safely(response) -> None:
    assert response.status_code < 500
    assert MARKER.encode() not in response.content


def test_the_second_factor_forms_never_fail_on_any_input(world, client):
    sign_in(client, world.alice, second_factor=False)
    client.get("/account/two-factor/set-up/")

    @FUZZ
    @given(code=field_value, next_url=field_value)
    def post(code, next_url):
        for path in ("/account/two-factor/set-up/", "/account/two-factor/verify/"):
            assert_answered_safely(client.post(path, {"code": code, "next": next_url}))
            assert_answered_safely(client.get(path, {"next": next_url}))

    post()


def test_the_verify_form_never_fails_once_an_app_is_set_up(world, client):
    sign_in(client, world.alice)  # makes a confirmed app
    fresh = client.__class__()
    sign_in(fresh, world.alice, second_factor=False)

    @FUZZ
    @given(code=field_value)
    def post(code):
        assert_answered_safely(fresh.post("/account/two-factor/verify/", {"code": code}))

    post()


def test_the_audit_filters_never_fail_on_any_input(world, client):
    record(
        None, kind=AuditEntry.Kind.READ, what="escalation page", escalation=OpenEscalationFactory()
    )
    sign_in(client, world.kim)

    @FUZZ
    @given(
        query=st.fixed_dictionaries(
            {},
            optional=dict.fromkeys(
                ("reference", "username", "kind", "since", "until", "page"), field_value
            ),
        )
    )
    def get(query):
        assert_answered_safely(client.get("/audit/", query))
        assert_answered_safely(client.get("/audit/export.csv", query))

    get()


def test_the_subject_access_form_never_fails_on_any_input(world, client):
    OpenEscalationFactory()
    sign_in(client, world.kim)

    @FUZZ
    @given(child=field_value)
    def post(child):
        assert_answered_safely(client.post("/audit/subject-access/", {"child": child}))

    post()
