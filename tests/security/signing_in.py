"""The password step, through whichever sign-in page the portal has."""

from django.urls import NoReverseMatch, reverse

PASSWORD = "correct-horse-battery-staple"


def sign_in_url() -> str:
    # The portal's own sign-in page once it exists; Django's admin sign-in (the same
    # authenticate() path through django-axes) until then.
    try:
        return reverse("sign-in")
    except NoReverseMatch:
        return "/admin/login/"


def attempt(client, username: str, password: str, address: str = "192.0.2.10", **headers):
    return client.post(
        sign_in_url(),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session
