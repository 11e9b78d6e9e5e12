from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.core.management import call_command

from policies.calendar import WorkingCalendar

LONDON = ZoneInfo("Europe/London")


def test_five_working_days_from_23_december_2026_end_on_4_january_2027():
    # 25 Dec, 28 Dec (substitute Boxing Day) and 1 Jan are bank holidays.
    assert WorkingCalendar().add_working_days(date(2026, 12, 23), 5) == date(2027, 1, 4)


def test_the_due_moment_is_the_end_of_the_last_working_day_in_london():
    due = WorkingCalendar().due_moment(
        datetime(2026, 12, 23, 15, 0, tzinfo=LONDON), 5, "working_days"
    )
    assert due == datetime(2027, 1, 4, 23, 59, 59, tzinfo=LONDON)


def test_berkshires_24_hours_are_elapsed_time_across_a_weekend():
    start = datetime(2026, 11, 27, 16, 30, tzinfo=LONDON)  # a Friday
    assert WorkingCalendar().due_moment(start, 24, "hours") == datetime(
        2026, 11, 28, 16, 30, tzinfo=LONDON
    )


def test_weekends_and_closure_days_are_not_working_days():
    calendar = WorkingCalendar(frozenset({date(2026, 11, 30)}))
    assert not calendar.is_working_day(date(2026, 11, 28))  # Saturday
    assert not calendar.is_working_day(date(2026, 11, 30))  # closure day
    assert calendar.add_working_days(date(2026, 11, 27), 1) == date(2026, 12, 1)


def test_substitute_bank_holidays_count_as_holidays():
    calendar = WorkingCalendar()
    assert not calendar.is_working_day(date(2026, 12, 28))  # Boxing Day falls on a Saturday
    assert not calendar.is_working_day(date(2027, 12, 27))  # Christmas 2027 falls on a Saturday
    assert not calendar.is_working_day(date(2027, 12, 28))


def test_working_days_between_counts_after_the_start_up_to_the_end():
    calendar = WorkingCalendar()
    assert calendar.working_days_between(date(2026, 12, 23), date(2027, 1, 4)) == 5
    assert calendar.working_days_between(date(2026, 12, 23), date(2026, 12, 23)) == 0


def test_the_reminder_comes_one_working_day_before_the_due_moment():
    calendar = WorkingCalendar()
    start = datetime(2026, 12, 23, 10, 0, tzinfo=LONDON)
    due = calendar.due_moment(start, 5, "working_days")
    assert calendar.reminder_moment(start, due, "working_days", 1) == datetime(
        2027, 1, 4, tzinfo=LONDON
    )
    assert calendar.reminder_moment(start, due, "working_days", 2) == datetime(
        2026, 12, 31, tzinfo=LONDON
    )


def test_working_days_command_prints_the_due_date(db, capsys):
    call_command("load_policies")
    call_command("working_days", "kirklees", "2026-12-23", "5")
    assert capsys.readouterr().out.strip().splitlines()[-1] == "2027-01-04"
