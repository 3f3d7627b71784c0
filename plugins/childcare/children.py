"""Children and guardians: plain functions over the models, no HTTP.

A child is a core ``Person`` under 18 with a ``Child`` record at the site. Guardians
are the adults (18 and over) of the child's household; registering a child makes each
of them an authorised pickup person. Other pickup people, emergency contacts, the
health notes (要配慮個人情報: callers check ``childcare.health`` first, every read is
logged) and after-school club enrolments hang off the child.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import peewee
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from hubcore import kana
from hubcore.audit.operations import record, sensitive_read
from hubcore.db import MAX_ID, get_in_site, is_postgres, like, write_transaction
from hubcore.errors import Invalid, NotFound
from hubcore.forms import nfkc
from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.people.models import Household, Person, age_on
from hubcore.people.operations import site_today
from hubcore.people.schemas import phone_number as core_phone
from hubcore.sites.models import Site
from plugins.childcare.ages import class_age
from plugins.childcare.models import Child, EmergencyContact, Enrolment, PickupPerson

ADULT_AGE = 18  # 成年: a child is under it, a guardian at or over it
SCHOOL_AGES = (6, 11)  # class ages of 小学1年 to 6年: who the after-school club is for
HEALTH = "childcare.health"  # the action that guards health notes, and what reads log


# --- what forms may contain ------------------------------------------------------------


def _title(model: type[BaseModel], info: ValidationInfo) -> str:
    return model.model_fields[info.field_name].title or info.field_name


def _clean(v):
    # Names and relations: full-width letters and digits to half-width, like core names.
    return nfkc(v)


def _strip(v):
    # Free text (how to recognise someone, allergies) is kept as typed: （） and ～ stay.
    return v.strip() if isinstance(v, str) else v


def _checkbox(v):
    # A ticked HTML checkbox sends "on"; anything else goes to pydantic's bool parsing.
    return True if v == "on" else v


_MONTH = re.compile(r"^(\d{4})[-/](\d{1,2})(?:[-/](\d{1,2}))?$")


def _month(v, label: str):
    """"2026-04" (an <input type=month>) or a date → the 1st of that month."""
    v = nfkc(v)
    if isinstance(v, str):
        m = _MONTH.match(v)
        try:
            if m is None:
                raise ValueError(v)
            year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)
            v = dt.date(year, month, day).replace(day=1)
        except ValueError:
            raise ValueError(_("{label} must be a month such as 2026-04.").format(
                label=_(label))) from None
    return v


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: int = Field(title=N_("Child"), ge=1, le=MAX_ID)
    photo_consent: bool = Field(False, title=N_("Photo consent"))

    _id = field_validator("person_id", mode="before")(lambda v: nfkc(v))
    _consent = field_validator("photo_consent", mode="before")(lambda v: _checkbox(v))


class ConsentIn(BaseModel):
    """The photo-consent box: unticked (or absent) is no consent, the safe default."""

    model_config = ConfigDict(extra="forbid")

    photo_consent: bool = Field(False, title=N_("Photo consent"))

    _consent = field_validator("photo_consent", mode="before")(lambda v: _checkbox(v))


class StatusIn(BaseModel):
    """Switching a child or a pickup person on or off: the form says which, explicitly."""

    model_config = ConfigDict(extra="forbid")

    active: bool = Field(title=N_("Status"))


class PickupChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("", title=N_("Name"), max_length=100)
    relation: str = Field("", title=N_("Relation to the child"), max_length=30)
    note: str = Field("", title=N_("How to recognise them"), max_length=200)
    phone: str = Field("", title=N_("Phone"), max_length=20)

    _names = field_validator("name", "relation", mode="before")(lambda v: _clean(v))
    _note = field_validator("note", mode="before")(lambda v: _strip(v))

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, v, info: ValidationInfo):
        return core_phone(v, _title(cls, info))


class PickupIn(PickupChangeIn):
    """A new pickup person: a household member (``person_id``) or a named outsider."""

    person_id: int | None = Field(None, title=N_("Household member"), ge=1, le=MAX_ID)

    _id = field_validator("person_id", mode="before")(lambda v: nfkc(v))


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(title=N_("Name"), min_length=1, max_length=100)
    relation: str = Field("", title=N_("Relation to the child"), max_length=30)
    phone: str = Field(title=N_("Phone"), min_length=1, max_length=20)
    # Called in this order; None: after the others.
    priority: int | None = Field(None, title=N_("Order"), ge=1, le=99)

    _names = field_validator("name", "relation", mode="before")(lambda v: _clean(v))
    _priority = field_validator("priority", mode="before")(lambda v: nfkc(v))

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, v, info: ValidationInfo):
        return core_phone(v, _title(cls, info))


class HealthIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allergies: str = Field("", title=N_("Allergies"), max_length=2000)
    medical_notes: str = Field("", title=N_("Medical notes"), max_length=2000)

    _text = field_validator("allergies", "medical_notes", mode="before")(lambda v: _strip(v))


class EnrolmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_month: dt.date = Field(title=N_("First month"))
    last_month: dt.date | None = Field(None, title=N_("Last month"))

    @field_validator("first_month", "last_month", mode="before")
    @classmethod
    def _parse(cls, v, info: ValidationInfo):
        return _month(v, _title(cls, info))

    _first = field_validator("first_month", "last_month")(
        lambda v: v.replace(day=1) if v is not None else v)


class EndEnrolmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    last_month: dt.date = Field(title=N_("Last month"))

    @field_validator("last_month", mode="before")
    @classmethod
    def _parse(cls, v, info: ValidationInfo):
        return _month(v, _title(cls, info))

    _first = field_validator("last_month")(lambda v: v.replace(day=1))


def _label(schema: type[BaseModel], field: str) -> str:
    return _(schema.model_fields[field].title)


def _binary(field):
    # 五十音 order is the code-point order of kana_key (see hubcore.people.operations).
    return field.collate('"C"') if is_postgres() else field


def _month_text(day: dt.date) -> str:
    return f"{day.year}-{day.month:02d}"


# --- children ------------------------------------------------------------------------


def is_minor(person: Person, day: dt.date) -> bool:
    """Under 18 on ``day`` (False without a birth date: we cannot tell)."""
    age = age_on(person.birth_date, day)
    return age is not None and age < ADULT_AGE


def get_child(site: Site, child_id) -> Child:
    """A child record of this site (registered or no longer), or NotFound."""
    return get_in_site(Child, site, child_id)


def child_of(site: Site, person: Person) -> Child | None:
    """The person's childcare record at this site, if any (also a deactivated one)."""
    return Child.get_or_none((Child.person == person) & (Child.site == site))


