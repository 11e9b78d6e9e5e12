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


# The clocks go forward at 01:00 GMT on Sunday 28 March 2027 and back at 02:00 BST on Sunday
# 31 October 2027: a day of 23 hours and one of 25. An hours limit is real time.
UTC_ZONE = ZoneInfo("UTC")


def test_24_hours_across_the_clocks_going_forward_are_24_real_hours():
    start = datetime(2027, 3, 27, 12, 0, tzinfo=LONDON)  # Saturday noon, GMT
    due = WorkingCalendar().due_moment(start, 24, "hours")
    assert due == datetime(2027, 3, 28, 13, 0, tzinfo=LONDON)  # 13:00 BST
    assert (due.astimezone(UTC_ZONE) - start.astimezone(UTC_ZONE)).total_seconds() == 24 * 3600
    assert due.astimezone(LONDON).utcoffset().total_seconds() == 3600


def test_24_hours_across_the_clocks_going_back_are_24_real_hours():
    start = datetime(2027, 10, 30, 12, 0, tzinfo=LONDON)  # Saturday noon, BST
    due = WorkingCalendar().due_moment(start, 24, "hours")
    assert due == datetime(2027, 10, 31, 11, 0, tzinfo=LONDON)  # 11:00 GMT
    assert (due.astimezone(UTC_ZONE) - start.astimezone(UTC_ZONE)).total_seconds() == 24 * 3600


def test_the_reminder_of_an_hours_limit_is_half_its_real_time_across_a_clock_change():
    calendar = WorkingCalendar()
    start = datetime(2027, 3, 27, 12, 0, tzinfo=LONDON)
    due = calendar.due_moment(start, 24, "hours")
    reminder = calendar.reminder_moment(start, due, "hours", 1)
    assert reminder.astimezone(UTC_ZONE) == datetime(2027, 3, 28, 0, 0, tzinfo=UTC_ZONE)
    back = datetime(2027, 10, 30, 12, 0, tzinfo=LONDON)
    due_back = calendar.due_moment(back, 24, "hours")
    reminder_back = calendar.reminder_moment(back, due_back, "hours", 1)
    assert reminder_back.astimezone(UTC_ZONE) == datetime(2027, 10, 30, 23, 0, tzinfo=UTC_ZONE)


def test_working_days_end_at_local_midnight_on_both_sides_of_the_clock_changes():
    calendar = WorkingCalendar()
    # Friday 26 March 2027, one working day: the clocks change on Easter Sunday, Monday 29
    # is Easter Monday, so Tuesday 30 March, the end of it in BST.
    spring = calendar.due_moment(datetime(2027, 3, 26, 9, 0, tzinfo=LONDON), 1, "working_days")
    assert spring == datetime(2027, 3, 30, 23, 59, 59, tzinfo=LONDON)
    assert spring.utcoffset().total_seconds() == 3600
    autumn = calendar.due_moment(datetime(2027, 10, 29, 9, 0, tzinfo=LONDON), 1, "working_days")
    assert autumn == datetime(2027, 11, 1, 23, 59, 59, tzinfo=LONDON)
    assert autumn.utcoffset().total_seconds() == 0
