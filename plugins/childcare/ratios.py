"""Staff ratios (保育士配置基準): the rules per municipality and the staff a group needs.

The rules are data a municipality changes (``RatioRule``); where it has none, the
national values from the domain notes apply (``DEFAULT_RULES``). The staff a mixed-age
group needs is rounded the way the municipality says: each dated rule set carries its
rounding and minimum staff (``RatioRule``); ``RatioSettings`` holds them for days under
the national values:

- ``sum`` (default, the safe rule): ceil(Σ children_in_band / ratio)
- ``band_ceil``: Σ ceil(children_in_band / ratio) (stricter: each band rounded up)
- ``band_tenth``: each band's share cut to one decimal place, then the sum rounded up
  (the national formula for 保育所 subsidies; it can need fewer staff than ``sum``)
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from hubcore.db import write_transaction
from hubcore.errors import Invalid
from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.sites.models import Municipality
from plugins.childcare.models import ROUNDING_MODES, RatioRule, RatioSettings

ROUNDING_LABELS = {
    "sum": N_("Safe rule: the sum over age bands of children ÷ ratio, rounded up"),
    "band_ceil": N_("Each age band rounded up, then added"),
    "band_tenth": N_("Each age band cut to one decimal place, added, then rounded up"),
}


@dataclass(frozen=True)
class Band:
    """Children per member of staff for class ages ``min_age``..``max_age`` (None: up)."""

    min_age: int
    max_age: int | None
    children_per_staff: int

    def holds(self, age: int) -> bool:
        return age >= self.min_age and (self.max_age is None or age <= self.max_age)

    @property
    def label(self) -> str:
        if self.max_age is None:
            return _("{age} and older").format(age=self.min_age)
        if self.max_age == self.min_age:
            return _("Age {age}").format(age=self.min_age)
        return _("Ages {low}–{high}").format(low=self.min_age, high=self.max_age)


# National values (domain notes, city.kawagoe.saitama.jp): 3歳 15:1 and 4歳+ 25:1 from
# 2024-04-01; before that 20:1 and 30:1.
DEFAULT_RULES: tuple[tuple[dt.date, tuple[Band, ...]], ...] = (
    (dt.date(2015, 4, 1), (Band(0, 0, 3), Band(1, 2, 6), Band(3, 3, 20), Band(4, None, 30))),
    (dt.date(2024, 4, 1), (Band(0, 0, 3), Band(1, 2, 6), Band(3, 3, 15), Band(4, None, 25))),
)


@dataclass(frozen=True)
class RatioPolicy:
    """What a municipality says on one day: its bands, rounding and minimum staff."""

    bands: tuple[Band, ...]
    rounding: str = "sum"
    minimum_staff: int = 1
    from_municipality: bool = False  # False: the national defaults
    valid_from: dt.date | None = None

    def band_of(self, age: int | None) -> Band:
        """The band of a class age; a child without a birth date counts as the youngest
        band (the most staff): never under-staff for a missing date."""
        if age is None:
            return self.bands[0]
        for b in self.bands:
            if b.holds(age):
                return b
        return self.bands[0] if age < self.bands[0].min_age else self.bands[-1]

    @property
    def rounding_label(self) -> str:
        return _(ROUNDING_LABELS[self.rounding])


def required_staff(counts: Mapping[Band, int], rounding: str = "sum",
                   minimum_staff: int = 1) -> int:
    """Staff needed for ``counts`` children per band, rounded as ``rounding`` says.

    Exact fractions: 6 one-year-olds at 6:1 need exactly one, never 1.0000001.
    """
    shares = [Fraction(n, b.children_per_staff) for b, n in counts.items() if n > 0]
    if not shares:
        return 0
    if rounding == "sum":
        need = math.ceil(sum(shares))
    elif rounding == "band_ceil":
        need = sum(math.ceil(s) for s in shares)
    elif rounding == "band_tenth":
        need = math.ceil(sum(Fraction(math.floor(s * 10), 10) for s in shares))
    else:
        raise ValueError(f"unknown rounding {rounding!r}")
    return max(need, minimum_staff)


def band_counts(policy: RatioPolicy, class_ages: Iterable[int | None]) -> dict[Band, int]:
    """How many of these children fall in each of the policy's bands (every band, in order)."""
    counts = dict.fromkeys(policy.bands, 0)
    for age in class_ages:
        counts[policy.band_of(age)] += 1
    return counts


def staff_needed(policy: RatioPolicy, class_ages: Sequence[int | None]) -> int:
    """Staff needed for children of these class ages under ``policy``."""
    return required_staff(band_counts(policy, class_ages), policy.rounding,
                          policy.minimum_staff)