def list_children(site: Site, query: str = "", include_inactive: bool = False) -> list[Child]:
    """Children of the site in 五十音 order, filtered by a name in kanji or kana (spaces,
    hiragana/katakana and half-width differences ignored, as the core people list)."""
    q = (Child.select(Child, Person, Household)
         .join(Person).join(Household, peewee.JOIN.LEFT_OUTER)
         .where(Child.site == site))
    if not include_inactive:
        q = q.where(Child.active)
    if kana.normalize(query):
        q = q.where(like(Person.search_text, kana.like_pattern(query)))
    return list(q.order_by(_binary(Person.kana_key), Person.id))


def registrable_people(site: Site, day: dt.date | None = None) -> list[Person]:
    """People of the site under 18 who are not (or no longer) registered as children."""
    day = day or site_today(site)
    registered = Child.select(Child.person).where((Child.site == site) & Child.active)
    # A coarse bound in SQL, the exact birthday rule in Python (Feb 29 and the like).
    born_after = dt.date(day.year - ADULT_AGE - 1, 1, 1)
    q = (Person.select().where((Person.site == site) & (Person.birth_date > born_after)
                               & Person.id.not_in(registered))
         .order_by(_binary(Person.kana_key), Person.id))
    return [p for p in q if is_minor(p, day)]


