"""Pages that ask django-csp for something of their own (a policy, an exemption, a nonce), to
check that the portal's content security policy middleware still gives it
(tests/security/test_headers.py)."""

from csp.decorators import csp_exempt, csp_update
from django.http import HttpResponse
from django.urls import path


def plain(request):
    return HttpResponse("plain")


@csp_update({"img-src": ["https://maps.example.org"]})
def own_policy(request):
    return HttpResponse("own policy")


@csp_exempt()
def exempt(request):
    return HttpResponse("exempt")


def nonce(request):
    return HttpResponse(str(request.csp_nonce))


urlpatterns = [
    path("plain/", plain),
    path("own-policy/", own_policy),
    path("exempt/", exempt),
    path("nonce/", nonce),
]
