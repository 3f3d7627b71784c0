"""A site's childcare settings, its prices, care rooms and staff roster (no HTTP).

Prices are core ``Price`` rows (program "childcare") with effective dates, written
through ``hubcore.billing.operations.add_price``: a new price from a date closes the
open one the day before, so invoices of past months keep the price of their days.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hubcore import i18n
from hubcore.billing import TaxCategory
from hubcore.billing.models import Organisation, Price
from hubcore.billing.operations import add_price, site_today
from hubcore.db import get_in_site, write_transaction
from hubcore.errors import Invalid, NotFound
from hubcore.forms import nfkc, validate
from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.rooms.models import Room
from hubcore.sites.models import Site
from plugins.childcare.models import CareRoom, Settings, Staff

PROGRAM = "childcare"  # the program of the prices and of every invoice line

# Drop-in price bands by the child's age ON THE DAY OF CARE (completed years, a
# birthday counting from the day itself) — not the class age of the ratio board: a
# child who turns 1 on the 10th pays the 1–2 band from the 10th.
PRICE_BANDS: tuple[tuple[int, str], ...] = ((0, "0"), (1, "1"), (3, "3"))  # from age, code
BAND_LABELS = {"0": N_("Age 0"), "1": N_("Ages 1–2"), "3": N_("Age 3 and older")}


def price_band(age: int | None) -> str:
    """The price band code of an age on the day. A child without a birth date pays the
    oldest (cheapest) band: a missing date must never raise a family's bill."""
    if age is None:
        return PRICE_BANDS[-1][1]
    band = PRICE_BANDS[0][1]
    for since, code in PRICE_BANDS:
        if age >= since:
            band = code
    return band


@dataclass(frozen=True)
class PriceCode:
    code: str
    label: str  # English msgid; the stored Price.label is its Japanese text
    default: int  # yen, from the domain notes
    tax: TaxCategory


# Care fees are 非課税 (社会福祉事業: 一時預かり and 放課後児童クラブ); snacks and
# lunch are food, 8 % (軽減税率).
_CARE = TaxCategory.NON_TAXABLE
PRICE_CODES: tuple[PriceCode, ...] = (
    PriceCode("dropin_half_0", N_("Drop-in care, half day (age 0)"), 1300, _CARE),
    PriceCode("dropin_day_0", N_("Drop-in care, full day (age 0)"), 2300, _CARE),
    PriceCode("dropin_half_1", N_("Drop-in care, half day (ages 1–2)"), 1200, _CARE),
    PriceCode("dropin_day_1", N_("Drop-in care, full day (ages 1–2)"), 2100, _CARE),
    PriceCode("dropin_half_3", N_("Drop-in care, half day (age 3 and older)"), 900, _CARE),
    PriceCode("dropin_day_3", N_("Drop-in care, full day (age 3 and older)"), 1900, _CARE),
    PriceCode("dropin_30min", N_("Drop-in care, per 30 minutes"), 200, _CARE),
    PriceCode("snack", N_("Snack"), 50, TaxCategory.REDUCED),
    PriceCode("lunch", N_("Lunch"), 300, TaxCategory.REDUCED),
    PriceCode("late_block", N_("Late pickup fee"), 500, _CARE),
    PriceCode("afterschool_month", N_("After-school club, monthly fee"), 8000, _CARE),
)
CODES = {p.code: p for p in PRICE_CODES}
# Seeded prices apply from here: before any attendance a newly switched-on site has.
DEFAULT_PRICES_FROM = dt.date(2020, 4, 1)

SHAPE_LABELS = {"band_session": N_("Per age band: half day or full day"),
                "per_30min": N_("Per 30 minutes")}
RELIEF_MODE_LABELS = {"discount": N_("Discount on the invoice (the municipality pays us)"),
                      "refund": N_("Refund (the municipality refunds the household)")}
TAX_LABELS = {TaxCategory.NON_TAXABLE.value: N_("Non-taxable"),
              TaxCategory.REDUCED.value: N_("8% (reduced rate)"),
              TaxCategory.STANDARD.value: N_("10%")}


def invoice_text(msgid: str) -> str:
    """Text written into invoices and prices: always in Japanese, the invoice language,
    whatever the language of the request that ran the month (reruns stay unchanged)."""
    return i18n.translations(i18n.DEFAULT_LANGUAGE).gettext(msgid)


# --- settings ----------------------------------------------------------------------


def get_settings(site: Site) -> Settings:
    """The site's settings row, made with the defaults on first use (safe to race)."""
    row = Settings.get_or_none(Settings.site == site)
    if row is None:
        Settings.insert(site=site).on_conflict_ignore().execute()
        row = Settings.get(Settings.site == site)
    return row


