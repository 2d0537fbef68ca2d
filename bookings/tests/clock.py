"""The moment booking tests live at: Monday 2 March 2026, 08:00 in Moscow."""

from datetime import datetime
from zoneinfo import ZoneInfo

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=MSK)


def at(hour, minute=0, day=3):
    """A Moscow wall-clock time on Tuesday 3 March 2026 (or another March day)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=MSK)
