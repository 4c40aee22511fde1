"""The few SQL expressions that differ between SQLite and PostgreSQL: local date buckets,
seconds since the epoch (for durations), the depth of a department path, percentiles.

Timestamps are stored in UTC; buckets are local to the site. PostgreSQL converts with the IANA
zone (`timezone(zone, ts)`). SQLite has no zone database, so it shifts by the zone's UTC offset
at the time of the query — exact for zones without daylight saving time (China's), and off by the
DST hour near midnight elsewhere (docs/reports.md says so).

Bucket labels are the same text on both backends: day and week "YYYY-MM-DD" (a week is named
by its Monday), month "YYYY-MM", quarter "YYYY-Qn", year "YYYY".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, DateTime, Float, Integer, String, case, cast, func, literal, literal_column
from sqlalchemy.sql.elements import ColumnElement

TEMPORAL = ("date", "datetime")
_PG_FORMATS = {"day": "YYYY-MM-DD", "month": "YYYY-MM", "quarter": 'YYYY-"Q"Q', "year": "YYYY"}
_SQLITE_FORMATS = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


class SqlFunctions:
    """Dialect-specific expressions for one query; `tz` is the site time zone."""

    def __init__(self, dialect: str, tz: ZoneInfo, now: datetime) -> None:
        self.dialect = dialect
        self.tz = tz
        self.now = now

    @property
    def postgres(self) -> bool:
        return self.dialect == "postgresql"

    # --- local time -----------------------------------------------------------------------------

    def _offset_modifier(self) -> str:
        offset = self.now.astimezone(self.tz).utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset else 0
        return f"{minutes:+d} minutes"

    def local(self, value: ColumnElement[Any], kind: str, native: bool) -> ColumnElement[Any]:
        """The value as a local date/timestamp. `native`: a real timestamp column (not JSON text)."""
        if kind == "date":
            return cast(value, Date) if self.postgres else value
        if self.postgres:
            stamp = value if native else cast(value, DateTime(timezone=True))
            return func.timezone(self.tz.key, stamp)
        return func.datetime(value, self._offset_modifier())

    def bucket(self, value: ColumnElement[Any], kind: str, unit: str, native: bool) -> ColumnElement[str]:
        if kind == "month":
            return self.month_bucket(value, unit)
        local = self.local(value, kind, native)
        if self.postgres:
            if unit == "week":
                return func.to_char(func.date_trunc("week", local), "YYYY-MM-DD")
            return func.to_char(local, _PG_FORMATS[unit])
        if unit == "week":
            return func.date(local, "weekday 0", "-6 days")
        if unit == "quarter":
            month = cast(func.strftime("%m", local), Integer)
            return func.strftime("%Y", local) + "-Q" + cast(cast((month + 2) / 3, Integer), String)
        return func.strftime(_SQLITE_FORMATS[unit], local)

    @staticmethod
    def month_bucket(month: ColumnElement[str], unit: str) -> ColumnElement[str]:
        """A local "YYYY-MM" (a rollup's month) as a month, quarter or year bucket."""
        if unit == "month":
            return month
        if unit == "year":
            return func.substr(month, 1, 4)
        if unit == "quarter":
            number = cast(func.substr(month, 6, 2), Integer)
            return func.substr(month, 1, 4) + "-Q" + cast(cast((number + 2) / 3, Integer), String)
        raise ValueError(f"a month cannot be bucketed by {unit}")

    def previous_bucket(self, label: ColumnElement[str], unit: str) -> ColumnElement[str]:
        """The label of the bucket before `label` (for period-over-period on a time axis)."""
        if unit == "quarter":
            year = cast(func.substr(label, 1, 4), Integer)
            quarter = cast(func.substr(label, 7, 1), Integer)
            return case(
                (quarter == 1, cast(year - 1, String) + "-Q4"),
                else_=func.substr(label, 1, 6) + cast(quarter - 1, String),
            )
        if unit == "year":
            return cast(cast(label, Integer) - 1, String)
        if self.postgres:
            if unit == "month":
                return func.to_char(cast(label + "-01", Date) - literal_column("interval '1 month'"), "YYYY-MM")
            return func.to_char(cast(label, Date) - (1 if unit == "day" else 7), "YYYY-MM-DD")
        if unit == "month":
            return func.strftime("%Y-%m", label + "-01", "-1 month")
        return func.date(label, "-1 day" if unit == "day" else "-7 days")

    # --- durations ------------------------------------------------------------------------------

    def epoch(self, value: ColumnElement[Any], kind: str, native: bool) -> ColumnElement[float]:
        """Seconds since 1970-01-01 UTC (a date counts from its midnight UTC on both backends)."""
        if self.postgres:
            if kind == "date":
                stamp = cast(cast(value, Date), DateTime(timezone=False))
            else:
                stamp = value if native else cast(value, DateTime(timezone=True))
            return cast(func.extract("epoch", stamp), Float)
        return (func.julianday(value) - 2440587.5) * 86400.0

    def now_epoch(self) -> ColumnElement[float]:
        return literal(self.now.timestamp(), Float)

    def as_iso_text(self, value: ColumnElement[Any]) -> ColumnElement[str]:
        """A real timestamp column as the text the expression language compares datetimes with
        ("YYYY-MM-DDTHH:MM:SSZ"); SQLite stores "YYYY-MM-DD HH:MM:SS.ffffff", which does not
        compare correctly with that text, and PostgreSQL cannot compare a timestamp with text
        under the "C" collation the expression compiler uses for text."""
        if self.postgres:
            return func.to_char(func.timezone("UTC", value), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        return func.strftime("%Y-%m-%dT%H:%M:%SZ", value)

    # --- departments ----------------------------------------------------------------------------

    @staticmethod
    def depth(path: ColumnElement[str]) -> ColumnElement[int]:
        """"/1/4/9/" → 3: the depth of a materialised department path."""
        return func.length(path) - func.length(func.replace(path, "/", "")) - 1

    # --- numbers --------------------------------------------------------------------------------

    def ratio(self, numerator: ColumnElement[Any], denominator: ColumnElement[Any]) -> ColumnElement[float]:
        return cast(numerator, Float) / func.nullif(cast(denominator, Float), 0.0)
