"""People and households: plain functions over the models, no HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from hubcore import kana
from hubcore.db import like, write_transaction
from hubcore.errors import Invalid, NotFound
from hubcore.i18n import gettext as _
from hubcore.people.models import Household, Person
from hubcore.people.schemas import HouseholdIn, HouseholdOut, PersonIn, PersonOut
from hubcore.sites.models import Site

# The rows of the 五十音 table, as [start, end) ranges of the plain-kana sort key.
KANA_ROWS = [("ア", "ア", "カ"), ("カ", "カ", "サ"), ("サ", "サ", "タ"), ("タ", "タ", "ナ"),
             ("ナ", "ナ", "ハ"), ("ハ", "ハ", "マ"), ("マ", "マ", "ヤ"), ("ヤ", "ヤ", "ラ"),
             ("ラ", "ラ", "ワ"), ("ワ", "ワ", "ヿ")]
AGE_BANDS = [(0, 5), (6, 12), (13, 18), (19, 64), (65, 74), (75, None)]


def _by_id(model, site: Site, obj_id):
    try:
        oid = int(obj_id)
    except (TypeError, ValueError):
        raise NotFound(obj_id) from None
    obj = model.get_or_none((model.id == oid) & (model.site == site))
    if obj is None:
        raise NotFound(obj_id)
    return obj


def get_person(site: Site, person_id) -> Person:
    return _by_id(Person, site, person_id)


def get_household(site: Site, household_id) -> Household:
    return _by_id(Household, site, household_id)


def search_people(site: Site, query: str = "", row: str = "", limit: int = 50,
                  offset: int = 0) -> tuple[list[Person], int]:
    """People of a site in 五十音 order of their フリガナ, filtered by a query in kana or
    kanji (spaces and hiragana/katakana/half-width differences ignored) and by a
    五十音 row (ア, カ, ...). Returns one page and the total count."""
    q = Person.select().where(Person.site == site)
    if query.strip():
        q = q.where(like(Person.search_text, kana.like_pattern(query)))
    for label, start, end in KANA_ROWS:
        if row == label:
            q = q.where((Person.kana_key >= start) & (Person.kana_key < end))
    total = q.count()
    page = q.order_by(Person.kana_key, Person.id).limit(limit).offset(offset)
    return list(page), total


def list_households(site: Site, query: str = "") -> list[Household]:
    q = Household.select().where(Household.site == site)
    if query.strip():
        pattern = kana.like_pattern(query)
        q = q.where(like(Household.kana_key, pattern) | like(Household.name, pattern))
    return list(q.order_by(Household.kana_key, Household.id))


def members(household: Household) -> list[Person]:
    return list(Person.select().where(Person.household == household)
                .order_by(Person.birth_date.asc(nulls="LAST"), Person.id))


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
    person.kana_key = kana.sort_key(f"{data.family_name_kana}{data.given_name_kana}")
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
    """For importers and the demo: the same validation as the form."""
    data = PersonIn.model_validate({**fields, "household_id": household.id if household else None})
    return create_person(site, data)


def _apply_household(h: Household, data: HouseholdIn) -> None:
    for field in ("name", "name_kana", "postal_code", "address", "phone"):
        setattr(h, field, getattr(data, field))
    h.kana_key = kana.sort_key(data.name_kana)


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
    return create_household(site, HouseholdIn.model_validate(fields))


def set_household(site: Site, person: Person, household: Household | None,
                  relationship: str | None = None) -> Person:
    """Move a person into a household (or out of any with None)."""
    with write_transaction():
        person.household = household
        if relationship is not None:
            person.relationship = relationship
        person.updated_at = dt.datetime.now(dt.UTC)
        person.save()
        site.hooks.person_changed(site=site, person=person, created=False)
    return person


def age_band(age: int | None) -> str | None:
    if age is None:
        return None
    for low, high in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return f"{low}–{high}" if high is not None else f"{low}+"
    return None


def age_band_counts(site: Site, day: dt.date) -> dict[str, int]:
    counts = {age_band(low): 0 for low, _ in AGE_BANDS}
    counts["?"] = 0
    for (birth,) in Person.select(Person.birth_date).where(Person.site == site).tuples():
        if birth is None:
            counts["?"] += 1
            continue
        age = day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
        counts[age_band(age)] += 1
    return counts


def person_out(p: Person, site_slug: str) -> PersonOut:
    return PersonOut(site=site_slug, **{f: getattr(p, f) for f in PersonOut.model_fields
                                        if f not in ("site", "household_id")},
                     household_id=p.household_id)


def household_out(h: Household, site_slug: str, member_ids: Iterable[int]) -> HouseholdOut:
    return HouseholdOut(id=h.id, site=site_slug, name=h.name, name_kana=h.name_kana,
                        postal_code=h.postal_code, address=h.address, phone=h.phone,
                        member_ids=list(member_ids))
