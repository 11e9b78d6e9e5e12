"""Due moments in words and as dates, on the partnership's working calendar."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from escalations.presenters import date_in_words, due_in_words, moment_in_words
from policies.calendar import WorkingCalendar, end_of_day

LONDON = ZoneInfo("Europe/London")
CALENDAR = WorkingCalendar()


def at(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def test_due_at_the_end_of_today_reads_due_today():
    assert (
        due_in_words(end_of_day(date(2026, 11, 23)), now=at(2026, 11, 23, 9), calendar=CALENDAR)
        == "due today"
    )


def test_due_in_two_working_days_counts_working_days_only():
    # Friday 20 November 2026 -> Tuesday 24 November: Monday and Tuesday.
    due = end_of_day(date(2026, 11, 24))
    assert due_in_words(due, now=at(2026, 11, 20, 10), calendar=CALENDAR) == "due in 2 working days"


def test_due_tomorrow_reads_one_working_day():
    due = end_of_day(date(2026, 11, 24))
    assert due_in_words(due, now=at(2026, 11, 23, 10), calendar=CALENDAR) == "due in 1 working day"


def test_overdue_by_one_working_day_skips_the_weekend():
    # Due Friday 20 November, now Monday 23: one working day overdue.
    due = end_of_day(date(2026, 11, 20))
    assert (
        due_in_words(due, now=at(2026, 11, 23, 9), calendar=CALENDAR) == "overdue by 1 working day"
    )


def test_overdue_by_several_working_days_skips_bank_holidays():
    # Due Wednesday 23 December 2026; now Tuesday 29 December: 24th and 29th count (25th, 28th are bank holidays).
    due = end_of_day(date(2026, 12, 23))
    assert (
        due_in_words(due, now=at(2026, 12, 29, 9), calendar=CALENDAR) == "overdue by 2 working days"
    )


def test_a_closure_day_is_not_counted():
    calendar = WorkingCalendar(frozenset({date(2026, 11, 23)}))
    due = end_of_day(date(2026, 11, 24))
    assert due_in_words(due, now=at(2026, 11, 20, 10), calendar=calendar) == "due in 1 working day"


def test_an_hours_deadline_passed_earlier_today_is_overdue():
    assert (
        due_in_words(at(2026, 11, 23, 9), now=at(2026, 11, 23, 10), calendar=CALENDAR) == "overdue"
    )


def test_dates_read_the_gov_uk_way():
    assert date_in_words(date(2027, 1, 4)) == "Monday 4 January 2027"
    assert moment_in_words(end_of_day(date(2027, 1, 4))) == "the end of Monday 4 January 2027"
    assert moment_in_words(at(2026, 11, 23, 15, 30)) == "3:30pm on Monday 23 November 2026"
