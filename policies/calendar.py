"""Working days (SPEC section 7): Monday to Friday, not an England and Wales bank holiday
(substitute days included), not a partnership closure day. Counted in Europe/London."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@functools.lru_cache(maxsize=64)
def bank_holidays(year: int) -> frozenset[date]:
    # holidays lists substitute days as "(observed)" and also keeps the weekend date itself;
    # weekends are excluded anyway, so both may stay.
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


@dataclass(frozen=True)
class WorkingCalendar:
    closure_days: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        return (
            day.weekday() < 5
            and day not in bank_holidays(day.year)
            and day not in self.closure_days
        )

    def add_working_days(self, start: date, n: int) -> date:
        """The Nth working day after start, start's own date not counted."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        counted = 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def subtract_working_days(self, end: date, n: int) -> date:
        day = end
        counted = 0
        while counted < n:
            day -= timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after start up to and including end (0 when end <= start)."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def working_days(self, days: Iterable[date]) -> list[date]:
        return [day for day in days if self.is_working_day(day)]

    def due_moment(self, start: datetime, value: int, unit: str) -> datetime:
        """When a time limit from start runs out: the end of the Nth working day (local), or
        start plus N elapsed hours."""
        if unit == "hours":
            return elapsed(start, timedelta(hours=value))
        zone = local_zone()
        due_day = self.add_working_days(start.astimezone(zone).date(), value)
        return end_of_day(due_day)

    def reminder_moment(
        self, start: datetime, due: datetime, unit: str, working_days: int
    ) -> datetime:
        """When the holder is reminded: the start of the last `working_days` working days before
        the due moment; for an hours limit, half-way through it."""
        if unit == "hours":
            return elapsed(start, (due.astimezone(UTC) - start.astimezone(UTC)) / 2)
        zone = local_zone()
        due_day = due.astimezone(zone).date()
        first_of_last_days = self.subtract_working_days(due_day, max(working_days - 1, 0))
        moment = start_of_day(first_of_last_days)
        return max(moment, start)


def elapsed(start: datetime, duration: timedelta) -> datetime:
    """start plus duration of real time, in the local zone. Python adds a timedelta to an
    aware datetime on the wall clock: 24 hours from noon on Saturday 27 March 2027 would be
    noon on Sunday, 23 hours later, as the clocks go forward in between. Adding in UTC is
    what an hours limit means."""
    return (start.astimezone(UTC) + duration).astimezone(local_zone())


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=local_zone())


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=local_zone())
