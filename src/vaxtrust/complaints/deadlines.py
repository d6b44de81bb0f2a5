"""Deadlines: 48 hours from the moment the system records a complaint (9458/BYT-CNTT).

By default the hours run round the clock. With the working-day calendar only Monday to Friday
count, less Viet Nam's public holidays (the ``holidays`` package's calendar, which includes Tết),
and days are Viet Nam's (UTC+7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache

VN_TIME = timezone(timedelta(hours=7), "ICT")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def parse_time(text: str) -> datetime:
    """A stored UTC time (``utc_now_text``) as an aware datetime."""
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)


def time_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


@cache
def _vn_holidays(year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays("VN", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _vn_holidays(day.year)


@dataclass(frozen=True)
class DeadlineRule:
    hours: int = 48
    working_days: bool = False

    def deadline(self, received: datetime) -> datetime:
        """When a complaint received at ``received`` (aware) must be settled."""
        if not self.working_days:
            return received + timedelta(hours=self.hours)
        moment = received.astimezone(VN_TIME)
        remaining = timedelta(hours=self.hours)
        while remaining > timedelta(0):
            midnight = datetime.combine(moment.date() + timedelta(days=1), datetime.min.time(),
                                        VN_TIME)
            if not is_working_day(moment.date()):
                moment = midnight
                continue
            step = min(remaining, midnight - moment)
            moment += step
            remaining -= step
        return moment.astimezone(UTC)
