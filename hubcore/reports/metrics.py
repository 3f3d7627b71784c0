"""What programs hand to reports, and the periods reports cover.

Plain values without database access, so a plugin can import them cheaply::

    from hubcore.reports import MetricRow, Period
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from hubcore.i18n import gettext as _

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_FISCAL = re.compile(r"FY(\d{4})", re.I)


@dataclass(frozen=True)
class Period:
    """A report's period: a calendar month, or a Japanese fiscal year (年度: April of
    ``year`` to March of the next). ``first`` and ``last`` are both included."""

    kind: Literal["month", "fiscal_year"]
    year: int
    month: int = 4  # the first month (April for a fiscal year)

    def __post_init__(self) -> None:
        if not (2000 <= self.year <= 9999 and 1 <= self.month <= 12):
            raise ValueError(f"not a period: {self.year}-{self.month}")
        if self.kind not in ("month", "fiscal_year") or (
                self.kind == "fiscal_year" and self.month != 4):
            raise ValueError(f"not a period kind: {self.kind}")

    @classmethod
    def of_month(cls, year: int, month: int) -> Period:
        return cls("month", year, month)

    @classmethod
    def of_fiscal_year(cls, year: int) -> Period:
        return cls("fiscal_year", year)

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026-05`` (a month) or ``FY2026`` (April 2026 to March 2027)."""
        text = text.strip()
        m = _MONTH.fullmatch(text)
        if m is not None:
            return cls.of_month(int(m.group(1)), int(m.group(2)))
        m = _FISCAL.fullmatch(text)
        if m is not None:
            return cls.of_fiscal_year(int(m.group(1)))
        raise ValueError(f"period must be YYYY-MM or FYYYYY, not {text!r}")

    @property
    def first(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last(self) -> dt.date:
        if self.kind == "month":
            return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])
        return dt.date(self.year + 1, 3, 31)

    @property
    def months(self) -> list[int]:
        """The months covered, as YYYYMM numbers."""
        if self.kind == "month":
            return [self.year * 100 + self.month]
        return [(self.year + (m < 4)) * 100 + m for m in (*range(4, 13), 1, 2, 3)]

    @property
    def key(self) -> str:
        """What URLs carry: ``2026-05`` or ``FY2026``."""
        return f"{self.year:04d}-{self.month:02d}" if self.kind == "month" else f"FY{self.year}"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return _("{month}/{year}").format(year=self.year, month=self.month)
        return _("FY{year} (April {year} to March {next})").format(year=self.year,
                                                                    next=self.year + 1)

    def __contains__(self, day: dt.date) -> bool:
        return self.first <= day <= self.last


def fiscal_year_of(day: dt.date) -> int:
    """The fiscal year (年度) a day belongs to: 2027-03-31 is in FY2026, 2027-04-01 in FY2027."""
    return day.year if day.month >= 4 else day.year - 1


@dataclass(frozen=True)
class MetricRow:
    """One figure a program reports for a site and period (``report_metrics``).

    ``value`` is a count or an amount that adds up across sites (the municipality's
    report sums them); ``label`` says what it counts, translated; ``dimensions``
    split it further, e.g. ``{"meal": "lunch"}``. Never a person's own data.
    """

    program: str
    metric: str
    value: int | Decimal
    label: str = ""
    unit: str = ""
    dimensions: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple:
        return (self.program, self.metric, tuple(sorted(self.dimensions.items())))
