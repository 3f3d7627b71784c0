"""People and households: plain functions over the models, no HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import peewee

from hubcore import kana
from hubcore.db import get_in_site, is_postgres, like, write_transaction
from hubcore.errors import Invalid, NotFound
from hubcore.forms import validate
from hubcore.i18n import gettext as _
from hubcore.people.models import Household, Person, age_on
from hubcore.people.schemas import HouseholdIn, HouseholdOut, MemberIn, PersonIn, PersonOut
from hubcore.sites.models import Site
from hubcore.sites.operations import site_today  # noqa: F401  (ops.site_today)

# The rows of the 五十音 table, as [start, end) ranges of the plain-kana sort key.
KANA_ROWS = [("ア", "ア", "カ"), ("カ", "カ", "サ"), ("サ", "サ", "タ"), ("タ", "タ", "ナ"),
             ("ナ", "ナ", "ハ"), ("ハ", "ハ", "マ"), ("マ", "マ", "ヤ"), ("ヤ", "ヤ", "ラ"),
             ("ラ", "ラ", "ワ"), ("ワ", "ワ", "ヿ")]
AGE_BANDS = [(0, 5), (6, 12), (13, 18), (19, 64), (65, 74), (75, None)]
# 続柄 offered as suggestions in forms; stored as typed, so any other word is fine too.
RELATIONSHIPS = ["世帯主", "配偶者", "子", "父", "母", "祖父", "祖母", "孫", "兄弟姉妹", "同居人"]


def _primary(text: str) -> str:
    return kana.sort_key(text).split(" ", 1)[0]  # the plain-kana part, before the spelling


def person_kana_key(family_kana: str, given_kana: str) -> str:
    """五十音 key of a name: by family name first, as in a 名簿 (カト ハナコ before
    カトウ イチロウ), then given name, then exact spelling (カトウ, ガトウ, かとう)."""
    spelling = kana.normalize(family_kana) + " " + kana.normalize(given_kana)
    key = f"{_primary(family_kana)} {_primary(given_kana)} {spelling}"
    return key[:Person.kana_key.max_length]


def household_kana_key(name_kana: str) -> str:
    return kana.sort_key(name_kana)[:Household.kana_key.max_length]


def _binary(field):
    # 五十音 order is the code-point order of kana_key. A PostgreSQL database created with
    # a language collation (ja_JP.UTF-8, ICU) would order and compare it differently.
    return field.collate('"C"') if is_postgres() else field


def get_person(site: Site, person_id) -> Person:
    return get_in_site(Person, site, person_id)


def get_household(site: Site, household_id) -> Household:
    return get_in_site(Household, site, household_id)


def search_people(site: Site, query: str = "", row: str = "", limit: int = 50,
                  offset: int = 0) -> tuple[list[Person], int]:
    """People of a site in 五十音 order of their フリガナ, filtered by a query in kana or
    kanji (spaces and hiragana/katakana/half-width differences ignored) and by a
    五十音 row (ア, カ, ...). Returns one page and the total count."""
    # The household comes in the same query: a list page shows it on every row.
    q = (Person.select(Person, Household)
         .join(Household, peewee.JOIN.LEFT_OUTER)
         .where(Person.site == site))
    if kana.normalize(query):
        q = q.where(like(Person.search_text, kana.like_pattern(query)))
    for label, start, end in KANA_ROWS:
        if row == label:
            key = _binary(Person.kana_key)
            q = q.where((key >= start) & (key < end))
    total = q.count()
    page = q.order_by(_binary(Person.kana_key), Person.id).limit(limit).offset(offset)
    return list(page), total


def count_households(site: Site) -> int:
    return Household.select().where(Household.site == site).count()


def list_households(site: Site, query: str = "") -> list[Household]:
    q = Household.select().where(Household.site == site)
    if kana.normalize(query):
        pattern = kana.like_pattern(query)
        q = q.where(like(Household.kana_key, pattern) | like(Household.name, pattern))
    return list(q.order_by(_binary(Household.kana_key), Household.id))


def member_counts(site: Site) -> dict[int, int]:
    """Household id → number of members, for every household of the site that has any."""
    rows = (Person.select(Person.household, peewee.fn.COUNT(Person.id))
            .where((Person.site == site) & Person.household.is_null(False))
            .group_by(Person.household).tuples())
    return {household_id: n for household_id, n in rows}


def members(household: Household) -> list[Person]:
    """Oldest first; people without a birth date last."""
    return list(Person.select().where(Person.household == household)
                .order_by(Person.birth_date.asc(nulls="LAST"), Person.id))


def people_outside(site: Site, household: Household) -> list[Person]:
    """People of the site who could join ``household``, in 五十音 order, with their
    current household loaded (joining moves them out of it)."""
    return list(Person.select(Person, Household)
                .join(Household, peewee.JOIN.LEFT_OUTER)
                .where((Person.site == site)
                       & (Person.household.is_null() | (Person.household != household)))
                .order_by(_binary(Person.kana_key), Person.id))


def _search_text(p: Person) -> str:
    return kana.normalize(f"{p.family_name}{p.given_name}") + " " + kana.normalize(
        f"{p.family_name_kana}{p.given_name_kana}")


def _apply_person(site: Site, person: Person, data: PersonIn) -> None:
    household = get_household_or_invalid(site, data.household_id)
    for field in ("family_name", "given_name", "family_name_kana", "given_name_kana",
                  "birth_date", "relationship", "phone", "email", "emergency_contact_name",
                  "emergency_contact_phone", "emergency_contact_relation", "notes"):
        setattr(person, field, getattr(data, field))
    person.household = household
    person.kana_key = person_kana_key(data.family_name_kana, data.given_name_kana)
    person.search_text = _search_text(person)
    person.updated_at = dt.datetime.now(dt.UTC)


def get_household_or_invalid(site: Site, household_id: int | None) -> Household | None:
    if household_id is None:
        return None
    h = Household.get_or_none((Household.id == household_id) & (Household.site == site))
    if h is None:
        raise Invalid({"household_id": _("Household: no such household at this site.")})
    return h


def _save_person(site: Site, person: Person, data: PersonIn) -> Person:
    created = person.id is None
    with write_transaction():
        _apply_person(site, person, data)
        person.save()
        # Plugins hear of it inside the transaction: one that raises undoes the write.
        site.hooks.person_changed(site=site, person=person, created=created)
    return person


def create_person(site: Site, data: PersonIn) -> Person:
    return _save_person(site, Person(site=site), data)


def update_person(site: Site, person: Person, data: PersonIn) -> Person:
    return _save_person(site, person, data)


def create_person_from_parts(site: Site, household: Household | None = None, **fields) -> Person:
    """For importers and the demo: the same validation as the form (raises Invalid)."""
    data = validate(PersonIn, {**fields, "household_id": household.id if household else None})
    return create_person(site, data)


def _apply_household(h: Household, data: HouseholdIn) -> None:
    for field in ("name", "name_kana", "postal_code", "address", "phone"):
        setattr(h, field, getattr(data, field))
    h.kana_key = household_kana_key(data.name_kana)


def create_household(site: Site, data: HouseholdIn) -> Household:
    with write_transaction():
        h = Household(site=site)
        _apply_household(h, data)
        h.save()
    return h


def update_household(household: Household, data: HouseholdIn) -> Household:
    with write_transaction():
        _apply_household(household, data)
        household.save()
    return household


def create_household_from_parts(site: Site, **fields) -> Household:
    return create_household(site, validate(HouseholdIn, fields))


def set_household(site: Site, person: Person, household: Household | None,
                  relationship: str | None = None) -> Person:
    """Move a person into a household (or out of any with None)."""
    # Callers fetch both through the site; this keeps a slip from joining two sites' records.
    if person.site_id != site.id or (household is not None and household.site_id != site.id):
        raise NotFound(person.id)
    with write_transaction():
        person.household = household
        if relationship is not None:
            person.relationship = relationship
        person.updated_at = dt.datetime.now(dt.UTC)
        person.save()
        site.hooks.person_changed(site=site, person=person, created=False)
    return person


def add_member(site: Site, household: Household, data: MemberIn) -> Person:
    """Put a person of the site into ``household`` (moving them out of any other)."""
    person = Person.get_or_none((Person.id == data.person_id) & (Person.site == site))
    if person is None:
        raise Invalid({"person_id": _("Person: no such person at this site.")})
    return set_household(site, person, household, data.relationship)


def remove_member(site: Site, household: Household, person: Person) -> Person:
    """Take a person out of ``household``; their 続柄 goes with it. A second click is harmless."""
    if person.household_id != household.id:
        return person
    return set_household(site, person, None, relationship="")


def age_band(age: int | None) -> str | None:
    if age is None:
        return None
    for low, high in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return f"{low}–{high}" if high is not None else f"{low}+"
    return None


def age_band_label(band: str) -> str:
    """How a band reads on screen: 0〜5歳 / 75歳以上 in Japanese, Ages 0–5 / 75+ in English."""
    low, _sep, high = band.rstrip("+").partition("–")
    if high:
        return _("Ages {low} to {high}").format(low=low, high=high)
    return _("Ages {low} and over").format(low=low)


def age_band_counts(site: Site, day: dt.date) -> dict[str, int]:
    counts = {age_band(low): 0 for low, _ in AGE_BANDS}
    counts["?"] = 0
    for (birth,) in Person.select(Person.birth_date).where(Person.site == site).tuples():
        if birth is None:
            counts["?"] += 1
            continue
        counts[age_band(age_on(birth, day))] += 1
    return counts


def person_out(p: Person, site_slug: str) -> PersonOut:
    return PersonOut(site=site_slug, **{f: getattr(p, f) for f in PersonOut.model_fields
                                        if f not in ("site", "household_id")},
                     household_id=p.household_id)


def household_out(h: Household, site_slug: str, member_ids: Iterable[int]) -> HouseholdOut:
    return HouseholdOut(id=h.id, site=site_slug, name=h.name, name_kana=h.name_kana,
                        postal_code=h.postal_code, address=h.address, phone=h.phone,
                        member_ids=list(member_ids))
