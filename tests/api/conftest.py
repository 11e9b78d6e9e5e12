import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from api import tokens


@pytest.fixture(autouse=True)
def _fresh_rate_counters():
    caches["api"].clear()
    yield
    caches["api"].clear()


def api_client(secret: str | None) -> APIClient:
    client = APIClient()
    if secret is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def token_for():
    """A token for an agency, made by a person, as the tokens page would: (token, client)."""

    def make(agency, by, name="Mosaic"):
        token, secret = tokens.issue(agency, name, by)
        return token, api_client(secret)

    return make