def national_bands(day: dt.date) -> tuple[dt.date, tuple[Band, ...]]:
    """The national values in force on ``day`` and since when."""
    valid_from, bands = DEFAULT_RULES[0]
    for since, rules in DEFAULT_RULES:
        if since <= day:
            valid_from, bands = since, rules
    return valid_from, bands


@dataclass(frozen=True)
class PolicyBook:
    """A municipality's rule sets read once (two queries): the policy of any day up to
    ``upto`` without asking the database again (a month of the ratio report)."""

    rounding: str
    minimum_staff: int
    rule_sets: tuple[tuple[dt.date, tuple[Band, ...], str | None, int | None], ...]

    @classmethod
    def load(cls, municipality: Municipality | int, upto: dt.date | None = None) -> PolicyBook:
        settings = RatioSettings.get_or_none(RatioSettings.municipality == municipality)
        q = RatioRule.select().where(RatioRule.municipality == municipality)
        if upto is not None:
            q = q.where(RatioRule.valid_from <= upto)
        grouped: dict[dt.date, list[RatioRule]] = {}
        for r in q.order_by(RatioRule.valid_from, RatioRule.min_age):
            grouped.setdefault(r.valid_from, []).append(r)
        sets = tuple((since, tuple(Band(r.min_age, r.max_age, r.children_per_staff)
                                   for r in rows), rows[0].rounding, rows[0].minimum_staff)
                     for since, rows in grouped.items())
        return cls(settings.rounding if settings else "sum",
                   settings.minimum_staff if settings else 1, sets)

    def on(self, day: dt.date) -> RatioPolicy:
        """The policy in force on ``day``: the latest rule set from that day or before,
        else the national values (with the municipality's rounding)."""
        found = None
        for entry in self.rule_sets:
            if entry[0] <= day:
                found = entry
        if found is None:
            valid_from, bands = national_bands(day)
            return RatioPolicy(bands, self.rounding, self.minimum_staff, False, valid_from)
        since, bands, rounding, minimum = found
        return RatioPolicy(bands, rounding or self.rounding,
                           self.minimum_staff if minimum is None else minimum, True, since)

    def own(self) -> list[RatioPolicy]:
        """Every rule set of the municipality's own, oldest first."""
        return [self.on(entry[0]) for entry in self.rule_sets]


def policy_on(municipality: Municipality | int, day: dt.date) -> RatioPolicy:
    """The municipality's ratio rules that apply on ``day`` (the defaults without any)."""
    return PolicyBook.load(municipality, upto=day).on(day)


def set_rules(municipality: Municipality, valid_from: dt.date, bands: Sequence[Band],
              rounding: str = "sum", minimum_staff: int = 1) -> None:
    """Replace the municipality's rules that start on ``valid_from`` (one transaction).

    The bands must start at age 0, follow each other without a gap or overlap and end
    with an open band; every ratio is at least 1. The rounding and minimum staff belong
    to the rule set: days before ``valid_from`` keep the rules they had.
    """
    errors = check_bands(bands)
    if rounding not in ROUNDING_MODES:
        errors["rounding"] = _("Choose how the staff are rounded.")
    if minimum_staff < 0:
        errors["minimum_staff"] = _("Enter 0 or more.")
    if errors:
        raise Invalid(errors)
    with write_transaction():
        RatioRule.delete().where((RatioRule.municipality == municipality)
                                 & (RatioRule.valid_from == valid_from)).execute()
        for b in bands:
            RatioRule.create(municipality=municipality, min_age=b.min_age, max_age=b.max_age,
                             children_per_staff=b.children_per_staff, valid_from=valid_from,
                             rounding=rounding, minimum_staff=minimum_staff)


def check_bands(bands: Sequence[Band]) -> dict[str, str]:
    if not bands:
        return {"bands": _("Enter at least one age band.")}
    expected = 0
    for b in bands:
        if b.children_per_staff < 1:
            return {"bands": _("Every ratio must be 1 or more children per staff.")}
        if b.min_age != expected:
            return {"bands": _("Age bands must start at 0 and follow each other "
                               "without a gap.")}
        if b.max_age is None:
            break
        if b.max_age < b.min_age:
            return {"bands": _("An age band ends before it starts.")}
        expected = b.max_age + 1
    if bands[-1].max_age is not None or any(b.max_age is None for b in bands[:-1]):
        return {"bands": _("Only the last age band is open (“and older”).")}
    return {}
