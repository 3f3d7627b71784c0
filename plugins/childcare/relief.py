"""Municipal relief (利用料の減免) for drop-in care, per child per day, meals excluded.

A municipality sets an amount per household bracket (``ReliefBracket``, dated sets:
the set with the latest start on or before a day applies, the domain notes' values
where it has none). A household's bracket (``HouseholdRelief``, with dates) follows
from its income: 要配慮個人情報. Pages that show it log a ``sensitive_read``; the
monthly billing reads it to compute amounts and shows only the money.

The relief of a child-day is the bracket's amount, never more than that day's care
fee after the sibling discount. Depending on the site's ``relief_mode`` it is a
discount on the household's invoice that the municipality pays the operator
(代理受領: ``billing`` bills the ``relief_payer``), or the household pays in full and
the municipality refunds it (償還払い: ``relief_statement`` below, with a CSV).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hubcore.billing import Month
from hubcore.billing.export import write_csv
from hubcore.db import get_in_site, write_transaction
from hubcore.errors import Invalid, NotFound
from hubcore.forms import nfkc, validate
from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.people.models import Household
from hubcore.sites.models import Municipality, Site
from plugins.childcare.models import HouseholdRelief, ReliefBracket
from plugins.childcare.settings import invoice_text

# The brackets of the domain notes (春日井市, 宮崎市): code, label msgid, yen per child-day.
DEFAULT_BRACKETS: tuple[tuple[str, str, int], ...] = (
    ("welfare", N_("Public assistance (生活保護)"), 3000),
    ("exempt", N_("Resident tax exempt (住民税非課税)"), 2400),
    ("low_income", N_("Income levy under ¥77,101 (所得割)"), 2100),
    ("other", N_("Other designated households"), 1500),
)
BRACKET_CODES = tuple(code for code, _label, _yen in DEFAULT_BRACKETS)
LABELS = {code: label for code, label, _yen in DEFAULT_BRACKETS}


@dataclass(frozen=True)
class Bracket:
    code: str
    label: str  # as stored (Japanese) or the default's msgid
    amount: int


@dataclass(frozen=True)
class BracketSet:
    """The brackets a municipality offers from ``valid_from`` (None: the defaults)."""

    valid_from: dt.date | None
    brackets: dict[str, Bracket]

    @property
    def from_municipality(self) -> bool:
        return self.valid_from is not None


DEFAULT_SET = BracketSet(None, {code: Bracket(code, label, yen)
                                for code, label, yen in DEFAULT_BRACKETS})


class ReliefTable:
    """A municipality's bracket sets, loaded once (one query): ``on(day)`` without more."""

    def __init__(self, municipality: Municipality | int):
        sets: dict[dt.date, dict[str, Bracket]] = defaultdict(dict)
        for r in ReliefBracket.select().where(ReliefBracket.municipality == municipality):
            sets[r.valid_from][r.code] = Bracket(r.code, r.label, r.amount)
        self.sets = [BracketSet(since, sets[since]) for since in sorted(sets)]

    def on(self, day: dt.date) -> BracketSet:
        found = DEFAULT_SET
        for s in self.sets:
            if s.valid_from <= day:
                found = s
        return found


def brackets_on(municipality: Municipality | int, day: dt.date) -> BracketSet:
    return ReliefTable(municipality).on(day)


def bracket_label(b: Bracket) -> str:
    """What a page shows: the default labels are msgids, translated."""
    return _(b.label) if b.label in LABELS.values() else b.label


class BracketsIn(BaseModel):
    """The municipality's amounts from a date; an empty amount: not offered then."""

    model_config = ConfigDict(extra="forbid")

    valid_from: dt.date = Field(title=N_("From"))
    welfare: int | None = Field(None, title=LABELS["welfare"], ge=0, le=100_000)
    exempt: int | None = Field(None, title=LABELS["exempt"], ge=0, le=100_000)
    low_income: int | None = Field(None, title=LABELS["low_income"], ge=0, le=100_000)
    other: int | None = Field(None, title=LABELS["other"], ge=0, le=100_000)

    @field_validator("valid_from", "welfare", "exempt", "low_income", "other", mode="before")
    @classmethod
    def _numbers(cls, v):
        v = nfkc(v)
        return v.replace(",", "").replace("円", "").replace("¥", "") if isinstance(v, str) else v


