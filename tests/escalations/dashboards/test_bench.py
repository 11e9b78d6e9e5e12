import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


@pytest.mark.django_db
def test_bench_seeds_and_reports_every_page_as_one_line_of_json():
    out = io.StringIO()
    call_command("bench", escalations=40, json=True, stdout=out)
    report = json.loads(out.getvalue().strip().splitlines()[-1])
    assert report["n"] >= 40
    assert set(report["pages"]) == {"dashboard", "list", "detail", "baseline"}
    for name in ("dashboard", "list", "baseline"):
        page = report["pages"][name]
        assert page["requests"] >= 30
        assert page["median_ms"] > 0 and page["p95_ms"] >= page["median_ms"]
    assert report["pages"]["dashboard"]["queries"] <= 15
    assert report["pages"]["list"]["queries"] <= 10
    assert "sweep_seconds" in report and "record_pdf_seconds" in report


@pytest.mark.django_db
def test_bench_refuses_fewer_than_thirty_requests():
    with pytest.raises(CommandError):
        call_command("bench", escalations=0, requests=5, stdout=io.StringIO())
