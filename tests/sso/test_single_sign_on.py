"""Single sign-on against a local OpenID Connect provider (oidc-provider-mock, in a thread on
port 8120): a person is matched to their portal account by verified email; unknown, unverified
and out-of-scope people are refused and told to ask their administrator; the provider's MFA
replaces the portal's second factor only when the setting says so and the token's amr/acr says
MFA was done."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from sso.models import ProviderMFADevice

oidc_provider_mock = pytest.importorskip("oidc_provider_mock")

pytestmark = pytest.mark.django_db

PORT = 8120
ISSUER = f"http://localhost:{PORT}"


@pytest.fixture(scope="module")
def provider_server():
    with oidc_provider_mock.run_server_in_thread(port=PORT) as server:
        yield server


@pytest.fixture
def sso(settings, provider_server):
    def configure(**overrides):
        entry = {
            "key": "kirklees-council",
            "label": "your Kirklees organisation account",
            "client_id": "portal",
            "client_secret": "portal-secret",
            "authorization_endpoint": f"{ISSUER}/oauth2/authorize",
            "token_endpoint": f"{ISSUER}/oauth2/token",
            "userinfo_endpoint": f"{ISSUER}/userinfo",
            "jwks_endpoint": f"{ISSUER}/jwks",
            "partnerships": ["kirklees"],
            **overrides,
        }
        settings.SSO_PROVIDERS = [entry]
        return entry

    configure()
    return configure


def provider_user(sub: str, **claims) -> None:
    answer = requests.put(f"{ISSUER}/users/{sub}", json=claims, timeout=5)
    assert answer.status_code == 204, answer.text


def sign_in_with_provider(client, sub: str, key: str = "kirklees-council"):
    """The person's browser: the portal's start link, the provider's form, back to the portal."""
    start = client.get(f"/sso/{key}/start/")
    assert start.status_code == 302, start
    authorize = start["Location"]
    assert authorize.startswith(f"{ISSUER}/oauth2/authorize")
    assert parse_qs(urlparse(authorize).query)["code_challenge_method"] == ["S256"]
    answer = requests.post(authorize, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    back = urlparse(answer.headers["Location"])
    assert back.path == "/sso/callback/"
    return client.get(f"{back.path}?{back.query}")


def messages_of(client, response) -> str:
    return client.get(response["Location"]).content.decode()


def test_a_person_is_matched_by_verified_email_and_still_asked_for_the_portal_s_second_factor(
    world, client, sso
):
    provider_user("grace-sub", email="GRACE@example.org", email_verified=True, amr=["pwd"])
    world.grace.email = "grace@example.org"
    world.grace.save()
    answer = sign_in_with_provider(client, "grace-sub")
    assert answer.status_code == 302
    assert int(client.session["_auth_user_id"]) == world.grace.user.pk
    # Signed in, but the portal's second factor is still asked for.
    assert client.get("/").status_code == 302
    assert client.get("/")["Location"].startswith("/account/two-factor/")
    assert AuditEntry.objects.filter(
        user=world.grace.user, what="signed in with your Kirklees organisation account"
    ).exists()


def test_the_provider_s_mfa_replaces_the_second_factor_when_trusted_and_the_token_says_so(
    world, client, sso
):
    sso(mfa_replaces_second_factor=True)
    provider_user("grace-mfa", email="grace@example.org", email_verified=True, amr=["pwd", "mfa"])
    world.grace.email = "grace@example.org"
    world.grace.save()
    sign_in_with_provider(client, "grace-mfa")
    assert client.get("/").status_code == 200
    assert ProviderMFADevice.objects.filter(user=world.grace.user).exists()
    assert AuditEntry.objects.filter(
        what__endswith="(its multi-factor sign-in accepted)", user=world.grace.user
    ).exists()


def test_someone_signed_in_through_the_provider_is_loaded_in_one_query_and_out_once_deactivated(
    world, client, sso
):
    sso(mfa_replaces_second_factor=True)
    provider_user("grace-fast", email="grace@example.org", email_verified=True, amr=["mfa"])
    world.grace.email = "grace@example.org"
    world.grace.save()
    sign_in_with_provider(client, "grace-fast")
    assert client.get("/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    sql = [q["sql"].lower() for q in queries.captured_queries]
    # The user, their person and the provider's second factor in one query, as for a password
    # sign-in (tests/test_fixed_cost.py); the device is not read again on its own.
    assert "django_session" in sql[0]
    assert all(table in sql[1] for table in ("auth_user", "cases_person", "providermfadevice"))
    assert not any("providermfadevice" in statement for statement in sql[2:])

    type(world.grace.user).objects.filter(pk=world.grace.user.pk).update(is_active=False)
    assert client.get("/")["Location"].startswith("/sign-in/")
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("trusted", "claims"),
    [
        (True, {"amr": ["pwd"]}),  # trusted, but the token says one factor
        (True, {}),  # trusted, but the token says nothing
        (False, {"amr": ["mfa"]}),  # MFA done, but the setting does not trust it
        (True, {"acr": "urn:example:weak"}),
    ],
)
def test_otherwise_the_portal_s_second_factor_is_asked_for(world, client, sso, trusted, claims):
    sso(mfa_replaces_second_factor=trusted, mfa_acr=["urn:example:strong"])
    provider_user("grace-x", email="grace@example.org", email_verified=True, **claims)
    world.grace.email = "grace@example.org"
    world.grace.save()
    sign_in_with_provider(client, "grace-x")
    assert client.get("/")["Location"].startswith("/account/two-factor/")


def test_a_trusted_acr_counts_as_mfa(world, client, sso):
    sso(mfa_replaces_second_factor=True, mfa_acr=["urn:example:strong"])
    provider_user(
        "grace-acr", email="grace@example.org", email_verified=True, acr="urn:example:strong"
    )
    world.grace.email = "grace@example.org"
    world.grace.save()
    sign_in_with_provider(client, "grace-acr")
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        (
            {"email": "nobody@example.org", "email_verified": True},
            "There is no portal account for nobody@example.org that can sign in this way. "
            "Ask your partnership administrator",
        ),
        (
            {"email": "grace@example.org", "email_verified": False},
            "did not confirm your email address",
        ),
        ({"email": "grace@example.org"}, "did not confirm your email address"),
    ],
)
def test_unknown_or_unverified_people_are_refused_and_told_to_ask_their_administrator(
    world, client, sso, claims, message
):
    world.grace.email = "grace@example.org"
    world.grace.save()
    provider_user("someone", **claims)
    answer = sign_in_with_provider(client, "someone")
    assert answer["Location"] == "/sign-in/"
    assert "_auth_user_id" not in client.session
    assert message in messages_of(client, answer).replace("&#x27;", "'")