def register_child(site: Site, person: Person, photo_consent: bool = False,
                   day: dt.date | None = None) -> Child:
    """Register a person of the site who is under 18 as a child, and make the adults of
    their household authorised pickup people, in one transaction.

    A child registered before and deactivated is registered again (same record, its
    history kept); an active registration is refused.
    """
    if person.site_id != site.id:
        raise NotFound(person.id)
    day = day or site_today(site)
    name = person.full_name
    age = person.age_on(day)
    label = _label(RegisterIn, "person_id")
    if age is None:
        raise Invalid({"person_id": _("{label}: {name} has no birth date. Record it on their "
                                      "page first.").format(label=label, name=name)})
    if age >= ADULT_AGE:
        raise Invalid({"person_id": _("{label}: {name} is {age}. Only people under 18 can be "
                                      "registered.").format(label=label, name=name, age=age)})
    already = Invalid({"person_id": _("{label}: {name} is already registered.").format(
        label=label, name=name)})
    try:
        with write_transaction():
            child = Child.get_or_none(Child.person == person)
            if child is not None and child.active:
                raise already
            if child is None:
                child = Child.create(site=site, person=person, photo_consent=photo_consent)
            else:
                child.active = True
                child.photo_consent = photo_consent
                child.save()
            for guardian in guardians_of(child, day):
                _ensure_household_pickup(child, guardian)
    except peewee.IntegrityError:  # registered at the same moment by someone else
        raise already from None
    return child


def set_photo_consent(site: Site, child: Child, consent: bool) -> Child:
    _same_site(site, child)
    with write_transaction():
        child.photo_consent = consent
        Child.update(photo_consent=consent).where(Child.id == child.id).execute()
    return child


def set_child_active(site: Site, child: Child, active: bool) -> Child:
    """Deactivate a child who no longer comes (the record and its history stay), or
    take them back. Idempotent."""
    _same_site(site, child)
    with write_transaction():
        child.active = active
        Child.update(active=active).where(Child.id == child.id).execute()
    return child


def deactivate_child(site: Site, child: Child) -> Child:
    return set_child_active(site, child, False)


def _same_site(site: Site, child: Child) -> None:
    # Callers fetch the child through the site; this keeps a slip from crossing sites.
    if child.site_id != site.id:
        raise NotFound(child.id)


def guardians_of(child: Child, day: dt.date | None = None) -> list[Person]:
    """The adults (18 and over on ``day``) of the child's household, oldest first.

    Someone without a birth date is not counted: we cannot tell they are an adult.
    """
    person = child.person
    if person.household_id is None:
        return []
    day = day or site_today(child.site)
    members = (Person.select()
               .where((Person.household == person.household_id) & (Person.id != person.id))
               .order_by(Person.birth_date.asc(nulls="LAST"), Person.id))
    return [m for m in members if (a := m.age_on(day)) is not None and a >= ADULT_AGE]


def household_members(child: Child) -> list[Person]:
    """Everyone of the child's household but the child, oldest first."""
    person = child.person
    if person.household_id is None:
        return []
    return list(Person.select()
                .where((Person.household == person.household_id) & (Person.id != person.id))
                .order_by(Person.birth_date.asc(nulls="LAST"), Person.id))


def class_age_of(child: Child, day: dt.date) -> int | None:
    return class_age(child.person.birth_date, day)


# --- pickup people ---------------------------------------------------------------------


def pickup_people(child: Child) -> list[PickupPerson]:
    """All pickup people of the child, authorised ones first (the others are history)."""
    return list(PickupPerson.select().where(PickupPerson.child == child)
                .order_by(PickupPerson.active.desc(), PickupPerson.id))


def authorised_pickups(child: Child | int) -> list[PickupPerson]:
    """Who may collect the child now: the active pickup people, in the order added."""
    return list(PickupPerson.select()
                .where((PickupPerson.child == child) & PickupPerson.active)
                .order_by(PickupPerson.id))


def get_pickup(child: Child, pickup_id) -> PickupPerson:
    """A pickup person of this child, or NotFound (also for another child's)."""
    return _get_of_child(PickupPerson, child, pickup_id)


def _get_of_child(model, child: Child, raw_id):
    text = str(raw_id)
    if not (text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID):
        raise NotFound(raw_id)
    row = model.get_or_none((model.id == int(text)) & (model.child == child))
    if row is None:
        raise NotFound(raw_id)
    return row


def _ensure_household_pickup(child: Child, person: Person, relation: str | None = None,
                             note: str = "", phone: str = "") -> PickupPerson:
    """The household member as an active pickup person: added, or taken back if they
    were deactivated. One row per person and child, so history stays on it."""
    row = PickupPerson.get_or_none((PickupPerson.child == child)
                                   & (PickupPerson.person == person))
    if row is None:
        row = PickupPerson(child=child, person=person)
    row.name = person.full_name[:100]
    row.relation = (relation if relation else person.relationship)[:30]
    row.note = note or row.note
    row.phone = phone or row.phone or person.phone
    row.active = True
    row.save()
    return row


