from sso.providers import providers


def sign_in_providers(request) -> dict:
    """The providers offered on the sign-in page (none unless SSO_PROVIDERS sets some)."""
    if request.path != "/sign-in/":
        return {}
    return {"sso_providers": list(providers().values())}
