from datetime import date

import pytest

from escalations.dashboards import queries
from escalations.dashboards.queries import Filters, percentile
from escalations.models import Escalation
from tests.escalations.dashboards.conftest import NOW
from tests.factories import DraftEscalationFactory


def kirklees_figures(dataset, **filters):
    w = dataset.world
    base = Escalation.objects.for_partnership_figures(w.ivan.user, w.kirklees)
    return Filters(**filters).apply(base, now=NOW)


def test_a_stage_across_christmas_counts_five_working_days(dataset):
    episode = dataset.holiday.episodes.get(number=1)
    assert (episode.started_at.date(), episode.ended_at.date()) == (
        date(2026, 12, 23),
        date(2027, 1, 4),
    )
    assert episode.working_days_spent == 5


def test_headline_counts_cover_the_partnership_and_nothing_else(dataset):
    s = queries.summary(
        kirklees_figures(dataset),
        now=NOW,
        stage_numbers=range(1, 7),
        pathways=["referral", "child_protection", "conference"],
    )
    assert (s["total"], s["open"], s["overdue"], s["resolved"], s["withdrawn"]) == (5, 2, 2, 2, 1)
    assert (s["learning"], s["policy_gap"]) == (2, 1)
    assert [s[f"open_at_{n}"] for n in range(1, 7)] == [1, 0, 0, 0, 1, 0]
    assert [s[f"overdue_at_{n}"] for n in range(1, 7)] == [1, 0, 0, 0, 1, 0]
    assert [s[f"reached_{n}"] for n in range(1, 7)] == [3, 1, 0, 0, 1, 0]
    assert (s["pathway_referral"], s["pathway_child_protection"], s["pathway_conference"]) == (
        3,
        1,
        1,
    )


def test_nothing_is_overdue_before_any_due_moment_has_passed(dataset):
    early = NOW.replace(year=2026, month=11, day=3)
    s = queries.summary(kirklees_figures(dataset), now=early, stage_numbers=[1], pathways=[])
    assert s["overdue"] == 0


def test_drafts_never_count(dataset):
    DraftEscalationFactory()
    assert kirklees_figures(dataset).count() == 5


def test_natures_agencies_and_outcomes_are_counted_per_escalation(dataset):
    w = dataset.world
    qs = kirklees_figures(dataset)
    assert queries.by_nature(qs) == {
        "referral_decision": 4,
        "information_sharing": 1,
        "assessment": 1,
    }
    agencies = queries.by_agency(qs)
    assert agencies.raised == {w.school.pk: 5}
    assert agencies.received == {w.csc.pk: 5}
    assert queries.by_outcome(qs) == {"upheld": 1, "not_upheld": 1, "withdrawn": 1, None: 2}


def test_time_in_each_stage_gives_median_and_90th_percentile_in_working_days(dataset):
    spread = queries.time_in_stage(kirklees_figures(dataset))
    # Stage 1 ended after 5 (Christmas), 3, 1 and 1 working days.
    assert spread[1] == queries.Spread(4, 2.0, pytest.approx(4.4))
    assert spread[2] == queries.Spread(2, 3.0, pytest.approx(4.6))
    assert spread[3] == queries.Spread(1, 1.0, 1.0)
    assert 5 not in spread  # still running: nothing stored yet


def test_time_to_resolution_adds_up_the_stages_of_resolved_escalations(dataset):
    spread = queries.time_to_resolution(kirklees_figures(dataset))
    # 10 working days (over Christmas) and 3.
    assert spread == queries.Spread(2, 6.5, pytest.approx(9.3))


def test_trend_counts_raised_and_resolved_by_local_month_and_quarter(dataset):
    trend = queries.trend(kirklees_figures(dataset))
    assert trend.raised == {date(2026, 11, 1): 4, date(2026, 12, 1): 1}
    assert trend.resolved == {date(2026, 11, 1): 1, date(2027, 1, 1): 1}
    assert trend.months() == [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)]
    assert trend.quarters() == [(date(2026, 10, 1), 5, 1), (date(2027, 1, 1), 0, 1)]


def test_filters_narrow_every_figure(dataset):
    w = dataset.world
    assert kirklees_figures(dataset, date_from=date(2026, 12, 1)).count() == 1
    assert kirklees_figures(dataset, date_to=date(2026, 11, 2)).count() == 2
    assert kirklees_figures(dataset, nature="assessment").get() == dataset.quick
    assert kirklees_figures(dataset, pathway="conference").get() == dataset.still_open
    assert kirklees_figures(dataset, stage=5).get() == dataset.partnership
    assert kirklees_figures(dataset, agency=w.csc.pk).count() == 5
    assert kirklees_figures(dataset, raising_agency=w.csc.pk).count() == 0
    assert kirklees_figures(dataset, status="overdue").count() == 2
    assert kirklees_figures(dataset, outcome="upheld").get() == dataset.holiday
    assert kirklees_figures(dataset, reached_stage=2).count() == 2
    assert kirklees_figures(dataset, policy_gap=True).get() == dataset.quick
    assert kirklees_figures(dataset, resolved_from=date(2027, 1, 1)).get() == dataset.holiday


def test_percentile_matches_postgresqls_percentile_cont():
    assert percentile([], 0.5) is None
    assert percentile([7], 0.9) == 7
    assert percentile([1, 1, 3, 5], 0.5) == 2
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == pytest.approx(9.1)


def test_nobody_without_a_partnership_role_gets_figures(dataset):
    w = dataset.world
    for person in (w.alice, w.carol, w.grace, w.pat, w.mallory):
        assert not Escalation.objects.for_partnership_figures(person.user, w.kirklees).exists()
    for person in (w.judy, w.kim):
        assert Escalation.objects.for_partnership_figures(person.user, w.kirklees).count() == 5
    berkshire = Escalation.objects.for_partnership_figures(w.mallory.user, w.berkshire)
    assert list(berkshire) == [dataset.berkshire]


def test_list_rows_carry_child_details_only_where_the_record_is_visible(dataset):
    w = dataset.world
    rows = {row.pk: row for row in queries.list_rows(kirklees_figures(dataset), w.ivan.user)}
    shared = rows[dataset.partnership.pk]
    assert shared.shown_in_full and shared.child_given_names == "Skye"
    hidden = rows[dataset.still_open.pk]
    assert not hidden.shown_in_full
    assert hidden.child_given_names is None and hidden.child_date_of_birth is None
    assert all(row.total == 5 for row in rows.values())