def add_pickup(site: Site, child: Child, data: PickupIn) -> PickupPerson:
    """Authorise someone to collect the child: a member of the child's household (name
    from their record, relation their household relationship unless given) or a named
    outsider with their relation to the child."""
    _same_site(site, child)
    with write_transaction():
        if data.person_id is not None:
            member = next((m for m in household_members(child) if m.id == data.person_id), None)
            if member is None:
                raise Invalid({"person_id": _("{label}: choose someone of the child's "
                                              "household.").format(
                    label=_label(PickupIn, "person_id"))})
            existing = PickupPerson.get_or_none((PickupPerson.child == child)
                                                & (PickupPerson.person == member)
                                                & PickupPerson.active)
            if existing is not None:
                raise Invalid({"person_id": _("{label}: {name} may already pick the child "
                                              "up.").format(label=_label(PickupIn, "person_id"),
                                                            name=member.full_name)})
            return _ensure_household_pickup(child, member, data.relation, data.note, data.phone)
        errors = {}
        if not data.name:
            errors["name"] = _("{label} is required.").format(label=_label(PickupIn, "name"))
        if not data.relation:
            errors["relation"] = _("{label} is required.").format(
                label=_label(PickupIn, "relation"))
        if errors:
            raise Invalid(errors)
        same = PickupPerson.get_or_none((PickupPerson.child == child)
                                        & PickupPerson.person.is_null()
                                        & (PickupPerson.name == data.name) & PickupPerson.active)
        if same is not None:
            raise Invalid({"name": _("{label}: {name} may already pick the child up.").format(
                label=_label(PickupIn, "name"), name=data.name)})
        return PickupPerson.create(child=child, name=data.name, relation=data.relation,
                                   note=data.note, phone=data.phone)


def change_pickup(site: Site, pickup: PickupPerson, data: PickupChangeIn) -> PickupPerson:
    """Change relation, note and phone (and the name of an outsider; a household member's
    name comes from their record)."""
    _same_site(site, pickup.child)
    errors = {}
    if pickup.person_id is None and not data.name:
        errors["name"] = _("{label} is required.").format(label=_label(PickupChangeIn, "name"))
    if not data.relation and pickup.person_id is None:
        errors["relation"] = _("{label} is required.").format(
            label=_label(PickupChangeIn, "relation"))
    if errors:
        raise Invalid(errors)
    with write_transaction():
        pickup.name = pickup.person.full_name[:100] if pickup.person_id else data.name
        pickup.relation = data.relation
        pickup.note = data.note
        pickup.phone = data.phone
        pickup.save(only=[PickupPerson.name, PickupPerson.relation, PickupPerson.note,
                          PickupPerson.phone])
    return pickup


def set_pickup_active(site: Site, pickup: PickupPerson, active: bool) -> PickupPerson:
    """No longer authorised (or again). The row stays: attendance records who collected
    a child by pointing at it. Idempotent."""
    _same_site(site, pickup.child)
    with write_transaction():
        pickup.active = active
        PickupPerson.update(active=active).where(PickupPerson.id == pickup.id).execute()
    return pickup


def deactivate_pickup(site: Site, pickup: PickupPerson) -> PickupPerson:
    return set_pickup_active(site, pickup, False)


# --- emergency contacts ----------------------------------------------------------------


def emergency_contacts(child: Child) -> list[EmergencyContact]:
    """In the order they are called."""
    return list(EmergencyContact.select().where(EmergencyContact.child == child)
                .order_by(EmergencyContact.priority, EmergencyContact.id))


def get_contact(child: Child, contact_id) -> EmergencyContact:
    return _get_of_child(EmergencyContact, child, contact_id)


def add_contact(site: Site, child: Child, data: ContactIn) -> EmergencyContact:
    """Add a contact at position ``priority`` (the others move down), or after the others."""
    _same_site(site, child)
    with write_transaction():
        contact = EmergencyContact.create(child=child, name=data.name, relation=data.relation,
                                          phone=data.phone, priority=99)
        _renumber(child, contact, data.priority)
    return contact


def change_contact(site: Site, contact: EmergencyContact, data: ContactIn) -> EmergencyContact:
    """Change a contact; a new ``priority`` moves it to that position."""
    _same_site(site, contact.child)
    with write_transaction():
        contact.name = data.name
        contact.relation = data.relation
        contact.phone = data.phone
        # Only these: the priority in hand may be stale after another contact moved.
        contact.save(only=[EmergencyContact.name, EmergencyContact.relation,
                           EmergencyContact.phone])
        if data.priority is not None:
            _renumber(contact.child, contact, data.priority)
    return contact


