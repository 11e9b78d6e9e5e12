"""A signed-in page that does nothing, behind the product's middleware: what every request
costs before any view runs (tests/test_fixed_cost.py)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path


@login_required
def nothing(request):
    return HttpResponse("nothing")


urlpatterns = [path("nothing/", nothing)]