def set_brackets(municipality: Municipality, data: dict[str, Any]) -> BracketSet:
    """Replace the municipality's set that starts on ``valid_from`` (one transaction)."""
    clean = validate(BracketsIn, data)
    amounts = {code: getattr(clean, code) for code in BRACKET_CODES}
    if all(v is None for v in amounts.values()):
        raise Invalid({"welfare": _("Enter the amount of at least one bracket.")})
    with write_transaction():
        ReliefBracket.delete().where((ReliefBracket.municipality == municipality)
                                     & (ReliefBracket.valid_from == clean.valid_from)).execute()
        for code, yen in amounts.items():
            if yen is not None:
                ReliefBracket.create(municipality=municipality, code=code,
                                     label=invoice_text(LABELS[code]), amount=yen,
                                     valid_from=clean.valid_from)
    return brackets_on(municipality, clean.valid_from)


def bracket_sets(municipality: Municipality | int) -> list[BracketSet]:
    """The municipality's own sets, newest first (empty: the defaults apply)."""
    return list(reversed(ReliefTable(municipality).sets))


# --- households' brackets (sensitive) ------------------------------------------------


class HouseholdReliefIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    household_id: int = Field(title=N_("Household"))
    bracket: str = Field(title=N_("Bracket"))
    valid_from: dt.date = Field(title=N_("From"))
    valid_to: dt.date | None = Field(None, title=N_("Until"))

    _numbers = field_validator("household_id", "valid_from", "valid_to", mode="before")(nfkc)

    @field_validator("bracket", mode="before")
    @classmethod
    def _code(cls, v):
        v = unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else v
        if v not in BRACKET_CODES:
            raise ValueError(_("Choose a bracket from the list."))
        return v


def _household(site: Site, raw_id: Any) -> Household:
    try:
        return get_in_site(Household, site, raw_id)
    except NotFound:
        raise Invalid({"household_id": _("Choose a household of this site.")}) from None


def set_household_relief(site: Site, data: dict[str, Any]) -> HouseholdRelief:
    """Give a household a bracket from a date (until a date, or open). An open bracket
    that started earlier ends the day before; any other overlap is refused."""
    clean = validate(HouseholdReliefIn, data)
    household = _household(site, clean.household_id)
    if clean.valid_to is not None and clean.valid_to < clean.valid_from:
        raise Invalid({"valid_to": _("The end date is before the start date.")})
    new_end = clean.valid_to or dt.date.max
    with write_transaction():
        for r in HouseholdRelief.select().where(HouseholdRelief.household == household):
            ends = r.valid_to or dt.date.max
            if r.valid_from < clean.valid_from and r.valid_to is None:
                r.valid_to = clean.valid_from - dt.timedelta(days=1)
                r.save()
            elif r.valid_from <= new_end and clean.valid_from <= ends:
                raise Invalid({"valid_from": _("The household has a bracket from {day} "
                                               "already.").format(day=r.valid_from.isoformat())})
        return HouseholdRelief.create(household=household, bracket=clean.bracket,
                                      valid_from=clean.valid_from, valid_to=clean.valid_to)


class EndReliefIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    relief_id: int = Field(title=N_("Bracket"))
    last_day: dt.date = Field(title=N_("Last day"))

    _numbers = field_validator("relief_id", "last_day", mode="before")(nfkc)


def end_household_relief(site: Site, data: dict[str, Any]) -> HouseholdRelief:
    """End a household's bracket on ``last_day`` (a day before it started removes it)."""
    clean = validate(EndReliefIn, data)
    row = (HouseholdRelief.select().join(Household)
           .where((HouseholdRelief.id == clean.relief_id) & (Household.site == site)).first())
    if row is None:
        raise Invalid({"relief_id": _("Choose a bracket of a household of this site.")})
    with write_transaction():
        if clean.last_day < row.valid_from:
            HouseholdRelief.delete().where(HouseholdRelief.id == row.id).execute()
        else:
            row.valid_to = clean.last_day
            row.save()
    return row