def remove_contact(site: Site, contact: EmergencyContact) -> None:
    _same_site(site, contact.child)
    with write_transaction():
        EmergencyContact.delete().where(EmergencyContact.id == contact.id).execute()
        _renumber(contact.child)


def _renumber(child: Child, moved: EmergencyContact | None = None,
              position: int | None = None) -> None:
    """Number the child's contacts 1, 2, 3… in calling order, ``moved`` at ``position``
    (None: last), so the order shown is the order stored, without ties."""
    rows = [c for c in emergency_contacts(child) if moved is None or c.id != moved.id]
    if moved is not None:
        at = len(rows) if position is None else min(max(position, 1) - 1, len(rows))
        rows.insert(at, moved)
    for number, row in enumerate(rows, start=1):
        if row.priority != number:
            row.priority = number
            EmergencyContact.update(priority=number).where(
                EmergencyContact.id == row.id).execute()


# --- health notes (要配慮個人情報) ------------------------------------------------------


@dataclass(frozen=True)
class Health:
    allergies: str
    medical_notes: str

    @property
    def empty(self) -> bool:
        return not (self.allergies or self.medical_notes)


def read_health(site: Site, child: Child) -> Health:
    """The child's allergies and medical notes, logged as a sensitive read.

    Call it only where they are shown, after checking ``childcare.health``.
    """
    _same_site(site, child)
    sensitive_read(site, f"person:{child.person_id}", HEALTH)
    return Health(child.allergies, child.medical_notes)


def update_health(site: Site, child: Child, data: HealthIn) -> Child:
    """Change the health notes; the audit log says which changed (never what they say)."""
    _same_site(site, child)
    changed = [f for f in ("allergies", "medical_notes") if getattr(child, f) != getattr(data, f)]
    if not changed:
        return child
    with write_transaction():
        child.allergies = data.allergies
        child.medical_notes = data.medical_notes
        Child.update(allergies=data.allergies, medical_notes=data.medical_notes).where(
            Child.id == child.id).execute()
        record("childcare.health_changed", site=site, subject=f"person:{child.person_id}",
               detail={"fields": changed})
    return child


# --- after-school club enrolments ------------------------------------------------------


def enrolments(child: Child) -> list[Enrolment]:
    """The child's enrolments, the latest first."""
    return list(Enrolment.select().where(Enrolment.child == child)
                .order_by(Enrolment.first_month.desc(), Enrolment.id.desc()))


def get_enrolment(site: Site, child: Child, enrolment_id) -> Enrolment:
    row = get_in_site(Enrolment, site, enrolment_id)
    if row.child_id != child.id:
        raise NotFound(enrolment_id)
    return row


def _covers(month: dt.date):
    return (Enrolment.first_month <= month) & (
        Enrolment.last_month.is_null() | (Enrolment.last_month >= month))


def current_enrolment(child: Child, month: dt.date) -> Enrolment | None:
    """The enrolment covering ``month`` (any day of it), if any."""
    return Enrolment.get_or_none((Enrolment.child == child) & _covers(month.replace(day=1)))


def enrolled_children(site: Site, month: dt.date) -> list[Child]:
    """Children enrolled in the after-school club in ``month``, in 五十音 order; a child
    deactivated since is still listed for a month they were enrolled in (billing)."""
    month = month.replace(day=1)
    enrolled = Enrolment.select(Enrolment.child).where((Enrolment.site == site)
                                                        & _covers(month))
    return list(Child.select(Child, Person).join(Person)
                .where((Child.site == site) & Child.id.in_(enrolled))
                .order_by(_binary(Person.kana_key), Person.id))


def _lock_child(child: Child) -> None:
    # SQLite's write transaction is IMMEDIATE already; PostgreSQL needs the row lock so two
    # enrolments of one child cannot both pass the overlap check.
    if is_postgres():
        Child.select(Child.id).where(Child.id == child.id).for_update().get()


