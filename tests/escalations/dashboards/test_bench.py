import io
import json
import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from escalations.management.commands.bench import p95


@pytest.mark.django_db
def test_bench_reports_every_page_for_readers_of_none_one_and_many_notices_in_one_run():
    out = io.StringIO()
    call_command("bench", escalations=120, notices=40, json=True, stdout=out)
    report = json.loads(out.getvalue().strip().splitlines()[-1])
    assert report["n"] >= 120
    people = ("none", "one", "thousands")
    assert set(report["pages"]) == {
        "baseline",
        "dashboard computed",
        "dashboard cached",
        "partnership list",
        "busiest escalation (thousands)",
        *[
            f"{page} ({who})"
            for page in ("home", "agency list", "notifications", "escalation")
            for who in people
        ],
    }
    # The readers differ by their unread notices alone, made by the benchmark itself.
    assert report["unread_notices"] == {"none": 0, "one": 1, "thousands": 40}
    # Every page answered, the escalations and the record found, the sweep run: no notes.
    assert report["notes"] == []
    for name, page in report["pages"].items():
        assert page["requests"] == 30, name
        assert page["median_ms"] > 0 and page["first_ms"] > 0, name
        assert page["x_p95"] > 0 and page["queries"] > 0, name
    # Emptied caches make the computed dashboard ask the database more than the cached one.
    pages = report["pages"]
    assert (
        pages["dashboard computed"]["queries_repeat"] > pages["dashboard cached"]["queries_repeat"]
    )
    assert pages["dashboard computed"]["queries"] <= 15
    assert pages["partnership list"]["queries"] <= 10
    assert report["sweep_seconds"] >= 0 and report["record_pdf_seconds"] > 0
    assert report["figures_refresh_seconds"] >= 0


@pytest.mark.django_db
def test_a_second_run_keeps_each_reader_at_the_notices_asked_for():
    for _ in range(2):
        out = io.StringIO()
        call_command("bench", escalations=120, notices=25, json=True, stdout=out)
    report = json.loads(out.getvalue().strip().splitlines()[-1])
    assert report["unread_notices"] == {"none": 0, "one": 1, "thousands": 25}


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