_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def closing_time(settings: Settings) -> dt.time:
    h, m = map(int, settings.closing_time.split(":"))
    return dt.time(h, m)


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    closing_time: str = Field(title=N_("Closing time"))
    price_shape: Literal["band_session", "per_30min"] = Field(title=N_("Price shape"))
    half_day_minutes: int = Field(title=N_("Half day up to (minutes)"), ge=30, le=720)
    sibling_discount_percent: int = Field(title=N_("Sibling discount (percent)"), ge=0, le=100)
    relief_mode: Literal["discount", "refund"] = Field(title=N_("Relief"))
    relief_payer_id: int | None = Field(None, title=N_("Municipality that pays the relief"))
    late_block_minutes: int = Field(title=N_("Late fee per started block of (minutes)"),
                                    ge=1, le=240)

    _numbers = field_validator("half_day_minutes", "sibling_discount_percent",
                               "late_block_minutes", "relief_payer_id", mode="before")(nfkc)

    @field_validator("closing_time", mode="before")
    @classmethod
    def _time(cls, v):
        v = nfkc(v)
        if isinstance(v, str) and re.fullmatch(r"\d:\d\d", v):
            v = "0" + v  # 9:30 → 09:30
        if not isinstance(v, str) or not _HHMM.fullmatch(v):
            raise ValueError(_("Enter the closing time as HH:MM, e.g. 18:00."))
        return v

    @field_validator("relief_payer_id", mode="before")
    @classmethod
    def _none(cls, v):
        return None if v in ("", "0", 0) else v


SETTINGS_FIELDS = tuple(SettingsIn.model_fields)


def settings_values(s: Settings) -> dict[str, Any]:
    return {f: getattr(s, f) for f in SETTINGS_FIELDS}


def relief_payers(site: Site) -> list[Organisation]:
    """Organisations of the site's municipality that may pay relief (active ones)."""
    return list(Organisation.select().where(
        (Organisation.municipality == site.municipality_id) & Organisation.active)
        .order_by(Organisation.name_kana, Organisation.name))


def update_settings(site: Site, data: dict[str, Any]) -> Settings:
    """Validate a settings form and save it, or raise Invalid and change nothing."""
    clean = validate(SettingsIn, data)
    if clean.relief_payer_id is not None and not Organisation.select().where(
            (Organisation.id == clean.relief_payer_id)
            & (Organisation.municipality == site.municipality_id)).exists():
        raise Invalid({"relief_payer_id": _("Choose an organisation of this municipality.")})
    with write_transaction():
        get_settings(site)
        Settings.update(**clean.model_dump()).where(Settings.site == site).execute()
    return get_settings(site)


def on_enabled(site: Site) -> None:
    """Childcare was switched on at ``site``: its settings row and, for each price code
    that has no price yet, the default price from the domain notes. Idempotent."""
    get_settings(site)
    have = {c for (c,) in Price.select(Price.code).where(
        (Price.site == site) & (Price.program == PROGRAM)).tuples()}
    for p in PRICE_CODES:
        if p.code not in have:
            add_price(site, PROGRAM, p.code, invoice_text(p.label), p.default, p.tax,
                      DEFAULT_PRICES_FROM)


# --- prices ------------------------------------------------------------------------


@dataclass
class PriceRow:
    code: PriceCode
    current: Price | None  # the price on today
    later: list[Price]  # prices that start after today


def price_table(site: Site, today: dt.date | None = None) -> list[PriceRow]:
    """Each price code with its price today and the revisions to come (one query)."""
    today = today or site_today(site)
    rows = {p.code: PriceRow(p, None, []) for p in PRICE_CODES}
    q = (Price.select().where((Price.site == site) & (Price.program == PROGRAM)
                              & (Price.valid_to.is_null() | (Price.valid_to >= today)))
         .order_by(Price.code, Price.valid_from))
    for price in q:
        row = rows.get(price.code)
        if row is None:
            continue
        if price.valid_from <= today:
            row.current = price
        else:
            row.later.append(price)
    return list(rows.values())


class PriceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(title=N_("Price"))
    unit_price: int = Field(title=N_("Price (yen)"), ge=0, le=1_000_000)
    valid_from: dt.date = Field(title=N_("From"))
    label: str = Field("", title=N_("Text on the invoice"), max_length=200)
    tax_category: Literal["non_taxable", "reduced", "standard"] | None = Field(
        None, title=N_("Tax"))

    _numbers = field_validator("valid_from", mode="before")(nfkc)

    @field_validator("unit_price", mode="before")
    @classmethod
    def _yen(cls, v):
        # ¥1,300 / 1,300円 / １３００ as typed: the digits are the price.
        v = nfkc(v)
        return re.sub(r"[,¥￥円\s]", "", v) if isinstance(v, str) else v

    @field_validator("code")
    @classmethod
    def _code(cls, v):
        if v not in CODES:
            raise ValueError(_("Choose a price from the list."))
        return v

    @field_validator("label", mode="before")
    @classmethod
    def _text(cls, v):
        return unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else v


def add_childcare_price(site: Site, data: dict[str, Any]) -> Price:
    """A new price of a code from a date (the invoice text and the tax default to the
    code's current ones). Invalid, nothing changed, when another price starts that day
    or later."""
    clean = validate(PriceIn, data)
    code = CODES[clean.code]
    latest = (Price.select().where((Price.site == site) & (Price.program == PROGRAM)
                                   & (Price.code == clean.code))
              .order_by(Price.valid_from.desc()).first())
    label = clean.label or (latest.label if latest else invoice_text(code.label))
    tax = clean.tax_category or (latest.tax_category if latest else code.tax.value)
    return add_price(site, PROGRAM, clean.code, label, Decimal(clean.unit_price), tax,
                     clean.valid_from)


# --- care rooms --------------------------------------------------------------------


@dataclass
class RoomRow:
    room: Room
    capacity: int | None  # children at once; None: not used for childcare


def care_rooms(site: Site) -> list[RoomRow]:
    caps = dict(CareRoom.select(CareRoom.room, CareRoom.capacity)
                .join(Room).where(Room.site == site).tuples())
    rooms = Room.select().where(Room.site == site).order_by(Room.sort_order, Room.name)
    return [RoomRow(r, caps.get(r.id)) for r in rooms]


class CareRoomIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    room_id: int = Field(title=N_("Room"))
    capacity: int | None = Field(None, title=N_("Children at once"), ge=1, le=500)

    _numbers = field_validator("room_id", "capacity", mode="before")(nfkc)


def set_room_capacity(site: Site, data: dict[str, Any]) -> CareRoom | None:
    """Make a room of the site a care room taking ``capacity`` children at once, or (no
    capacity) stop using it for childcare. Its reservations and attendance are kept."""
    clean = validate(CareRoomIn, data)
    try:
        room = get_in_site(Room, site, clean.room_id)
    except NotFound:
        raise Invalid({"room_id": _("Choose a room of this site.")}) from None
    with write_transaction():
        if clean.capacity is None:
            CareRoom.delete().where(CareRoom.room == room).execute()
            return None
        (CareRoom.insert(room=room, capacity=clean.capacity)
         .on_conflict(conflict_target=[CareRoom.room],
                      update={CareRoom.capacity: clean.capacity}).execute())
    return CareRoom.get(CareRoom.room == room)


# --- staff roster ------------------------------------------------------------------


class StaffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(title=N_("Name"), min_length=1, max_length=100)
    name_kana: str = Field("", title=N_("Name (kana)"), max_length=200)
    qualified: bool = Field(False, title=N_("Qualified childcare worker (保育士)"))
    active: bool = Field(True, title=N_("Active"))

    @field_validator("name", "name_kana", mode="before")
    @classmethod
    def _text(cls, v):
        return unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else v

    @field_validator("qualified", "active", mode="before")
    @classmethod
    def _checkbox(cls, v):
        return True if v == "on" else v


def list_staff(site: Site, include_inactive: bool = True) -> list[Staff]:
    q = Staff.select().where(Staff.site == site)
    if not include_inactive:
        q = q.where(Staff.active)
    return list(q.order_by(Staff.active.desc(), Staff.name_kana, Staff.name, Staff.id))


def add_staff(site: Site, data: dict[str, Any]) -> Staff:
    clean = validate(StaffIn, {"qualified": False, **data})
    with write_transaction():
        return Staff.create(site=site, **clean.model_dump())


def update_staff(site: Site, staff_id: Any, data: dict[str, Any]) -> Staff:
    """Rename a member of staff, change the 保育士 flag, or (active false) deactivate them:
    they leave the check-in screen, their past attendance stays."""
    try:
        staff = get_in_site(Staff, site, staff_id)
    except NotFound:
        raise Invalid({"staff_id": _("Choose a member of staff of this site.")}) from None
    clean = validate(StaffIn, {"qualified": False, "active": False, **data})
    with write_transaction():
        Staff.update(**clean.model_dump()).where(Staff.id == staff.id).execute()
    return Staff.get_by_id(staff.id)