@dataclass
class HouseholdBrackets:
    household: Household
    reliefs: list[HouseholdRelief] = field(default_factory=list)

    def current(self, day: dt.date) -> HouseholdRelief | None:
        for r in self.reliefs:
            if r.valid_from <= day and (r.valid_to is None or day <= r.valid_to):
                return r
        return None


def household_brackets(site: Site) -> list[HouseholdBrackets]:
    """Households of the site with any bracket, 五十音 order, brackets newest first.
    Sensitive: the caller logs that it showed them."""
    out: dict[int, HouseholdBrackets] = {}
    q = (HouseholdRelief.select(HouseholdRelief, Household).join(Household)
         .where(Household.site == site)
         .order_by(Household.kana_key, Household.id, HouseholdRelief.valid_from.desc()))
    for r in q:
        out.setdefault(r.household.id, HouseholdBrackets(r.household)).reliefs.append(r)
    return list(out.values())


class ReliefLookup:
    """Brackets of a site's households over a span of days, loaded once, for billing."""

    def __init__(self, site: Site, first: dt.date, last: dt.date):
        self.table = ReliefTable(site.municipality_id)
        self.rows: dict[int, list[HouseholdRelief]] = defaultdict(list)
        q = (HouseholdRelief.select().join(Household)
             .where((Household.site == site) & (HouseholdRelief.valid_from <= last)
                    & (HouseholdRelief.valid_to.is_null() | (HouseholdRelief.valid_to >= first)))
             .order_by(HouseholdRelief.valid_from))
        for r in q:
            self.rows[r.household_id].append(r)

    def on(self, household_id: int, day: dt.date) -> Bracket | None:
        """The household's bracket on ``day`` with the municipality's amount, or None
        (no bracket, or a bracket the municipality does not offer that day)."""
        for r in self.rows.get(household_id, ()):
            if r.valid_from <= day and (r.valid_to is None or day <= r.valid_to):
                return self.table.on(day).brackets.get(r.bracket)
        return None


# --- the statement for the municipality -----------------------------------------------


@dataclass
class StatementRow:
    household_id: int
    name: str
    name_kana: str
    address: str
    brackets: list[Bracket]  # the brackets applied this month
    child_days: int
    amount: int  # yen


def relief_statement(site: Site, month: Month | str) -> list[StatementRow]:
    """Per household, the relief of ``month`` (what the municipality refunds in refund
    mode, or what it is billed in discount mode). Sensitive: reveals the brackets."""
    from plugins.childcare.billing import compute_month

    period = Month.parse(month) if isinstance(month, str) else Month(month.year, month.month)
    bill = compute_month(site, period)
    per: dict[int, StatementRow] = {}
    households = {h.id: h for h in Household.select().where(
        Household.id.in_(sorted({r.household_id for r in bill.relief}) or [0]))}
    for r in bill.relief:
        h = households[r.household_id]
        row = per.setdefault(h.id, StatementRow(h.id, h.name, h.name_kana,
                                                f"〒{h.postal_code} {h.address}".strip()
                                                if h.postal_code else h.address, [], 0, 0))
        row.child_days += 1
        row.amount += r.amount
        if r.bracket not in row.brackets:
            row.brackets.append(r.bracket)
    return sorted(per.values(), key=lambda r: (households[r.household_id].kana_key,
                                               r.household_id))


STATEMENT_HEADER = (N_("Household"), N_("Name (kana)"), N_("Address"), N_("Bracket"),
                    N_("Child-days"), N_("Relief (yen)"))


def _text_of(b: Bracket) -> str:
    return invoice_text(b.label) if b.label in LABELS.values() else b.label


def statement_csv(site: Site, month: Month | str,
                  rows: list[StatementRow] | None = None) -> bytes:
    """The statement as CSV for the town: UTF-8 with a BOM (Excel), CRLF, like the
    core's exports; the header in the invoice language (Japanese)."""
    rows = relief_statement(site, month) if rows is None else rows
    header = [invoice_text(h) for h in STATEMENT_HEADER]
    return write_csv(header, [(r.name, r.name_kana, r.address,
                               " / ".join(_text_of(b) for b in r.brackets),
                               r.child_days, r.amount) for r in rows])