def test_a_provider_signs_in_only_the_people_of_its_partnerships(world, client, sso):
    # Oscar is at Berkshire School: Kirklees' provider cannot sign him in.
    world.oscar.email = "oscar@example.org"
    world.oscar.save()
    provider_user("oscar-sub", email="oscar@example.org", email_verified=True)
    answer = sign_in_with_provider(client, "oscar-sub")
    assert "_auth_user_id" not in client.session
    assert "There is no portal account for oscar@example.org" in messages_of(client, answer)


def test_a_leaver_cannot_sign_in_with_the_provider(world, client, sso):
    world.grace.email = "grace@example.org"
    world.grace.save()
    world.grace.user.is_active = False
    world.grace.user.save()
    provider_user("grace-left", email="grace@example.org", email_verified=True, amr=["mfa"])
    sign_in_with_provider(client, "grace-left")
    assert "_auth_user_id" not in client.session


def test_the_sign_in_page_offers_each_provider_and_none_by_default(client, db, settings, sso):
    page = client.get("/sign-in/").content.decode()
    assert "Sign in with your Kirklees organisation account" in page
    settings.SSO_PROVIDERS = []
    assert "organisation&#x27;s account" not in client.get("/sign-in/").content.decode()
    assert client.get("/sso/kirklees-council/start/").status_code == 404


def test_a_mistyped_provider_is_named_with_its_field(db):
    from django.core.exceptions import ImproperlyConfigured

    from sso.providers import parse

    with pytest.raises(ImproperlyConfigured, match="entry 1 has no token_endpoint"):
        parse([{"key": "x", "label": "X", "client_id": "a", "client_secret": "b",
                "authorization_endpoint": "u", "userinfo_endpoint": "u", "jwks_endpoint": "u",
                "partnerships": ["kirklees"]}])  # fmt: skip