def _overlapping(child: Child, first: dt.date, last: dt.date | None,
                 skip: int | None = None) -> Enrolment | None:
    q = Enrolment.select().where(
        (Enrolment.child == child)
        & (Enrolment.last_month.is_null() | (Enrolment.last_month >= first)))
    if last is not None:
        q = q.where(Enrolment.first_month <= last)
    if skip is not None:
        q = q.where(Enrolment.id != skip)
    return q.order_by(Enrolment.first_month).first()


def _school_age_errors(child: Child, first: dt.date, last: dt.date | None) -> dict[str, str]:
    person = child.person
    birth = person.birth_date
    if birth is None:
        return {"first_month": _("{name} has no birth date: the after-school club is for "
                                 "school children (1st to 6th grade).").format(
            name=person.full_name)}
    low, high = SCHOOL_AGES
    start_age = class_age(birth, first)
    if not low <= start_age <= high:
        return {"first_month": _("{label}: the after-school club is for school children (1st to "
                                 "6th grade, class age 6 to 11); in {month} {name} is in class "
                                 "age {age}.").format(label=_label(EnrolmentIn, "first_month"),
                                                      month=_month_text(first),
                                                      name=person.full_name, age=start_age)}
    if last is not None and class_age(birth, last) > high:
        return {"last_month": _("{label}: the after-school club is for school children; {name} "
                                "finishes 6th grade in March {year}.").format(
            label=_label(EnrolmentIn, "last_month"), name=person.full_name,
            year=_sixth_grade_ends(birth))}
    return {}


def _sixth_grade_ends(birth: dt.date) -> int:
    """The year in whose March the child finishes 6th grade (class age 11)."""
    year = birth.year + SCHOOL_AGES[1]
    if class_age(birth, dt.date(year, 4, 1)) < SCHOOL_AGES[1]:
        year += 1
    return year + 1


def enrol(site: Site, child: Child, data: EnrolmentIn) -> Enrolment:
    """Enrol the child in the after-school club from ``first_month`` (to ``last_month``,
    or open). School children only; one enrolment at a time."""
    _same_site(site, child)
    if not child.active:
        raise Invalid({"first_month": _("{name} is no longer registered: register them again "
                                        "first.").format(name=child.person.full_name)})
    if data.last_month is not None and data.last_month < data.first_month:
        raise Invalid({"last_month": _("{label} must be on or after the first month.").format(
            label=_label(EnrolmentIn, "last_month"))})
    errors = _school_age_errors(child, data.first_month, data.last_month)
    if errors:
        raise Invalid(errors)
    with write_transaction():
        _lock_child(child)
        other = _overlapping(child, data.first_month, data.last_month)
        if other is not None:
            raise Invalid({"first_month": _overlap_message(other)})
        return Enrolment.create(site=site, child=child, first_month=data.first_month,
                                last_month=data.last_month)


def _overlap_message(other: Enrolment) -> str:
    until = _month_text(other.last_month) if other.last_month else _("open-ended")
    return _("The child is already enrolled from {first} to {last}: end that enrolment "
             "first, or choose months after it.").format(first=_month_text(other.first_month),
                                                         last=until)


def end_enrolment(site: Site, enrolment: Enrolment, last_month: dt.date) -> Enrolment:
    """Set the last month of an enrolment (ending it, or moving its end)."""
    child = enrolment.child
    _same_site(site, child)
    last_month = last_month.replace(day=1)
    if last_month < enrolment.first_month:
        raise Invalid({"last_month": _("{label} must be on or after the first month "
                                       "({month}).").format(
            label=_label(EndEnrolmentIn, "last_month"),
            month=_month_text(enrolment.first_month))})
    with write_transaction():
        _lock_child(child)
        other = _overlapping(child, enrolment.first_month, last_month, skip=enrolment.id)
        if other is not None:
            raise Invalid({"last_month": _overlap_message(other)})
        enrolment.last_month = last_month
        Enrolment.update(last_month=last_month).where(Enrolment.id == enrolment.id).execute()
    return enrolment


# --- a person's ties, for the person page -------------------------------------------------


def children_picked_up_by(site: Site, person: Person) -> list[Child]:
    """Registered children this person is authorised to collect."""
    return list(Child.select(Child, Person)
                .join(PickupPerson, on=(PickupPerson.child == Child.id))
                .switch(Child).join(Person)
                .where((Child.site == site) & Child.active & PickupPerson.active
                       & (PickupPerson.person == person))
                .order_by(_binary(Person.kana_key), Person.id))
