import io
import json
import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from escalations.management.commands.bench import p95


@pytest.mark.django_db
def test_bench_seeds_and_reports_every_page_as_one_line_of_json():
    out = io.StringIO()
    call_command("bench", escalations=120, json=True, stdout=out)
    report = json.loads(out.getvalue().strip().splitlines()[-1])
    assert report["n"] >= 120
    assert set(report["pages"]) == {"dashboard", "list", "detail", "baseline"}
    # Every page answered, the detail page and the record found, the sweep run: no notes.
    assert report["notes"] == []
    for name, page in report["pages"].items():
        assert page["requests"] == 30, name
        assert page["median_ms"] > 0 and page["first_ms"] > 0, name
    assert report["pages"]["dashboard"]["queries"] <= 15
    assert report["pages"]["list"]["queries"] <= 10
    assert report["sweep_seconds"] >= 0 and report["record_pdf_seconds"] > 0


@pytest.mark.parametrize(
    ("timings", "expected"),
    [
        (list(range(1, 101)), 95),  # the 95th of 100
        (list(range(1, 31)), 29),  # 30 requests: rank ceil(28.5) = 29
        ([7.0], 7.0),
        ([5, 1, 4, 2, 3] * 4, 5),  # 20 unsorted: rank 19 of the sorted list
    ],
)
def test_p95_is_the_nearest_rank_95th_percentile_of_the_timings(timings, expected):
    shuffled = random.Random(95).sample(timings, len(timings))

    assert p95(shuffled) == expected


@pytest.mark.django_db
def test_bench_refuses_fewer_than_thirty_requests():
    with pytest.raises(CommandError):
        call_command("bench", escalations=0, requests=5, stdout=io.StringIO())
